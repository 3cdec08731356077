"""Relationships between people, and professional involvements."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base
from casework.records.models_common import Attributed


class PersonRelationship(Attributed, Base):
    """(person) is <rel_type> of (related person), e.g. parent of; the inverse is derived."""

    __tablename__ = "person_relationship"
    __table_args__ = (CheckConstraint("person_id <> related_person_id", name="not_self"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    related_person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    rel_type: Mapped[str] = mapped_column(String(30))
    parental_responsibility: Mapped[bool] = mapped_column(default=False)
    same_household: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)
    # UPDATE ... WHERE version = <the version read>: a concurrent writer makes the flush fail (-> 409)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Involvement(Attributed, Base):
    """A professional or organisation involved with a person (GP, school, health visitor...)."""

    __tablename__ = "involvement"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    organisation: Mapped[str] = mapped_column(String(200))
    professional_name: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(254))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)
    # UPDATE ... WHERE version = <the version read>: a concurrent writer makes the flush fail (-> 409)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
