"""Sign in and sign out (local accounts)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from casework.auth.access import login_required, public
from casework.auth.login import GENERIC_FAILURE, authenticate
from casework.db import utcnow
from casework.web.context import db_session, optional_actor
from casework.web.pipeline import start_session

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("workspace.home")


@blueprint.route("/sign-in", methods=["GET", "POST"])
@public
def login():  # type: ignore[no-untyped-def]
    nxt = request.values.get("next")
    if request.method == "GET":
        if optional_actor() is not None:
            return redirect(_safe_next(nxt))
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
        session_.commit()  # keeps the failure count (or the reset) whatever happens next
        if user is not None:
            start_session(user)
            current_app.logger.info("sign-in user_id=%s", user.id)
            return redirect(_safe_next(nxt))
        errors["username"] = GENERIC_FAILURE
    status = 401 if "username" in errors and username and password else 422
    return render_template("auth/login.html", errors=errors, username=username, next=nxt), status


@blueprint.post("/sign-out")
@login_required
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    return redirect(url_for("auth.login"))
