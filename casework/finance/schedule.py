"""Payment schedules: weekly periods (Monday-Sunday) paid in arrears, partial weeks pro-rated by days.

Generation is idempotent and safe to run concurrently: lines are inserted with ON CONFLICT DO NOTHING on
(agreement_id, period_start), so re-running (or two payment runs at once) never duplicates a period.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from casework.finance import money
from casework.finance.codes import AgreementStatus, LineStatus
from casework.finance.models import Agreement, ScheduleLine

OPEN_ENDED_WEEKS_AHEAD = 4  # an open-ended agreement is scheduled this far ahead; payment runs extend it


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def periods(agreement: Agreement, through: date) -> Iterator[tuple[date, date]]:
    """(period_start, period_end) of every line from the start date up to `through` (and the end date)."""
    if agreement.kind == "one_off":
        if agreement.start_date <= through:
            yield agreement.start_date, agreement.start_date
        return
    last = through if agreement.end_date is None else min(through, agreement.end_date)
    start = agreement.start_date
    while start <= last:
        sunday = week_start(start) + timedelta(days=6)
        end = sunday if agreement.end_date is None else min(sunday, agreement.end_date)
        yield start, end
        start = sunday + timedelta(days=1)


def line_values(agreement: Agreement, start: date, end: date) -> dict[str, Any]:
    if agreement.kind == "one_off":
        amount = money.weekly_cost_pence(agreement.unit_cost_pence, agreement.units_per_week)
        units = agreement.units_per_week
    else:
        days = (end - start).days + 1
        amount = money.prorated_pence(agreement.unit_cost_pence, agreement.units_per_week, days)
        units = money.prorated_units(agreement.units_per_week, days)
    return {"agreement_id": agreement.id, "period_start": start, "period_end": end, "units": units,
            "amount_pence": amount, "status": LineStatus.PENDING}


def default_horizon(agreement: Agreement, today: date) -> date:
    if agreement.end_date is not None:
        return agreement.end_date
    return max(today, agreement.start_date) + timedelta(weeks=OPEN_ENDED_WEEKS_AHEAD)


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (insert(ScheduleLine.__table__)
            .on_conflict_do_nothing(index_elements=["agreement_id", "period_start"])
            .returning(ScheduleLine.__table__.c.id))
    # executemany with RETURNING ("insertmanyvalues" batches): the returned ids count what was new
    return len(session.execute(stmt, rows).all())


def generate(session: Session, agreement: Agreement, *, through: date) -> int:
    """Create the missing lines of an authorised agreement up to `through`. Returns how many were added."""
    if agreement.status not in AgreementStatus.PAYABLE:
        return 0
    existing = set(session.scalars(select(ScheduleLine.period_start)
                                   .where(ScheduleLine.agreement_id == agreement.id)))
    rows = [line_values(agreement, s, e) for s, e in periods(agreement, through) if s not in existing]
    return _insert_ignoring_duplicates(session, rows)


def due_extensions(session: Session, period_end: date) -> list[dict[str, Any]]:
    """The lines `generate_due` would add for `period_end` (nothing is written): every payable agreement whose
    lines stop before `period_end`, periods after its last line (schedules are contiguous) up to the period
    containing `period_end`. One query for the agreements. Shared by `generate_due` and the payment run
    preview (`runs.preview_run`), so both always select the same lines."""
    last = (select(ScheduleLine.agreement_id, func.max(ScheduleLine.period_end).label("last"))
            .group_by(ScheduleLine.agreement_id).subquery())
    stmt = (select(Agreement, last.c.last).outerjoin(last, last.c.agreement_id == Agreement.id)
            .where(Agreement.status.in_(AgreementStatus.PAYABLE), Agreement.start_date <= period_end,
                   or_(last.c.last.is_(None),
                       and_(last.c.last < period_end,
                            or_(Agreement.end_date.is_(None), last.c.last < Agreement.end_date))))
            .order_by(Agreement.id))
    rows: list[dict[str, Any]] = []
    for agreement, last_day in session.execute(stmt).unique():
        rows.extend(line_values(agreement, s, e) for s, e in periods(agreement, period_end)
                    if last_day is None or s > last_day)
    return rows


def generate_due(session: Session, period_end: date) -> int:
    """Extend the schedule of every payable agreement whose lines stop before `period_end` (see
    `due_extensions`) with multi-row inserts. Returns how many lines were added."""
    return _insert_ignoring_duplicates(session, due_extensions(session, period_end))


def apply_end_date(session: Session, agreement: Agreement) -> dict[str, int]:
    """After an agreement's end date moved earlier: cancel pending lines after it and re-pro-rate the line
    that contains it. Exported lines stay as they are; what they paid beyond the end date is reported."""
    end = agreement.end_date
    assert end is not None
    cancelled = session.execute(
        update(ScheduleLine)
        .where(ScheduleLine.agreement_id == agreement.id, ScheduleLine.period_start > end,
               ScheduleLine.status == LineStatus.PENDING, ScheduleLine.payment_run_id.is_(None))
        .values(status=LineStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    overpaid = 0
    lines = session.scalars(select(ScheduleLine).where(ScheduleLine.agreement_id == agreement.id,
                                                       ScheduleLine.period_end > end,
                                                       ScheduleLine.status != LineStatus.CANCELLED)
                            .order_by(ScheduleLine.period_start)).all()
    for line in lines:
        if line.period_start > end:  # exported after the end date
            overpaid += line.amount_pence
            continue
        values = line_values(agreement, line.period_start, end)
        if line.status == LineStatus.EXPORTED:
            overpaid += line.amount_pence - values["amount_pence"]
            continue
        changed = session.execute(
            update(ScheduleLine)
            .where(ScheduleLine.id == line.id, ScheduleLine.status == LineStatus.PENDING,
                   ScheduleLine.payment_run_id.is_(None))
            .values(period_end=end, units=values["units"], amount_pence=values["amount_pence"])
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:  # a payment run took it meanwhile
            overpaid += line.amount_pence - values["amount_pence"]
    session.expire_all()
    return {"cancelled_lines": cancelled, "overpaid_pence": overpaid}


def last_exported_day(session: Session, agreement_id: int) -> date | None:
    return session.scalar(select(func.max(ScheduleLine.period_end)).where(
        ScheduleLine.agreement_id == agreement_id, ScheduleLine.status == LineStatus.EXPORTED))


def cancel_pending(session: Session, agreement_id: int) -> int:
    """Cancel every line of the agreement not yet taken by a payment run (a concurrent run keeps its own)."""
    count = session.execute(
        update(ScheduleLine)
        .where(ScheduleLine.agreement_id == agreement_id, ScheduleLine.status == LineStatus.PENDING,
               ScheduleLine.payment_run_id.is_(None))
        .values(status=LineStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    session.expire_all()
    return count


def schedule_summary(session: Session, agreement_id: int) -> dict[str, int]:
    rows = session.execute(select(ScheduleLine.status, func.count(), func.coalesce(func.sum(
        ScheduleLine.amount_pence), 0)).where(ScheduleLine.agreement_id == agreement_id)
        .group_by(ScheduleLine.status)).all()
    out = {f"{status}_lines": 0 for status in LineStatus.ALL} | {f"{status}_pence": 0 for status in LineStatus.ALL}
    for status, count, total in rows:
        out[f"{status}_lines"] = int(count)
        out[f"{status}_pence"] = int(total)
    return out


def lines_for(session: Session, agreement_id: int) -> list[ScheduleLine]:
    return list(session.scalars(select(ScheduleLine).where(ScheduleLine.agreement_id == agreement_id)
                                .order_by(ScheduleLine.period_start)))
