"""Practitioner and manager workspace (GOV.UK Design System, server-rendered)."""

from workspace import (  # noqa: F401  (register their routes on the blueprint)
    break_glass_views,
    case_record_views,
    dashboard,
    finance_provider_views,
    finance_views,
    people_new_views,
    record_views,
    returns_views,
    task_views,
)
from workspace.views import blueprint

__all__ = ["blueprint"]
