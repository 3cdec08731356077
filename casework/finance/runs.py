"""Payment runs: collect due, not-yet-exported schedule lines and export them exactly once.

Exactly once: a line is claimed by ``UPDATE ... SET payment_run_id = :run WHERE payment_run_id IS NULL AND
status = 'pending'``; on PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED`` so a second,
concurrent run skips (rather than waits for) the rows the first is taking, and PostgreSQL re-checks the WHERE
clause on any row that changed meanwhile. A line therefore ends up in one run only. SQLite serialises writers.
A run's file is stored with it: it can be downloaded again, but a run is never collected again.

``preview_run`` names exactly the payments ``create_run`` would make, writing nothing: the same claim query and
the same schedule extension selection (``schedule.due_extensions``, which ``generate_due`` inserts). A run that
would pay nothing is refused (``already_paid`` naming the run that paid up to that day, ``run_in_progress``,
``nothing_due``) and, like a run whose lines differ from an ``expected_digest``, leaves nothing written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from casework.db import utcnow
from casework.errors import Conflict, DomainError, Invalid, NotFound
from casework.finance import export, schedule
from casework.finance.codes import LineStatus
from casework.finance.models import PaymentRun, ScheduleLine

MAX_PAGE = 200
CLAIM_CHUNK = 1000


@dataclass(frozen=True)
class DueLine:
    """A payment a run would make: an existing pending line (``line_id``) or one the run adds first (None)."""

    agreement_id: int
    period_start: date
    period_end: date
    amount_pence: int
    line_id: int | None = None


@dataclass
class RunPreview:
    """What ``create_run`` would pay for ``period_end`` now (nothing written)."""

    period_end: date
    lines: list[DueLine]
    total_pence: int
    digest: str
    latest_run_id: int  # the newest run when previewed (to name runs made since)
    paid_by: PaymentRun | None  # the newest exported run whose period end covers this one

    @property
    def agreement_count(self) -> int:
        return len({line.agreement_id for line in self.lines})


def lines_digest(lines: Iterable[tuple[int, date, date, int] | DueLine]) -> str:
    """SHA-256 of exactly which payments (agreement, period, amount), in a stable order: a preview's digest
    equals the digest of the run that then pays exactly those payments."""
    keys = sorted((x.agreement_id, x.period_start, x.period_end, x.amount_pence) if isinstance(x, DueLine)
                  else tuple(x) for x in lines)
    text = "\n".join(f"{a}|{s.isoformat()}|{e.isoformat()}|{p}" for a, s, e, p in keys)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_digest(session: Session, run_id: int) -> str:
    """``lines_digest`` of the lines a run took."""
    rows = session.execute(select(ScheduleLine.agreement_id, ScheduleLine.period_start, ScheduleLine.period_end,
                                  ScheduleLine.amount_pence).where(ScheduleLine.payment_run_id == run_id))
    return lines_digest(tuple(r) for r in rows)  # type: ignore[misc]


def _claimable(period_end: date) -> Select[tuple[int]]:
    """The lines a run for ``period_end`` claims: pending, not in a run, ended by the period end."""
    return (select(ScheduleLine.id)
            .where(ScheduleLine.status == LineStatus.PENDING, ScheduleLine.payment_run_id.is_(None),
                   ScheduleLine.period_end <= period_end)
            .order_by(ScheduleLine.id))


def _check_period_end(period_end: date, today: date) -> None:
    if period_end > today:
        raise Invalid("Payments are made in arrears: the period end cannot be in the future",
                      details={"period_end": f"Must be on or before {today.isoformat()}"})


def paid_by(session: Session, period_end: date) -> PaymentRun | None:
    """The newest exported run whose period end is on or after ``period_end`` (it paid what was due then)."""
    return session.scalars(select(PaymentRun).where(PaymentRun.status == "exported",
                                                    PaymentRun.period_end >= period_end)
                           .order_by(PaymentRun.id.desc()).limit(1)).first()


def preview_run(session: Session, period_end: date, *, today: date | None = None) -> RunPreview:
    """Exactly the payments ``create_run`` would make for ``period_end`` now, writing nothing: the pending lines
    it would claim (the same query) plus the lines it would first add (``schedule.due_extensions``, the
    selection ``generate_due`` inserts) that end by the period end."""
    if today is not None:
        _check_period_end(period_end, today)
    claimable = _claimable(period_end).subquery()
    lines = [DueLine(a, s, e, p, i) for i, a, s, e, p in session.execute(
        select(ScheduleLine.id, ScheduleLine.agreement_id, ScheduleLine.period_start, ScheduleLine.period_end,
               ScheduleLine.amount_pence).where(ScheduleLine.id.in_(select(claimable.c.id))))]
    lines += [DueLine(row["agreement_id"], row["period_start"], row["period_end"], row["amount_pence"])
              for row in schedule.due_extensions(session, period_end) if row["period_end"] <= period_end]
    lines.sort(key=lambda x: (x.agreement_id, x.period_start))
    return RunPreview(period_end=period_end, lines=lines, total_pence=sum(x.amount_pence for x in lines),
                      digest=lines_digest(lines),
                      latest_run_id=session.scalar(select(func.max(PaymentRun.id))) or 0,
                      paid_by=paid_by(session, period_end))


def _refusal(session: Session, period_end: date) -> DomainError:
    """Why a run for ``period_end`` that found nothing to claim is refused."""
    if session.scalar(select(func.count()).select_from(_claimable(period_end).subquery())):
        # PostgreSQL: the due lines are locked by a run not committed yet (FOR UPDATE SKIP LOCKED skipped them)
        return Conflict("Another payment run (or a change to an agreement) is holding these payments now; "
                        "check the payment runs in a moment", code="run_in_progress",
                        details={"period_end": "A payment run is in progress"})
    earlier = paid_by(session, period_end)
    if earlier is not None:
        return Conflict(f"Nothing is due up to {period_end.isoformat()}: payment run {earlier.id} (period end "
                        f"{earlier.period_end.isoformat()}) already paid it",
                        code="already_paid", details={"period_end": f"Already paid by payment run {earlier.id}",
                                                      "run_id": earlier.id})
    return Invalid(f"Nothing is due up to {period_end.isoformat()}: no payment run was created",
                   code="nothing_due", details={"period_end": "No payments are due up to this date"})


def create_run(session: Session, *, period_end: date, created_by: str | None, today: date,
               now: datetime | None = None, expected_digest: str | None = None) -> PaymentRun:
    """Collect every pending line whose period ended on or before `period_end`, export, return the run.

    A run must pay something: when nothing is left to claim it is refused and nothing is written - 409
    ``already_paid`` naming the run that paid up to this period end (a repeated or double-submitted request),
    409 ``run_in_progress`` when a concurrent run holds the due lines, else 422 ``nothing_due``. With
    ``expected_digest`` (a ``preview_run`` digest) the run is kept only if it pays exactly the previewed
    payments (else 409 ``preview_changed``, nothing written)."""
    _check_period_end(period_end, today)
    now = now or utcnow()
    with session.begin_nested():  # a refused run leaves nothing behind, whatever the caller does next
        schedule.generate_due(session, period_end)
        run = PaymentRun(period_end=period_end, status="collecting", created_by=created_by, created_at=now)
        session.add(run)
        session.flush()

        candidates = _claimable(period_end)
        claim = (update(ScheduleLine)
                 .values(payment_run_id=run.id, status=LineStatus.EXPORTED, exported_at=now)
                 .execution_options(synchronize_session=False))
        if session.get_bind().dialect.name == "postgresql":
            # Lock the candidates, skipping rows a concurrent run holds (FOR UPDATE re-checks the WHERE clause
            # on rows changed since the snapshot), then update exactly those rows by primary key, in chunks.
            # Only the key in the UPDATE: the planner's statistics are stale right after the schedule inserts
            # above, and any other predicate can tempt it into rescanning every pending line per chunk.
            ids = session.scalars(candidates.with_for_update(skip_locked=True)).all()
            for i in range(0, len(ids), CLAIM_CHUNK):
                session.execute(claim.where(ScheduleLine.id.in_(ids[i:i + CLAIM_CHUNK])))
            claimed = len(ids)
        else:  # SQLite: one writer at a time; the conditions are re-checked in the same statement
            claimed = session.execute(
                claim.where(ScheduleLine.id.in_(candidates), ScheduleLine.payment_run_id.is_(None),
                            ScheduleLine.status == LineStatus.PENDING)).rowcount or 0
        changed = expected_digest is not None and run_digest(session, run.id) != expected_digest
        if not claimed:
            refusal = _refusal(session, period_end)
            if not changed or isinstance(refusal, Conflict):
                raise refusal
        if changed:
            raise Conflict("What is due changed since the preview, so no payment run was created; preview "
                           "again", code="preview_changed",
                           details={"period_end": "What is due changed since the preview"})
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
