"""Parse an audit search (API query string or admin form) into an AuditQuery; shared by API and admin page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from casework.audit.models import AuditAction, AuditEvent
from casework.audit.service import AuditQuery, event_fields
from casework.errors import Invalid

KNOWN_PARAMS = {"person_id", "user", "from", "to", "action", "record_type", "record_id", "before_seq", "limit"}


def _moment(raw: str, *, end: bool) -> datetime:
    """ISO date (a whole day; 'to' includes that day) or ISO datetime (naive means UTC)."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Enter a date like 2026-03-31 or a date and time like 2026-03-31T14:05") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_query(args: dict[str, str], *, strict: bool = True) -> AuditQuery:
    errors: dict[str, str] = {}
    unknown = sorted(set(args) - KNOWN_PARAMS)
    if strict and unknown:
        errors[unknown[0]] = "Unknown search parameter"
    values: dict[str, Any] = {}
    for name in ("person_id", "user", "record_type", "record_id"):
        raw = (args.get(name) or "").strip()
        if len(raw) > 120:
            errors[name] = "Too long"
        elif raw:
            values[name] = raw
    action = (args.get("action") or "").strip()
    if action:
        if action not in AuditAction._value2member_map_:
            errors["action"] = "Choose one of: " + ", ".join(a.value for a in AuditAction)
        values["action"] = action
    for name, attr, end in (("from", "date_from", False), ("to", "date_to", True)):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                values[attr] = _moment(raw, end=end)
            except ValueError as exc:
                errors[name] = str(exc)
    for name, low, high in (("before_seq", 1, 2**62), ("limit", 1, 500)):
        raw = (args.get(name) or "").strip()
        if raw:
            if not raw.isdigit() or not low <= int(raw) <= high:
                errors[name] = f"Enter a whole number from {low} to {high}"
            else:
                values[name] = int(raw)
    if errors:
        raise Invalid("The audit search is not valid", details=errors)
    return AuditQuery(**values)


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_user_id": event.actor_user_id,
        "actor_username": event.actor_username,
        "action": event.action,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "person_id": event.person_id,
        "fields": event_fields(event),
        "ip": event.ip,
        "user_agent": event.user_agent,
        "reason": event.reason,
        "hash": event.hash,
    }
