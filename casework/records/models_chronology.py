"""Chronology: dated, significant events in a person's life and contact with services."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base
from casework.records.models_common import Created


class ChronologyEntry(Created, Base):
    __tablename__ = "chronology_entry"
    __table_args__ = (
        Index("ix_chronology_entry_person_id_occurred_at", "person_id", "occurred_at"),
        # one entry per source event per person: the workflow hook may be called again safely
        UniqueConstraint("person_id", "source", "source_ref", name="uq_chronology_entry_person_source_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(10))  # workflow | note | manual | case
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    source_ref: Mapped[str | None] = mapped_column(String(200))
