"""Practitioner and manager workspace (GOV.UK Design System, server-rendered)."""

from workspace import task_views  # noqa: F401  (registers the task routes on the blueprint)
from workspace.views import blueprint

__all__ = ["blueprint"]
