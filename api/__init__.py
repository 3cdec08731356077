"""REST API (JSON). Every route declares its access rule and its OpenAPI description."""

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api")

from api import (  # noqa: E402,F401  (routes register on import)
    account,
    audit,
    break_glass,
    cases,
    chronology,
    documents,
    finance,
    notes,
    openapi,
    pds,
    people,
    relationships,
    users,
)

__all__ = ["blueprint"]
