"""Case notes: draft -> complete; a completed note is only ever corrected by an appended correction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base
from casework.records.models_common import Attributed, Created


class CaseNote(Attributed, Base):
    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_person_id_occurred_at", "person_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="RESTRICT"), index=True)
    note_type: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    significant: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)
    # UPDATE ... WHERE version = <the version read>: a concurrent writer makes the flush fail (-> 409)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    corrections: Mapped[list[NoteCorrection]] = relationship(order_by="NoteCorrection.id",
                                                             cascade="all, delete-orphan")
    linked: Mapped[list[NotePerson]] = relationship(cascade="all, delete-orphan")


class NoteCorrection(Created, Base):
    __tablename__ = "note_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("case_note.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))


class NotePerson(Base):
    """Other people a note is about (e.g. siblings in the household)."""

    __tablename__ = "note_person"
    __table_args__ = (UniqueConstraint("note_id", "person_id", name="uq_note_person_note_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("case_note.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
