"""Payment runs: collect due lines once, export the documented CSV layout, re-download the same bytes."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from casework.errors import Conflict, Invalid, NotFound
from casework.finance import agreements, export, runs, schedule
from casework.finance.models import PaymentRun, ScheduleLine
from tests.finance.factories import create_agreement, create_person, create_provider

MON = date(2026, 1, 5)
TODAY = date(2026, 3, 2)


def _rows(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def _run(session, period_end, today=TODAY):
    return runs.create_run(session, period_end=period_end, created_by="fin.officer", today=today)


def test_run_collects_due_lines_in_arrears_and_exports_them(session):
    provider = create_provider(session, name="=Meadowview, Care", reference="SUP-RUN1")
    a = create_agreement(session, provider=provider, unit_cost_pence=2350, units_per_week="14", start_date=MON,
                         end_date=date(2026, 1, 28), cost_code="ASC1234")
    dp = create_agreement(session, service_type="direct_payment", unit_cost_pence=21_000, units_per_week="1",
                          payee_reference="DP-ACC-9", start_date=date(2026, 1, 8), end_date=date(2026, 1, 18))
    run = _run(session, date(2026, 1, 18))
    assert run.status == "exported" and run.line_count == 4
    assert run.total_pence == 32_900 * 2 + 12_000 + 21_000
    assert run.file_name == f"casework-payments-20260118-run{run.id:06d}.csv"
    text = run.file_content
    assert text.endswith("\r\n") and "\r\n" in text and "\n\n" not in text
    rows = _rows(text)
    assert rows[0] == export.COLUMNS
    details = [dict(zip(export.COLUMNS, r, strict=True)) for r in rows[1:-1]]
    assert [d["record_type"] for d in details] == ["D"] * 4
    first = details[0]
    assert first == {
        "record_type": "D", "run_id": str(run.id), "line_id": first["line_id"], "agreement_reference": a.reference,
        "agreement_kind": "service", "payee_type": "provider", "payee_reference": "SUP-RUN1",
        "bank_details_reference": provider.bank_details_reference, "payee_name": "'=Meadowview, Care",
        "person_id": str(a.person_id), "service_type": "home_care", "cost_code": "ASC1234",
        "period_start": "2026-01-05", "period_end": "2026-01-11", "units": "14.00", "unit": "hour",
        "unit_cost_pence": "2350", "amount_pence": "32900", "amount": "329.00"}
    person_rows = [d for d in details if d["payee_type"] == "person"]
    assert [(d["period_start"], d["period_end"], d["amount_pence"]) for d in person_rows] == [
        ("2026-01-08", "2026-01-11", "12000"), ("2026-01-12", "2026-01-18", "21000")]
    assert person_rows[0]["payee_reference"] == "DP-ACC-9" and person_rows[0]["payee_name"] == ""
    trailer = dict(zip(export.COLUMNS, rows[-1], strict=True))
    assert (trailer["record_type"], trailer["run_id"], trailer["line_id"]) == ("T", str(run.id), "4")
    assert trailer["amount_pence"] == str(run.total_pence) and trailer["amount"] == "988.00"
    assert trailer["period_end"] == "2026-01-18"
    # the week ending 25 Jan is not due yet in this run; the line of 26-28 Jan neither
    pending = session.scalars(select(ScheduleLine).where(ScheduleLine.agreement_id == a.id,
                                                         ScheduleLine.status == "pending")).all()
    assert [ln.period_start for ln in pending] == [date(2026, 1, 19), date(2026, 1, 26)]
    assert dp.status == "authorised"


def test_a_line_is_exported_once_and_a_run_is_never_recollected(session):
    a = create_agreement(session, start_date=MON, end_date=date(2026, 1, 25))
    first = _run(session, date(2026, 1, 11))
    assert first.line_count == 1
    with pytest.raises(Conflict) as repeated:  # the same run again: refused, naming the run that paid it
        _run(session, date(2026, 1, 11))
    assert repeated.value.code == "already_paid" and repeated.value.details["run_id"] == first.id
    assert f"payment run {first.id}" in repeated.value.message
    third = _run(session, date(2026, 1, 25))
    assert third.line_count == 2
    lines = schedule.lines_for(session, a.id)
    assert [ln.payment_run_id for ln in lines] == [first.id, third.id, third.id]
    assert all(ln.status == "exported" and ln.exported_at is not None for ln in lines)
    # re-download: the same bytes, counted
    name, text = runs.download(session, first.id)
    assert (name, text) == (first.file_name, first.file_content)
    assert runs.download(session, first.id)[1] == text and first.download_count == 2
    assert export.sha256(text) == first.file_sha256
    listed, total = runs.list_runs(session)
    assert total == 2 and [r.id for r in listed] == [third.id, first.id]  # the refused run left nothing


def test_runs_extend_open_ended_schedules(session):
    a = create_agreement(session, start_date=MON, today=MON)  # scheduled 4 weeks ahead only
    run = _run(session, date(2026, 3, 1))
    assert run.line_count == 8  # 5 Jan .. 1 Mar
    assert max(ln.period_end for ln in schedule.lines_for(session, a.id)) == date(2026, 3, 1)


def test_cancelled_agreement_stops_future_lines_and_reports_overpayment(session):
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=MON,
                         end_date=date(2026, 2, 1))
    paid = _run(session, date(2026, 1, 18))
    assert paid.line_count == 2
    outcome = agreements.end(session, a, end_date=date(2026, 1, 14), reason="Died", version=a.version)
    assert outcome == {"cancelled_lines": 2, "overpaid_pence": 4000}  # 15-18 Jan was paid already
    with pytest.raises(Invalid) as nothing:
        _run(session, date(2026, 2, 28))
    assert nothing.value.code == "nothing_due" and "period_end" in nothing.value.details
    assert {ln.status for ln in schedule.lines_for(session, a.id)} == {"exported", "cancelled"}


def test_cancelling_an_ended_overpaid_agreement_keeps_its_end_date(session):
    """Ended on 14 Jan after being paid to 18 Jan: cancelling later must not move the end to the last paid day
    (the 15-18 Jan overpayment to recover would vanish)."""
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=MON,
                         end_date=date(2026, 2, 1))
    _run(session, date(2026, 1, 18))
    agreements.end(session, a, end_date=date(2026, 1, 14), reason="Died", version=a.version)
    agreements.cancel(session, a, reason="Tidy up", version=a.version)
    assert a.end_date == date(2026, 1, 14)


def test_cancel_after_some_payments_keeps_them_and_stops_the_rest(session):
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=MON, today=MON)
    paid = _run(session, date(2026, 1, 18))
    assert paid.line_count == 2
    outcome = agreements.cancel(session, a, reason="Provider closed")
    assert outcome["cancelled_lines"] == 3 and a.end_date == date(2026, 1, 18)
    with pytest.raises(Invalid):
        _run(session, date(2026, 3, 1))
    assert [ln.status for ln in schedule.lines_for(session, a.id)] == ["exported"] * 2 + ["cancelled"] * 3


def test_requested_and_rejected_agreements_are_not_paid(session):
    requested = create_agreement(session, start_date=MON, authorise=False)
    rejected = create_agreement(session, start_date=MON, authorise=False)
    agreements.reject(session, rejected, reason="Not eligible")
    with pytest.raises(Invalid):  # nothing is due
        _run(session, date(2026, 2, 1))
    for a in (requested, rejected):
        assert schedule.lines_for(session, a.id) == []


def test_one_off_is_paid_once_after_its_date(session):
    person = create_person(session)
    create_agreement(session, person=person, service_type="one_off", unit_cost_pence=45_000, units_per_week="1",
                     start_date=date(2026, 1, 14))
    with pytest.raises(Invalid):
        _run(session, date(2026, 1, 13))
    run = _run(session, date(2026, 1, 14))
    assert run.line_count == 1 and run.total_pence == 45_000


def test_period_end_in_the_future_is_refused_and_unknown_run_is_404(session):
    with pytest.raises(Invalid) as exc:
        _run(session, date(2026, 3, 3), today=TODAY)
    assert "period_end" in exc.value.details
    with pytest.raises(NotFound):
        runs.download(session, 987_654)


def _line_count(session):
    return session.scalar(select(func.count()).select_from(ScheduleLine))


@pytest.mark.parametrize("period_end", [date(2026, 3, 1), date(2026, 2, 25)], ids=["sunday", "mid-week"])
def test_preview_is_exactly_what_the_run_pays_and_writes_nothing(session, period_end):
    open_ended = create_agreement(session, start_date=date(2025, 12, 3), today=date(2025, 12, 3))
    create_agreement(session, start_date=date(2026, 1, 7), end_date=date(2026, 2, 18))
    create_agreement(session, start_date=date(2026, 2, 25), today=date(2026, 2, 25))
    create_agreement(session, service_type="one_off", unit_cost_pence=45_000, units_per_week="1",
                     start_date=date(2026, 2, 10))
    create_agreement(session, service_type="direct_payment", unit_cost_pence=21_000, units_per_week="1",
                     payee_reference="DP-ACC-PREV", start_date=date(2026, 1, 12))
    ended = create_agreement(session, start_date=date(2026, 1, 5), today=date(2026, 1, 5))
    agreements.end(session, ended, end_date=date(2026, 2, 11), reason="moved")
    create_agreement(session, authorise=False, start_date=date(2026, 1, 5))
    earlier = _run(session, date(2026, 1, 18))
    before = (_line_count(session), session.scalar(select(func.count()).select_from(PaymentRun)))

    preview = runs.preview_run(session, period_end, today=TODAY)
    assert (_line_count(session), session.scalar(select(func.count()).select_from(PaymentRun))) == before
    assert any(line.line_id is None and line.agreement_id == open_ended.id for line in preview.lines)  # added
    assert all(line.period_end <= period_end for line in preview.lines)
    assert preview.latest_run_id == earlier.id and preview.paid_by is None  # earlier covers 18 Jan only

    run = runs.create_run(session, period_end=period_end, created_by="fin.officer", today=TODAY,
                          expected_digest=preview.digest)
    paid = sorted((ln.agreement_id, ln.period_start, ln.period_end, ln.amount_pence) for ln in session.scalars(
        select(ScheduleLine).where(ScheduleLine.payment_run_id == run.id)))
    assert paid == sorted((x.agreement_id, x.period_start, x.period_end, x.amount_pence) for x in preview.lines)
    assert (run.line_count, run.total_pence) == (len(preview.lines), preview.total_pence)
    assert runs.run_digest(session, run.id) == preview.digest
    after = runs.preview_run(session, period_end)
    assert after.lines == [] and after.paid_by is run


def test_generate_due_adds_exactly_the_shared_selection(session):
    a = create_agreement(session, start_date=MON, today=MON)  # scheduled to 8 Feb
    due = schedule.due_extensions(session, date(2026, 3, 4))
    assert [(r["agreement_id"], r["period_start"]) for r in due] == [
        (a.id, date(2026, 2, 9)), (a.id, date(2026, 2, 16)), (a.id, date(2026, 2, 23)), (a.id, date(2026, 3, 2))]
    assert schedule.generate_due(session, date(2026, 3, 4)) == 4
    assert schedule.due_extensions(session, date(2026, 3, 4)) == []


def test_preview_refuses_a_future_period_end(session):
    with pytest.raises(Invalid) as exc:
        runs.preview_run(session, date(2026, 3, 3), today=TODAY)
    assert "period_end" in exc.value.details


def test_a_refused_run_writes_nothing_even_the_schedule_it_extended(session):
    create_agreement(session, start_date=MON, today=MON)  # open-ended: scheduled up to Sunday 8 Feb
    first = _run(session, date(2026, 2, 8))
    assert first.line_count == 5
    lines = _line_count(session)
    # Wednesday 11 Feb: the run would add the week 9-15 Feb (not due yet) and claim nothing -> refused, and
    # the line it added is rolled back with it
    with pytest.raises(Invalid) as nothing:
        _run(session, date(2026, 2, 11))
    assert nothing.value.code == "nothing_due" and "period_end" in nothing.value.details
    assert _line_count(session) == lines
    for period_end in (date(2026, 2, 8), date(2026, 2, 1)):  # covered by the first run, nothing since
        with pytest.raises(Conflict) as exc:
            _run(session, period_end)
        assert exc.value.code == "already_paid" and exc.value.details["run_id"] == first.id
    assert _line_count(session) == lines
    assert session.scalars(select(PaymentRun)).all() == [first]


def test_a_preview_that_changed_is_refused_and_writes_nothing(session):
    a = create_agreement(session, start_date=MON, end_date=date(2026, 2, 1))
    preview = runs.preview_run(session, date(2026, 1, 25), today=TODAY)
    assert len(preview.lines) == 3
    agreements.end(session, a, end_date=date(2026, 1, 14), reason="moved", version=a.version)
    with pytest.raises(Conflict) as exc:
        runs.create_run(session, period_end=date(2026, 1, 25), created_by="x", today=TODAY,
                        expected_digest=preview.digest)
    assert exc.value.code == "preview_changed"
    assert session.scalar(select(func.count()).select_from(PaymentRun)) == 0
    assert {ln.status for ln in schedule.lines_for(session, a.id)} == {"pending", "cancelled"}
    # the lines as they are now can be paid with a fresh preview
    fresh = runs.preview_run(session, date(2026, 1, 25), today=TODAY)
    run = runs.create_run(session, period_end=date(2026, 1, 25), created_by="x", today=TODAY,
                          expected_digest=fresh.digest)
    assert run.line_count == 2 and run.total_pence == fresh.total_pence
