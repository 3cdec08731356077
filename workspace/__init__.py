"""Practitioner and manager workspace (GOV.UK Design System, server-rendered)."""

from workspace import dashboard, record_views, task_views  # noqa: F401  (register their routes on the blueprint)
from workspace.views import blueprint

__all__ = ["blueprint"]
