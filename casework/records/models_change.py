"""Field history: what a record said before each in-place change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, utcnow


class RecordChange(Base):
    """The previous and new value of every field changed in place (person, relationship, involvement), with who
    and when, so an update never loses what the record said before. Names, addresses, allocations, alerts and
    contacts keep their own history rows; notes are corrected by appended corrections."""

    __tablename__ = "record_change"
    __table_args__ = (Index("ix_record_change_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int]
    person_id: Mapped[int | None] = mapped_column(index=True)
    version: Mapped[int]
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
