"""Cases (episodes) per service area, their process instances and allocation history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, utcnow
from casework.records.models_common import Attributed, Created


class Case(Attributed, Base):
    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_record_person_id_status", "person_id", "status"),
        # caseloads (manager dashboard): open cases counted by team and worker from the index alone
        Index("ix_case_record_status_team_worker", "status", "team_id", "worker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)  # the business key, e.g. CH-0000042
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    service_area: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_on: Mapped[date]
    open_reason: Mapped[str] = mapped_column(String(30))
    closed_on: Mapped[date | None]
    close_reason: Mapped[str | None] = mapped_column(String(30))
    summary: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    # UPDATE ... WHERE version = <the version read>: a concurrent writer makes the flush fail (-> 409)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    allocations: Mapped[list[Allocation]] = relationship(order_by="Allocation.id", cascade="all, delete-orphan")
    processes: Mapped[list[CaseProcess]] = relationship(order_by="CaseProcess.id", cascade="all, delete-orphan")


class CaseProcess(Created, Base):
    """A workflow instance attached to a case (ids only: engine tables are not referenced by FK)."""

    __tablename__ = "case_process"
    __table_args__ = (UniqueConstraint("case_id", "instance_id", name="uq_case_process_case_instance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(index=True)
    process_key: Mapped[str] = mapped_column(String(200))


class Allocation(Base):
    """Who held the case and when: the current allocation has ended_at NULL."""

    __tablename__ = "case_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    allocated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
