"""Before/after request hooks: identify the caller, check CSRF and the route's access rule, set headers."""

from __future__ import annotations

import hmac
import secrets
import time

from flask import Flask, current_app, g, request, session

from casework.accounts.models import User
from casework.auth.access import PUBLIC, Actor, access_rule
from casework.auth.tokens import user_for_token
from casework.errors import BadRequest, Forbidden, Unauthorized
from casework.web import ratelimit
from casework.web.context import close_db_session, db_session

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def start_session(user: User) -> None:
    """A fresh session on sign-in (a new CSRF token too: no session fixation)."""
    session.clear()
    now = int(time.time())
    session.update(uid=user.id, epoch=user.session_epoch, issued=now, seen=now, csrf=secrets.token_urlsafe(32))
    session.permanent = True


def begin_second_factor(user: User) -> None:
    """Password accepted, second factor still to come: a fresh session that is NOT signed in."""
    session.clear()
    session.update(mfa_uid=user.id, mfa_epoch=user.session_epoch, mfa_started=int(time.time()),
                   csrf=secrets.token_urlsafe(32))


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _load_actor() -> None:
    g.actor = None
    g.auth_method = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(db_session(), header[7:].strip())
        if user is None:
            raise Unauthorized("The API token is missing, expired or revoked", code="invalid_token")
        db_session().commit()  # records last_used_at
        g.actor, g.auth_method = Actor.from_user(user), "token"
        return
    uid = session.get("uid")
    if uid is None:
        return
    settings = current_app.config["SETTINGS"]
    now = int(time.time())
    expired = (
        now - session.get("seen", 0) > settings.session_idle_minutes * 60
        or now - session.get("issued", 0) > settings.session_max_hours * 3600
    )
    user = db_session().get(User, uid)
    if expired or user is None or not user.active or user.session_epoch != session.get("epoch"):
        session.pop("uid", None)
        g.session_expired = True
        return
    session["seen"] = now
    g.actor, g.auth_method = Actor.from_user(user), "session"


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or g.auth_method == "token":
        return
    sent = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None)
    expected = session.get("csrf")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise BadRequest(
            "This form has expired. Go back, reload the page and try again.", code="csrf_failed"
        )


def _enforce_access() -> None:
    if request.endpoint is None or request.endpoint == "static":
        return  # unknown URL (404 follows) or vendored assets
    view = current_app.view_functions[request.endpoint]
    rule = access_rule(view)
    if rule is None:
        current_app.logger.error("route %s has no access rule; refused", request.endpoint)
        raise Forbidden("This page is not available")
    if rule == PUBLIC:
        return
    actor = g.actor
    if actor is None:
        raise Unauthorized("Sign in to continue")
    if isinstance(rule, frozenset) and not rule <= actor.permissions:
        raise Forbidden("You do not have permission to see this page or do this")


def _security_headers(response):  # type: ignore[no-untyped-def]
    nonce = g.get("csp_nonce", "")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if g.get("actor") is not None and request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if g.get("retry_after"):
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def install(app: Flask) -> None:
    @app.before_request
    def _before() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)
        ratelimit.check(app)  # before any database work: a flood costs us as little as possible
        _load_actor()
        _enforce_access()  # before CSRF, so an anonymous caller hears "sign in" rather than "stale form"
        _check_csrf()

    app.after_request(_security_headers)
    if app.config["SETTINGS"].trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["SETTINGS"].trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.teardown_appcontext(close_db_session)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["errors_to_list"] = errors_to_list


def errors_to_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """Field errors -> GOV.UK error summary items linking to each field."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]
