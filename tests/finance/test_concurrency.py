"""Two payment runs at the same time export every due line exactly once (committed data, real connections)."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from casework.errors import Conflict
from casework.finance import runs
from casework.finance.models import Agreement, PaymentRun, Provider, ScheduleLine
from casework.records.models import Person
from tests.finance.factories import create_agreement, create_person, create_provider

TODAY = date(2026, 3, 2)
PERIOD_END = date(2026, 2, 22)
AGREEMENTS = 12  # x 7 weekly lines (5 Jan - 22 Feb) = 84 due lines


@pytest.fixture
def committed(db_engine) -> Iterator[dict]:
    """Due lines committed to the database (and removed afterwards)."""
    with Session(db_engine) as s:
        person = create_person(s)
        provider = create_provider(s)
        ids = [create_agreement(s, person=person, provider=provider, unit_cost_pence=1000 + i,
                                units_per_week="7", start_date=date(2026, 1, 5), end_date=PERIOD_END).id
               for i in range(AGREEMENTS)]
        s.commit()
        line_ids = set(s.scalars(select(ScheduleLine.id).where(ScheduleLine.agreement_id.in_(ids))))
        state = {"person": person.id, "provider": provider.id, "agreements": ids, "lines": line_ids}
    assert len(line_ids) == AGREEMENTS * 7
    yield state
    with Session(db_engine) as s:
        run_ids = set(s.scalars(select(ScheduleLine.payment_run_id).where(ScheduleLine.id.in_(line_ids))))
        s.execute(delete(ScheduleLine).where(ScheduleLine.agreement_id.in_(ids)))
        s.execute(delete(PaymentRun).where(PaymentRun.id.in_(run_ids | state.get("runs", set()))))
        s.execute(delete(Agreement).where(Agreement.id.in_(ids)))
        s.execute(delete(Provider).where(Provider.id == state["provider"]))
        s.execute(delete(Person).where(Person.id == state["person"]))
        s.commit()


def _file_line_ids(content: str, run_id: int) -> list[int]:
    rows = list(csv.reader(io.StringIO(content, newline="")))
    assert rows[-1][:2] == ["T", str(run_id)] and int(rows[-1][2]) == len(rows) - 2
    return [int(r[2]) for r in rows[1:-1]]


def _run_in_thread(db_engine, results: dict, key: str, barrier: threading.Barrier | None = None) -> None:
    for attempt in range(20):
        try:
            with Session(db_engine) as s:
                if barrier is not None and attempt == 0:
                    barrier.wait(timeout=10)
                run = runs.create_run(s, period_end=PERIOD_END, created_by=key, today=TODAY)
                s.commit()
                results[key] = (run.id, run.file_content)
                return
        except Conflict as exc:  # the other run took every due line (committed, or still holding them)
            results[key] = exc.code
            return
        except OperationalError as exc:  # SQLite: the other writer holds the database; try again
            results.setdefault("retries", []).append(str(exc.orig))
            time.sleep(0.05 * (attempt + 1))  # back off: on a busy machine the other run may take a while
    results[key] = None


def _check_exactly_once(db_engine, committed, files: list[tuple[int, str]]) -> None:
    exported = [line_id for run_id, content in files for line_id in _file_line_ids(content, run_id)]
    mine = [i for i in exported if i in committed["lines"]]
    assert len(mine) == len(set(mine)), "a line was exported twice"
    assert set(mine) == committed["lines"], "a due line was not exported"
    with Session(db_engine) as s:
        rows = s.execute(select(ScheduleLine.id, ScheduleLine.status, ScheduleLine.payment_run_id)
                         .where(ScheduleLine.id.in_(committed["lines"]))).all()
    by_run = {run_id: set(_file_line_ids(content, run_id)) for run_id, content in files}
    for line_id, status, run_id in rows:
        assert status == "exported" and line_id in by_run[run_id]


def test_two_concurrent_runs_export_each_line_exactly_once(db_engine, committed):
    results: dict = {}
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_run_in_thread, args=(db_engine, results, key, barrier))
               for key in ("run-a", "run-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [results[k] for k in ("run-a", "run-b") if isinstance(results.get(k), tuple)]
    refused = [results[k] for k in ("run-a", "run-b") if isinstance(results.get(k), str)]
    assert len(made) + len(refused) == 2 and made, results
    # a run that found every due line taken is refused rather than made empty
    assert set(refused) <= {"already_paid", "run_in_progress"}, results
    committed["runs"] = {run_id for run_id, _content in made}
    _check_exactly_once(db_engine, committed, made)
    # a third run finds nothing left to collect: refused, naming the run that paid it, nothing written
    with Session(db_engine) as s:
        before = s.scalar(select(func.count()).select_from(PaymentRun))
        with pytest.raises(Conflict) as third:
            runs.create_run(s, period_end=PERIOD_END, created_by="run-c", today=TODAY)
        assert third.value.code == "already_paid" and third.value.details["run_id"] in committed["runs"]
        s.commit()
        assert s.scalar(select(func.count()).select_from(PaymentRun)) == before


def test_a_run_in_progress_does_not_share_its_lines(db_engine, committed):
    """Run A has claimed the lines but not committed. PostgreSQL: run B skips the locked rows instead of
    waiting, and exports none of them. SQLite: run B cannot write until A finishes (one writer)."""
    first = Session(db_engine)
    try:
        run_a = runs.create_run(first, period_end=PERIOD_END, created_by="run-a", today=TODAY)
        results: dict = {}

        def run_b() -> None:
            with Session(db_engine) as s:
                if db_engine.dialect.name == "sqlite":
                    s.connection().exec_driver_sql("PRAGMA busy_timeout=200")
                try:
                    run = runs.create_run(s, period_end=PERIOD_END, created_by="run-b", today=TODAY)
                    s.commit()
                    results["b"] = (run.id, run.file_content)
                except Conflict as exc:
                    results["b_refused"] = exc.code
                except OperationalError as exc:
                    results["b_error"] = str(exc.orig)

        thread = threading.Thread(target=run_b)
        thread.start()
        thread.join(20)
        assert not thread.is_alive(), "run B waited for run A"
        first.commit()
        committed["runs"] = {run_a.id}
        files = [(run_a.id, run_a.file_content)]
        if db_engine.dialect.name == "postgresql":
            # B skipped A's locked lines, found nothing else due and was refused (not made empty)
            assert results == {"b_refused": "run_in_progress"}, results
        else:
            assert "locked" in results["b_error"]
        _check_exactly_once(db_engine, committed, files)
    finally:
        first.close()


def test_database_refuses_an_exported_line_without_a_run(db_engine, committed):
    with Session(db_engine) as s, pytest.raises(Exception) as exc:  # noqa: B017,PT011 - IntegrityError
        line_id = min(committed["lines"])
        s.execute(text("UPDATE finance_schedule_line SET status = 'exported' WHERE id = :id"), {"id": line_id})
        s.commit()
    assert "exported_has_run" in str(exc.value) or "CHECK constraint failed" in str(exc.value)
