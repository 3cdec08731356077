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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def apply_changes(session: Any, actor: Actor, obj: Any, changes: dict[str, Any], *, record_type: str,
                  person_id: int | None) -> list[str]:
    """Set each changed field and keep its previous value in record_change (returns the changed fields).
    Call before touch(): the history rows carry the version the change creates."""
    from casework.records.models_change import RecordChange

    changed = []
    for field, value in changes.items():
        old = getattr(obj, field)
        if (list(old) if isinstance(old, list) else old) == value:
            continue
        session.add(RecordChange(record_type=record_type, record_id=obj.id, person_id=person_id,
                                 version=obj.version + 1, field=field, old_value=_text(old),
                                 new_value=_text(value), changed_at=utcnow(), changed_by=actor.user_id))
        setattr(obj, field, list(value) if isinstance(value, list) else value)
        changed.append(field)
    return changed
