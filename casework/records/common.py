"""Helpers shared by the record services: attribution, optimistic versions, date checks."""

from __future__ import annotations

from datetime import date
from typing import Any

from casework.auth.access import Actor
from casework.db import utcnow
from casework.errors import Conflict, Invalid


def stamp_new(obj: Any, actor: Actor | None) -> None:
    now = utcnow()
    obj.created_at = now
    obj.created_by = actor.user_id if actor else None
    if hasattr(obj, "updated_at"):
        obj.updated_at = now
        obj.updated_by = actor.user_id if actor else None


def check_version(obj: Any, expected: int | None) -> None:
    """A stale update (someone saved since the client read it) is refused with 409."""
    if expected is None:
        raise Invalid("Say which version you are updating", details={"version": "Missing data for required field."})
    if expected != obj.version:
        raise Conflict(
            f"This record was changed by someone else (you had version {expected}, it is now {obj.version}); "
            "reload it and make your change again",
            details={"version": f"Stale version {expected}; current version is {obj.version}"},
            code="stale_version",
        )


def touch(obj: Any, actor: Actor) -> None:
    obj.version = (obj.version or 0) + 1
    obj.updated_at = utcnow()
    obj.updated_by = actor.user_id


def check_period(start: date | None, end: date | None, *, end_field: str = "end_date") -> None:
    if start and end and end < start:
        raise Invalid("The end date is before the start date",
                      details={end_field: "Must be on or after the start date"})
