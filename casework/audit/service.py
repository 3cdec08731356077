"""Recording and searching audit events."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.audit.chain import append
from casework.audit.models import AuditAction, AuditEvent
from casework.db import utcnow
from casework.errors import Invalid

_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\[\]-]{0,99}$")
MAX_FIELDS = 200
MAX_REASON = 2000


def _actor_identity(actor: Any) -> tuple[int | None, str | None]:
    """Accepts an Actor (user_id/username), a User (id/username) or None (anonymous, system)."""
    if actor is None:
        return None, None
    user_id = getattr(actor, "user_id", None)
    if user_id is None:
        user_id = getattr(actor, "id", None)
    return user_id, getattr(actor, "username", None)


def _request_origin() -> tuple[str | None, str | None]:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency
        return None, None
    if not has_request_context():
        return None, None
    agent = request.headers.get("User-Agent")
    return (request.remote_addr or None), (agent[:300] if agent else None)


def _field_names(fields: Iterable[str]) -> list[str]:
    names = sorted({str(f) for f in fields})
    if len(names) > MAX_FIELDS:
        raise ValueError(f"at most {MAX_FIELDS} field names per audit event")
    bad = [n for n in names if not _FIELD_NAME.match(n)]
    if bad:  # a value passed where a name belongs would leak personal data into the trail
        raise ValueError(f"audit fields must be field names, not values: {bad[0][:40]!r}")
    return names


def record(
    session: Session,
    actor: Any,
    action: AuditAction | str,
    *,
    record_type: str,
    record_id: int | str | None,
    person_id: int | str | None = None,
    fields: Iterable[str] = (),
    reason: str | None = None,
) -> dict[str, Any]:
    """Append one audit event in the caller's transaction (the caller commits; a rollback drops it).

    ``fields`` are the names of the fields viewed or changed, never their values. ``reason`` is required
    for break-glass. IP address and user agent come from the current Flask request, if any.
    """
    action = AuditAction(action)
    if action is AuditAction.BREAK_GLASS and not (reason or "").strip():
        raise ValueError("a break-glass audit event needs a reason")
    if not record_type or len(record_type) > 64:
        raise ValueError("record_type must be 1 to 64 characters")
    user_id, username = _actor_identity(actor)
    ip, agent = _request_origin()
    values = {
        "occurred_at": utcnow(),
        "actor_user_id": user_id,
        "actor_username": username,
        "action": action.value,
        "record_type": record_type,
        "record_id": None if record_id is None else str(record_id)[:64],
        "person_id": None if person_id is None else str(person_id)[:64],
        "fields": json.dumps(_field_names(fields), separators=(",", ":")),
        "ip": ip,
        "user_agent": agent,
        "reason": reason.strip()[:MAX_REASON] if reason else None,
    }
    return append(session, values)


@dataclass(frozen=True)
class AuditQuery:
    person_id: str | None = None
    user: str | None = None  # username or numeric user id
    date_from: datetime | None = None
    date_to: datetime | None = None
    action: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    before_seq: int | None = None  # paging: newest first, continue below this sequence number
    limit: int = 100


def search(session: Session, query: AuditQuery) -> list[AuditEvent]:
    """Newest first. Everything is a bound parameter; nothing from the query reaches SQL text."""
    if query.date_from and query.date_to and query.date_from >= query.date_to:
        raise Invalid("The dates are the wrong way round", details={"from": "The start must be before the end"})
    stmt = select(AuditEvent)
    if query.person_id:
        stmt = stmt.where(AuditEvent.person_id == query.person_id)
    if query.user:
        user = query.user.strip().lower()
        cond = func.lower(AuditEvent.actor_username) == user
        stmt = stmt.where(or_(cond, AuditEvent.actor_user_id == int(user)) if user.isdigit() else cond)
    if query.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= query.date_from)
    if query.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < query.date_to)
    if query.action:
        stmt = stmt.where(AuditEvent.action == query.action)
    if query.record_type:
        stmt = stmt.where(AuditEvent.record_type == query.record_type)
    if query.record_id:
        stmt = stmt.where(AuditEvent.record_id == query.record_id)
    if query.before_seq:
        stmt = stmt.where(AuditEvent.seq < query.before_seq)
    limit = max(1, min(query.limit, 500))
    return list(session.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(limit)))


def event_fields(event: AuditEvent) -> list[str]:
    return list(json.loads(event.fields or "[]"))
