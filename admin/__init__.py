"""Configurator and administrator UI."""

from admin import audit_views  # noqa: F401  (routes register on import)
from admin.views import blueprint

__all__ = ["blueprint"]
