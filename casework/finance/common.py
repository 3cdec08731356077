"""Helpers shared by the finance services: validation errors, optimistic versions, the local date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError

from casework.errors import Conflict, Invalid

LONDON = ZoneInfo("Europe/London")


def local_date(moment: datetime) -> date:
    """The calendar date in England at an aware moment (payment periods are English calendar dates)."""
    return moment.astimezone(LONDON).date()


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(messages, dict):
        out: dict[str, str] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_messages(value, name))
        return out
    if isinstance(messages, list | tuple):
        return {prefix or "_schema": " ".join(str(m) for m in messages)}
    return {prefix or "_schema": str(messages)}


def load(schema: Schema, data: Any, message: str = "Check the details given") -> dict[str, Any]:
    """schema.load, turning marshmallow's ValidationError into Invalid (422) with field messages."""
    if not isinstance(data, dict):
        raise Invalid(message, details={"_schema": "Expected an object"})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid(message, details=flatten_messages(exc.messages)) from None


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
