"""Finance records for payment authorisation: providers, service agreements, schedule lines, payment runs.

Money is integer pence (BigInteger where it can add up). Bank details are never stored: a provider carries
only the *reference* of the bank details held in the council's finance system.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

import casework.records.models  # noqa: F401  (person and case_record tables, referenced below)
from casework.db import Base, utcnow
from casework.finance import money


class Provider(Base):
    __tablename__ = "finance_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # supplier number in the finance system
    cqc_location_id: Mapped[str | None] = mapped_column(String(20))
    bank_details_reference: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


# unique whatever the case, as the service checks it ('ABC1' and 'abc1' are one supplier); also serves the
# service's look-ups by lower(reference). SQLite enforces it with triggers (migration 0013) and keeps the plain
# constraint above, which only a table rebuild could drop there (refused while agreements refer to providers).
Index("uq_finance_provider_reference_lower", func.lower(Provider.reference), unique=True)


class Agreement(Base):
    """A service agreement / care package, a direct payment or a one-off payment (``kind``)."""

    __tablename__ = "finance_agreement"
    __table_args__ = (
        CheckConstraint("unit_cost_pence > 0", name="unit_cost_positive"),
        CheckConstraint("units_per_week > 0", name="units_positive"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        Index("ix_finance_agreement_person_id_status", "person_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)  # SA-0000042, set after insert
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="RESTRICT"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("finance_provider.id", ondelete="RESTRICT"),
                                                    index=True)
    payee_reference: Mapped[str | None] = mapped_column(String(64))  # direct payment recipient (bank ref)
    service_type: Mapped[str] = mapped_column(String(30))
    cost_code: Mapped[str | None] = mapped_column(String(12))  # ledger cost centre for the export
    unit: Mapped[str] = mapped_column(String(10))
    unit_cost_pence: Mapped[int] = mapped_column(BigInteger)
    units_per_week: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True)
    process_instance_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    requested_by: Mapped[str | None] = mapped_column(String(120))  # casework username
    authorised_by: Mapped[str | None] = mapped_column(String(120))
    authorised_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)  # rejection / ending reason
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    provider: Mapped[Provider | None] = relationship(lazy="joined")

    @property
    def weekly_cost_pence(self) -> int:
        return money.weekly_cost_pence(self.unit_cost_pence, self.units_per_week)

    @property
    def annual_cost_pence(self) -> int:
        return money.annual_cost_pence(self.unit_cost_pence, self.units_per_week, kind=self.kind)


class ScheduleLine(Base):
    """One payment period of an agreement (a Monday-Sunday week in arrears, or the one-off date).

    ``payment_run_id`` is the exactly-once mark: a line belongs to at most one run, set by a conditional
    UPDATE ... WHERE payment_run_id IS NULL (rows picked FOR UPDATE SKIP LOCKED on PostgreSQL).
    """

    __tablename__ = "finance_schedule_line"
    __table_args__ = (
        UniqueConstraint("agreement_id", "period_start", name="uq_finance_schedule_line_agreement_period"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("status <> 'exported' OR payment_run_id IS NOT NULL", name="exported_has_run"),
        Index("ix_finance_schedule_line_due", "status", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("finance_agreement.id", ondelete="RESTRICT"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    units: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    payment_run_id: Mapped[int | None] = mapped_column(ForeignKey("finance_payment_run.id", ondelete="RESTRICT"),
                                                       index=True)
    exported_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship()


class PaymentRun(Base):
    """A collection of due lines exported once as a CSV file; the file is kept for re-download."""

    __tablename__ = "finance_payment_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_end: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default="collecting")  # collecting -> exported
    line_count: Mapped[int] = mapped_column(default=0)
    total_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    file_name: Mapped[str | None] = mapped_column(String(120))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_content: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(120))  # casework username (or "cli")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    download_count: Mapped[int] = mapped_column(default=0)
