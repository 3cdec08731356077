"""Sign in with the council's identity provider (OpenID Connect)."""

from __future__ import annotations

from authlib.common.errors import AuthlibBaseError
from flask import current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError
from requests import RequestException

from casework import audit
from casework.audit import AuditAction
from casework.auth import oidc
from casework.auth.access import public
from casework.errors import NotFound
from casework.web.auth_views import blueprint, safe_next
from casework.web.context import db_session
from casework.web.pipeline import start_session


def _settings():  # type: ignore[no-untyped-def]
    settings = current_app.config["SETTINGS"]
    if not oidc.is_configured(settings):
        raise NotFound("Sign-in with a council account is not set up")
    return settings


@blueprint.get("/sign-in/oidc")
@public
def oidc_start():  # type: ignore[no-untyped-def]
    _settings()
    session["oidc_next"] = safe_next(request.args.get("next"))
    client = oidc.client_for(current_app)
    return client.authorize_redirect(url_for("auth.oidc_callback", _external=True), nonce=oidc.new_nonce())


def _refuse(reason: str, message: str, user_id: int | None = None):  # type: ignore[no-untyped-def]
    s = db_session()
    s.rollback()  # nothing from the failed attempt (e.g. a role sync) is kept
    audit.record(s, None, AuditAction.SIGN_IN_FAILED, record_type="user", record_id=user_id,
                 fields=["oidc"], reason=reason)
    s.commit()
    current_app.logger.warning("oidc sign-in refused: %s", reason)
    return render_template("auth/oidc_failed.html", title="You could not be signed in", message=message), 401


@blueprint.get("/sign-in/oidc/callback")
@public
def oidc_callback():  # type: ignore[no-untyped-def]
    settings = _settings()
    client = oidc.client_for(current_app)
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError) as exc:
        return _refuse(f"protocol: {str(exc)[:200]}", "Sign-in with your council account did not complete. Try again.")
    except RequestException as exc:
        return _refuse(f"provider unreachable: {type(exc).__name__}",
                       "The council's sign-in service did not answer. Try again in a few minutes.")
    claims = token.get("userinfo")
    if not claims:
        return _refuse("protocol: no id_token", "Sign-in with your council account did not complete. Try again.")
    s = db_session()
    try:
        user = oidc.resolve_user(s, dict(claims), settings)
    except oidc.OidcRefused as exc:
        return _refuse(exc.reason, exc.message)
    nxt = session.pop("oidc_next", None)
    audit.record(s, user, AuditAction.SIGN_IN, record_type="user", record_id=user.id, fields=["oidc"])
    s.commit()
    start_session(user)
    current_app.logger.info("sign-in user_id=%s via oidc", user.id)
    return redirect(safe_next(nxt))
