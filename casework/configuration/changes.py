"""The change log: every step of change control, with who, when and why."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.configuration.models import ProcessChange
from casework.db import utcnow
from casework.errors import Invalid

MAX_REASON = 2000
ACTION_LABELS = {
    "created": "Started a draft", "saved": "Saved the draft", "imported": "Imported files",
    "form_saved": "Saved a form", "file_removed": "Removed a file", "submitted": "Submitted for review",
    "approved": "Approved", "sent_back": "Sent back for changes", "published": "Published",
    "withdrawn": "Withdrew the draft", "rollback_started": "Started a roll back",
    "migrated": "Migrated instances", "retired": "Retired a version", "reinstated": "Reinstated a version",
    "scenario_saved": "Saved a regression scenario", "scenario_deleted": "Deleted a regression scenario",
}


def clean_reason(reason: str | None, *, required: bool = True, field: str = "reason") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise Invalid("Give a reason", details={field: "Enter the reason for this change"})
    if len(text) > MAX_REASON:
        raise Invalid("The reason is too long", details={field: f"Use {MAX_REASON} characters or fewer"})
    return text or None


def record(session: Session, *, process_key: str, action: str, actor: str, reason: str | None = None,
           draft_id: int | None = None, definition_version: int | None = None, details: dict | None = None,
           ) -> ProcessChange:
    change = ProcessChange(process_key=process_key, action=action, actor=actor, reason=reason,
                           draft_id=draft_id, definition_version=definition_version, at=utcnow(),
                           details=json.dumps(details, sort_keys=True) if details else None)
    session.add(change)
    session.flush()
    return change


def history(session: Session, process_key: str | None = None, *, draft_id: int | None = None,
            limit: int = 200) -> list[ProcessChange]:
    q = select(ProcessChange).order_by(ProcessChange.at.desc(), ProcessChange.id.desc()).limit(limit)
    if process_key is not None:
        q = q.where(ProcessChange.process_key == process_key)
    if draft_id is not None:
        q = q.where(ProcessChange.draft_id == draft_id)
    return list(session.scalars(q))


def details_of(change: ProcessChange) -> dict:
    return json.loads(change.details) if change.details else {}
