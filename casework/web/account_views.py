"""Second factor at sign-in, and the user's own account security: password, two-step, sign out everywhere."""

from __future__ import annotations

import time

from flask import current_app, redirect, render_template, request, session, url_for

from casework import audit
from casework.accounts.models import User
from casework.audit import AuditAction
from casework.auth import totp
from casework.auth.access import login_required, public
from casework.auth.login import count_failure, is_locked, mark_signed_in
from casework.auth.passwords import check_password_rules, hash_password, verify_password
from casework.db import utcnow
from casework.errors import Invalid
from casework.web.auth_views import blueprint, safe_next
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav
from casework.web.pipeline import start_session

SECOND_FACTOR_SECONDS = 300
CODE_FAILURE = "Enter the current 6-digit code from your authenticator app"
register_nav(NavEntry("Your account", "auth.account", None, order=200))


def _pending_user() -> User | None:
    uid, started = session.get("mfa_uid"), session.get("mfa_started", 0)
    if uid is None or time.time() - started > SECOND_FACTOR_SECONDS:
        return None
    user = db_session().get(User, uid)
    if user is None or not user.active or user.session_epoch != session.get("mfa_epoch"):
        return None
    return user


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@public
def sign_in_code():  # type: ignore[no-untyped-def]
    nxt = request.values.get("next")
    user = _pending_user()
    if user is None:
        session.pop("mfa_uid", None)
        return redirect(url_for("auth.login", expired=1))
    if request.method == "GET":
        return render_template("auth/code.html", title="Enter your code", errors={}, next=nxt)
    settings = current_app.config["SETTINGS"]
    s, now = db_session(), utcnow()
    code = request.form.get("code", "")
    if not is_locked(user, now) and totp.verify_code(s, user, code):
        mark_signed_in(user, now)
        audit.record(s, user, AuditAction.SIGN_IN, record_type="user", record_id=user.id, fields=["totp"])
        s.commit()
        start_session(user)
        return redirect(safe_next(nxt))
    count_failure(user, now=now, max_failures=settings.login_max_failures)
    audit.record(s, None, AuditAction.SIGN_IN_FAILED, record_type="user", record_id=user.id, fields=["totp"])
    s.commit()
    if is_locked(user, now):
        session.pop("mfa_uid", None)
    return render_template("auth/code.html", title="Enter your code", errors={"code": CODE_FAILURE},
                           next=nxt), 401


def _me() -> User:
    user = db_session().get(User, current_actor().user_id)
    assert user is not None  # the pipeline loaded this very user for the request
    return user


def _account_page(errors: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    uid = current_actor().user_id
    return render_template("account/security.html", title="Your account", errors=errors,
                           two_step=totp.is_enabled(db_session(), uid),
                           replacing=totp.is_replacing(db_session(), uid)), status


@blueprint.get("/account")
@login_required
def account():  # type: ignore[no-untyped-def]
    return _account_page({})


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("account/password.html", title="Change your password", errors={})
    user, s = _me(), db_session()
    current, new, confirm = (request.form.get(k, "") for k in ("current_password", "new_password", "confirm"))
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        errors["current_password"] = "Enter your current password"
    elif new != confirm:
        errors["confirm"] = "The new passwords do not match"
    elif new == current:
        errors["new_password"] = "Choose a password you have not used here just now"
    else:
        try:
            check_password_rules(new, username=user.username)
        except Invalid as exc:
            errors["new_password"] = exc.details["password"]
    if errors:
        return render_template("account/password.html", title="Change your password", errors=errors), 422
    user.password_hash = hash_password(new)
    user.session_epoch += 1  # every other session of this user ends; this one is re-issued below
    audit.record(s, user, AuditAction.PASSWORD_CHANGE, record_type="user", record_id=user.id, fields=["password"])
    s.commit()
    start_session(user)
    return render_template("account/done.html", title="Password changed",
                           message="Your password has been changed. You have been signed out everywhere else.")


@blueprint.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():  # type: ignore[no-untyped-def]
    user, s = _me(), db_session()
    user.session_epoch += 1
    audit.record(s, user, AuditAction.SIGN_OUT_EVERYWHERE, record_type="user", record_id=user.id)
    s.commit()
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.post("/account/two-step")
@login_required
def two_step_start():  # type: ignore[no-untyped-def]
    user, s = _me(), db_session()
    replacing = totp.is_enabled(s, user.id)
    try:  # re-authentication first: the current password, and the current code when two-step is on
        secret, uri = totp.begin_enrolment(
            s, user, password=request.form.get("current_password", ""), code=request.form.get("current_code"),
            max_failures=current_app.config["SETTINGS"].login_max_failures)
    except Invalid as exc:
        audit.record(s, user, AuditAction.SIGN_IN_FAILED, record_type="user", record_id=user.id,
                     fields=sorted(exc.details), reason="re-authentication to change two-step verification")
        s.commit()  # the counted failure and its audit entry; nothing else changed
        return _account_page(exc.details, 422)
    s.commit()
    # shown once, in this response only (never on a GET), and never cached
    return render_template("account/two_step.html", title="Set up two-step verification", errors={},
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), uri=uri,
                           replacing=replacing)


@blueprint.post("/account/two-step/confirm")
@login_required
def two_step_confirm():  # type: ignore[no-untyped-def]
    user, s = _me(), db_session()
    replacing = totp.is_replacing(s, user.id)
    try:
        replaced = totp.confirm_enrolment(s, user, request.form.get("code", ""))
    except Invalid as exc:
        s.commit()  # keeps the used-step marker
        return render_template("account/two_step.html", title="Set up two-step verification",
                               errors=exc.details, secret=None, uri=None, replacing=replacing), 422
    audit.record(s, user, AuditAction.TOTP_CHANGE, record_type="user", record_id=user.id, fields=["totp"],
                 reason="replaced by the user" if replaced else None)
    s.commit()
    if replaced:
        return render_template("account/done.html", title="Two-step verification app replaced",
                               message="From now on use the code from your new app. Codes from the old one no "
                                       "longer work.")
    return render_template("account/done.html", title="Two-step verification is on",
                           message="From now on you will be asked for a code from your app when you sign in.")
