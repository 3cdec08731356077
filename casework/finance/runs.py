"""Payment runs: collect due, not-yet-exported schedule lines and export them exactly once.

Exactly once: a line is claimed by ``UPDATE ... SET payment_run_id = :run WHERE payment_run_id IS NULL AND
status = 'pending'``; on PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED`` so a second,
concurrent run skips (rather than waits for) the rows the first is taking, and PostgreSQL re-checks the WHERE
clause on any row that changed meanwhile. A line therefore ends up in one run only. SQLite serialises writers.
A run's file is stored with it: it can be downloaded again, but a run is never collected again.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from casework.db import utcnow
from casework.errors import Conflict, Invalid, NotFound
from casework.finance import export, schedule
from casework.finance.codes import LineStatus
from casework.finance.models import PaymentRun, ScheduleLine

MAX_PAGE = 200
CLAIM_CHUNK = 1000


def create_run(session: Session, *, period_end: date, created_by: str | None, today: date,
               now: datetime | None = None) -> PaymentRun:
    """Collect every pending line whose period ended on or before `period_end`, export, return the run."""
    if period_end > today:
        raise Invalid("Payments are made in arrears: the period end cannot be in the future",
                      details={"period_end": f"Must be on or before {today.isoformat()}"})
    now = now or utcnow()
    schedule.generate_due(session, period_end)
    run = PaymentRun(period_end=period_end, status="collecting", created_by=created_by, created_at=now)
    session.add(run)
    session.flush()

    candidates = (select(ScheduleLine.id)
                  .where(ScheduleLine.status == LineStatus.PENDING, ScheduleLine.payment_run_id.is_(None),
                         ScheduleLine.period_end <= period_end)
                  .order_by(ScheduleLine.id))
    claim = (update(ScheduleLine).values(payment_run_id=run.id, status=LineStatus.EXPORTED, exported_at=now)
             .execution_options(synchronize_session=False))
    if session.get_bind().dialect.name == "postgresql":
        # Lock the candidates, skipping rows a concurrent run holds (FOR UPDATE re-checks the WHERE clause on
        # rows changed since the snapshot), then update exactly those rows by primary key, in chunks. Only
        # the key in the UPDATE: the planner's statistics are stale right after the schedule inserts above,
        # and any other predicate can tempt it into rescanning every pending line per chunk.
        ids = session.scalars(candidates.with_for_update(skip_locked=True)).all()
        for i in range(0, len(ids), CLAIM_CHUNK):
            session.execute(claim.where(ScheduleLine.id.in_(ids[i:i + CLAIM_CHUNK])))
    else:  # SQLite: one writer at a time; the conditions are re-checked in the same statement
        session.execute(claim.where(ScheduleLine.id.in_(candidates), ScheduleLine.payment_run_id.is_(None),
                                    ScheduleLine.status == LineStatus.PENDING))
    lines = session.execute(export.line_query(run.id))
    text, count, total = export.render(run, lines)
    run.file_content = text
    run.file_sha256 = export.sha256(text)
    run.file_name = export.file_name(run.id, period_end)
    run.line_count = count
    run.total_pence = total
    run.status = "exported"
    session.flush()
    return run


def busy_conflict(exc: OperationalError) -> Conflict | None:
    """SQLite allows one writer: a run started while another is writing gets 'database is locked'.
    Returns the 409 to raise instead (None for any other database error)."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "locked" in text or "busy" in text:
        return Conflict("Another payment run (or other change) is being saved; try again in a moment",
                        code="run_in_progress")
    return None


def get_run(session: Session, run_id: int) -> PaymentRun:
    run = session.get(PaymentRun, run_id)
    if run is None:
        raise NotFound("No such payment run")
    return run


def download(session: Session, run_id: int) -> tuple[str, str]:
    """(file name, file text) of an exported run; the same bytes every time."""
    run = get_run(session, run_id)
    if run.status != "exported" or run.file_content is None or run.file_name is None:
        raise NotFound("This payment run has no file")
    run.download_count += 1
    session.flush()
    return run.file_name, run.file_content


def list_runs(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[list[PaymentRun], int]:
    total = session.scalar(select(func.count()).select_from(PaymentRun)) or 0
    rows = session.scalars(select(PaymentRun).order_by(PaymentRun.id.desc()).limit(min(limit, MAX_PAGE))
                           .offset(offset))
    return list(rows), total
