"""The one place where exceptions become responses: JSON for the API, GOV.UK pages for people."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from casework.errors import DomainError, Unauthorized

# engine/ has its own exception classes (it must not import casework); map them by name.
ENGINE_STATUS = {
    "NotFound": (404, "not_found"),
    "Conflict": (409, "conflict"),
    "Invalid": (422, "invalid"),
    "Forbidden": (403, "forbidden"),
    "ScriptError": (422, "script_error"),
    "IncidentError": (409, "incident"),
}
TITLES = {
    400: "There is a problem with the request",
    401: "Sign in to continue",
    403: "You do not have access to this",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Somebody else changed this first",
    413: "The file is too large",
    422: "Check what you entered",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    if wants_json():
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        return jsonify(body), status
    return (
        render_template("error.html", status=status, title=TITLES.get(status, TITLES[400]), message=message,
                        details=details or {}),
        status,
    )


def _engine_error(exc: Exception):  # type: ignore[no-untyped-def]
    status, code = ENGINE_STATUS.get(type(exc).__name__, (500, "engine_error"))
    details = dict(getattr(exc, "details", None) or {})
    problems = getattr(exc, "problems", None)
    if problems:
        details["problems"] = [str(p) for p in problems]
    if status >= 500:
        current_app.logger.error("engine error: %s", exc)
        return error_response(500, "internal_error", "Something went wrong. Nothing was saved; try again later.")
    return error_response(status, code, str(exc), details)


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):  # type: ignore[no-untyped-def]
        if isinstance(exc, Unauthorized) and not wants_json():
            nxt = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.login", next=nxt, expired=1 if g.get("session_expired") else None))
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(ValidationError)
    def _marshmallow(exc: ValidationError):  # type: ignore[no-untyped-def]
        return error_response(422, "invalid", "The request body is not valid", _flatten(exc.messages))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description if status != 404 else "There is nothing at this address"
        return error_response(status, code, message or TITLES.get(status, ""))

    try:
        from engine.errors import EngineError
    except ImportError:  # engine not installed in this build
        pass
    else:
        app.register_error_handler(EngineError, _engine_error)

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):  # type: ignore[no-untyped-def]
        # services check uniqueness first; two people saving the same thing at the same moment still meet the
        # database's constraint at commit: a conflict to retry, not a server error (nothing was saved)
        session = g.get("db_session")
        if session is not None:
            session.rollback()  # the failed transaction must not serve the error page's own queries
        app.logger.warning("integrity error on %s %s: %s", request.method, request.path, exc.orig)
        return error_response(409, "conflict", "Someone else saved a record that clashes with this one at the "
                              "same moment. Nothing was saved: check the record and try again.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong. Nothing was saved; try again later.")


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}{key}." if prefix or key != "_schema" else ""))
    elif isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            flat[prefix.rstrip(".") or "_body"] = " ".join(messages)
        else:
            for index, item in enumerate(messages):
                flat.update(_flatten(item, f"{prefix}{index}."))
    else:
        flat[prefix.rstrip(".") or "_body"] = str(messages)
    return flat
