"""Sign in and sign out (local accounts)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from casework import audit
from casework.accounts.models import User
from casework.audit import AuditAction
from casework.auth import totp
from casework.auth.access import login_required, public
from casework.auth.login import GENERIC_FAILURE, authenticate
from casework.db import utcnow
from casework.web.context import db_session, optional_actor
from casework.web.pipeline import begin_second_factor, start_session

blueprint = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("workspace.home")


@blueprint.route("/sign-in", methods=["GET", "POST"])
@public
def login():  # type: ignore[no-untyped-def]
    nxt = request.values.get("next")
    if request.method == "GET":
        if optional_actor() is not None:
            return redirect(safe_next(nxt))
        expired = request.args.get("expired") == "1"
        return render_template("auth/login.html", errors={}, username="", next=nxt, expired=expired)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    if not errors:
        session_ = db_session()
        settings = current_app.config["SETTINGS"]
        user = authenticate(session_, username, password, now=utcnow(), max_failures=settings.login_max_failures)
        if user is not None and totp.is_enabled(session_, user.id):
            session_.commit()
            begin_second_factor(user)
            return redirect(url_for("auth.sign_in_code", next=nxt))
        if user is not None:
            audit.record(session_, user, AuditAction.SIGN_IN, record_type="user", record_id=user.id)
            session_.commit()
            start_session(user)
            current_app.logger.info("sign-in user_id=%s", user.id)
            return redirect(safe_next(nxt))
        # only a known account's id is recorded: a mistyped password in the username box never reaches the log
        known = session_.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
        audit.record(session_, None, AuditAction.SIGN_IN_FAILED, record_type="user", record_id=known)
        session_.commit()  # keeps the failure count (and the audit entry)
        errors["username"] = GENERIC_FAILURE
    status = 401 if "username" in errors and username and password else 422
    return render_template("auth/login.html", errors=errors, username=username, next=nxt), status


@blueprint.post("/sign-out")
@login_required
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    return redirect(url_for("auth.login"))


from casework.web import account_views, oidc_views  # noqa: E402,F401  (more pages on this blueprint)
