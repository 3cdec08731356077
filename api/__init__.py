"""REST API (JSON). Every route declares its access rule and its OpenAPI description."""

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api")

from api import account, finance, openapi, users  # noqa: E402,F401  (routes register on import)
from api import cases, chronology, documents, notes, people, relationships  # noqa: E402,F401  (case record)

__all__ = ["blueprint"]
