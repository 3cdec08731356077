"""Practitioner and manager workspace (GOV.UK Design System, server-rendered)."""

from workspace.views import blueprint

__all__ = ["blueprint"]
