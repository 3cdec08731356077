"""Drafts of task answers: saved by "Save as draft" and "Continue", read by the check-answers page, and kept
when a session ends mid-form (then keyed by a one-time resume key until the person signs in again)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, utcnow


class TaskDraft(Base):
    __tablename__ = "task_draft"
    __table_args__ = (
        UniqueConstraint("work_item_id", "user_id", name="uq_task_draft_work_item_id"),
        Index("ix_task_draft_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(BigInteger)  # engine work_item.id (other metadata: no FK)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    resume_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    data: Mapped[str] = mapped_column(Text)  # JSON answers
    instance_version: Mapped[int | None]
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
