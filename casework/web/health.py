"""Liveness and readiness for the council's monitoring."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from casework.auth.access import public
from casework.db import current_revision
from casework.extensions import database
from casework.web.context import db_session

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
@public
def healthz():  # type: ignore[no-untyped-def]
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@blueprint.get("/readyz")
@public
def readyz():  # type: ignore[no-untyped-def]
    try:
        assert database.engine is not None
        current, head = current_revision(database.engine)
    except SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable"), 503
    if current != head:
        return jsonify(status="not_ready", reason=f"database at {current}, code needs {head}: run casework init"), 503
    return jsonify(status="ready", revision=current)
