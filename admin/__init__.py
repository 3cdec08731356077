"""Configurator and administrator UI."""

from admin.views import blueprint

__all__ = ["blueprint"]
