"""Save, read and discard drafts of task answers. The caller commits (one transaction per use case)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casework.db import utcnow
from casework.drafts.models import TaskDraft

RESUME_HOURS = 24


def get_draft(session: Session, work_item_id: int, user_id: int) -> TaskDraft | None:
    return session.scalars(select(TaskDraft).where(TaskDraft.work_item_id == work_item_id,
                                                   TaskDraft.user_id == user_id)).first()


def draft_data(draft: TaskDraft | None) -> dict | None:
    return json.loads(draft.data) if draft is not None else None


def save_draft(session: Session, work_item_id: int, user_id: int, data: dict,
               instance_version: int | None) -> TaskDraft:
    draft = get_draft(session, work_item_id, user_id)
    if draft is None:
        draft = TaskDraft(work_item_id=work_item_id, user_id=user_id, data="{}")
        session.add(draft)
    draft.data = json.dumps(data)
    draft.instance_version = instance_version
    draft.saved_at = utcnow()
    session.flush()
    return draft


def discard_draft(session: Session, work_item_id: int, user_id: int) -> None:
    session.execute(delete(TaskDraft).where(TaskDraft.work_item_id == work_item_id, TaskDraft.user_id == user_id))


def stash_for_resume(session: Session, work_item_id: int, data: dict, instance_version: int | None) -> str:
    """Keep answers typed by someone whose session ended; returns the one-time key to pick them up with."""
    key = secrets.token_urlsafe(32)
    session.execute(delete(TaskDraft).where(TaskDraft.user_id.is_(None),
                                            TaskDraft.saved_at < utcnow() - timedelta(hours=RESUME_HOURS)))
    session.add(TaskDraft(work_item_id=work_item_id, user_id=None, resume_key=key, data=json.dumps(data),
                          instance_version=instance_version))
    session.flush()
    return key


def take_resumed(session: Session, key: str, work_item_id: int, user_id: int) -> TaskDraft | None:
    """Turn a stashed draft into the signed-in person's draft (once); None if unknown, used or too old."""
    stash = session.scalars(select(TaskDraft).where(TaskDraft.resume_key == key, TaskDraft.user_id.is_(None),
                                                    TaskDraft.work_item_id == work_item_id)).first()
    if stash is None or stash.saved_at < utcnow() - timedelta(hours=RESUME_HOURS):
        return None
    data, version = json.loads(stash.data), stash.instance_version
    session.delete(stash)
    session.flush()
    return save_draft(session, work_item_id, user_id, data, version)
