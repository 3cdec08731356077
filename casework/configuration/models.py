"""Tables of the configurator's workshop: drafts under change control, the change log, council settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, utcnow

# Draft states: draft -> in_review -> approved -> published; in_review/approved -> draft (sent back);
# draft -> withdrawn.
DRAFT = "draft"
IN_REVIEW = "in_review"
APPROVED = "approved"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
OPEN_STATES = (DRAFT, IN_REVIEW, APPROVED)
STATE_LABELS = {DRAFT: "Draft", IN_REVIEW: "In review", APPROVED: "Approved", PUBLISHED: "Published",
                WITHDRAWN: "Withdrawn"}


class ProcessDraft(Base):
    """A proposed next version of one process: its files (JSON text {"bpmn": {file: xml}, "dmn": {...},
    "forms": {file: json text}}), who wrote it, and where it is in review. ``version`` guards concurrent
    saves (optimistic locking)."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(300))
    files_json: Mapped[str] = mapped_column(Text)
    based_on_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    published_version: Mapped[int | None]

    __table_args__ = (Index("ix_process_draft_status", "status", "process_key"),)


class ProcessChange(Base):
    """One step of change control: who did what to which process (draft / version), when and why."""

    __tablename__ = "process_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("process_draft.id"), index=True)
    definition_version: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[str | None] = mapped_column(Text)  # JSON

    __table_args__ = (Index("ix_process_change_key_at", "process_key", "at"),)


class CouncilSetting(Base):
    """A council-wide setting (value is JSON text), e.g. closure days and default timescales."""

    __tablename__ = "council_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessScenario(Base):
    """A saved simulation of a process: steps, starting data and the outcome it reached. Every later version
    must reach the same outcome before it can be submitted or published."""

    __tablename__ = "process_scenario"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    steps_json: Mapped[str] = mapped_column(Text)
    start_data_json: Mapped[str] = mapped_column(Text)
    expected_json: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
