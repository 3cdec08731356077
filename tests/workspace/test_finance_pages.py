"""Finance pages (/finance/...): agreements list and page, payment runs list, prepare -> preview (writes
nothing) -> confirm (one run; a second submit is refused with a GOV.UK error), run page and its file;
permissions, navigation, date validation (422 with the error summary) and CSRF."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.finance import agreements as agreement_service
from casework.finance.models import PaymentRun, ScheduleLine
from casework.records.service_case import attach_process
from engine.schema import work_item
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.finance.factories import create_agreement, create_case, create_person, create_provider
from tests.workspace.conftest import start_contact

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday 2 March 2026
PERIOD_END = date(2026, 3, 1)  # the Sunday before


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def title(response) -> str:  # type: ignore[no-untyped-def]
    return page(response).title.get_text(strip=True)


def error_summary(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    box = page(response).select_one(".govuk-error-summary")
    assert box is not None, response.get_data(as_text=True)[:2000]
    return [(a.get_text(strip=True), a["href"]) for a in box.select("a")]


def counts(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(payment runs, schedule lines, exported lines)."""
    return (session.scalar(select(func.count()).select_from(PaymentRun)),
            session.scalar(select(func.count()).select_from(ScheduleLine)),
            session.scalar(select(func.count()).select_from(ScheduleLine).where(ScheduleLine.status == "exported")))


@pytest.fixture
def officer(app, client, session):  # type: ignore[no-untyped-def]
    app.config["CLOCK"] = lambda: NOW
    user = create_user(session, username="fin.page.officer", display_name="Fiona Finance",
                       roles=["finance_officer"])
    return {"user": user, "csrf": sign_in(client, user)}


def preview_form(client, when: date = PERIOD_END):  # type: ignore[no-untyped-def]
    return client.get(f"/finance/payment-runs/new?period_end-day={when.day}&period_end-month={when.month}"
                      f"&period_end-year={when.year}")


def confirm_fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    form = page(response).select_one("form[method=post][action='/finance/payment-runs']")
    assert form is not None, "no confirm form on the preview"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def test_practitioner_is_refused_and_sees_no_finance_entry(app, client, session) -> None:
    app.config["CLOCK"] = lambda: NOW
    practitioner = create_user(session, roles=["practitioner"])
    token = sign_in(client, practitioner)
    for url in ("/finance/agreements", "/finance/agreements/1", "/finance/payment-runs",
                "/finance/payment-runs/new", "/finance/payment-runs/1", "/finance/payment-runs/1/file"):
        assert client.get(url).status_code == 403, url
    refused = client.post("/finance/payment-runs", data={"csrf_token": token, "period_end": "2026-03-01"})
    assert refused.status_code == 403
    assert counts(session)[0] == 0
    labels = [a.get_text(strip=True) for a in page(client.get("/")).select(".govuk-service-navigation a")]
    assert any(label.startswith("My work") for label in labels) and "Finance" not in labels


def test_finance_officer_has_the_finance_entry(client, session, officer) -> None:
    nav = page(client.get("/finance/payment-runs")).select(".govuk-service-navigation a")
    assert ("Finance", "/finance/agreements") in [(a.get_text(strip=True), a["href"]) for a in nav]


def test_agreements_list_filters_pages_and_hides_restricted_names(client, session, officer) -> None:
    home_care, day_centre = create_provider(session, name="Meadow Care"), create_provider(session, name="Oak Day")
    shown = create_person(session, surname="Visibleperson")
    sealed = create_person(session, surname="Sealedperson")
    sealed.restricted = True
    active = create_agreement(session, person=shown, provider=home_care, unit_cost_pence=2550,
                              units_per_week="10")
    requested = create_agreement(session, person=sealed, provider=day_centre, authorise=False,
                                 service_type="day_care", unit_cost_pence=4000, units_per_week="2")
    session.flush()

    response = client.get("/finance/agreements")
    assert response.status_code == 200 and title(response) == "Agreements – casework"
    rows = {r["data-agreement"]: [c.get_text(" ", strip=True) for c in r.select("td")]
            for r in page(response).select("#agreements tbody tr")}
    assert rows[str(active.id)][0] == active.reference
    assert rows[str(active.id)][1] == "Pat Visibleperson"
    assert rows[str(active.id)][2] == "Meadow Care"
    assert rows[str(active.id)][4] == "£255.00 a week £13,260.00 a year"
    assert rows[str(active.id)][5] == "Active"
    assert rows[str(active.id)][6] == "5 January 2026 to no end date"
    assert rows[str(requested.id)][1] == "Restricted record"  # the records policy: no name, no link
    assert "Sealedperson" not in response.get_data(as_text=True)
    assert rows[str(requested.id)][5] == "Requested"

    by_status = page(client.get("/finance/agreements?status=requested")).select("#agreements tbody tr")
    assert [r["data-agreement"] for r in by_status] == [str(requested.id)]
    by_provider = page(client.get(f"/finance/agreements?provider={home_care.id}")).select("#agreements tbody tr")
    assert [r["data-agreement"] for r in by_provider] == [str(active.id)]

    bad = client.get("/finance/agreements?status=paid&provider=abc")
    assert bad.status_code == 422
    assert title(bad).startswith("Error: ")
    assert ("Choose a status from the list", "#status") in error_summary(bad)
    assert ("Choose a provider from the list", "#provider") in error_summary(bad)


def test_agreements_are_paged(client, session, officer) -> None:
    provider = create_provider(session)
    made = [create_agreement(session, provider=provider, authorise=False) for _ in range(27)]
    first = page(client.get(f"/finance/agreements?provider={provider.id}"))
    assert len(first.select("#agreements tbody tr")) == 25
    assert "27 agreements (page 1 of 2)" in first.select_one("#result-count").get_text()
    second = page(client.get(f"/finance/agreements?provider={provider.id}&page=2"))
    assert [r["data-agreement"] for r in second.select("#agreements tbody tr")] == [str(made[1].id),
                                                                                    str(made[0].id)]


def test_agreement_page_facts_lines_and_process_link(client, session, connection, wf, officer) -> None:
    person = create_person(session, surname="Linkedperson")
    case = create_case(session, person=person)
    item = start_contact(wf, connection, case=case.reference)
    instance_id = connection.execute(select(work_item.c.instance_id).where(work_item.c.id == item)).scalar_one()
    attach_process(session, case, instance_id=instance_id, process_key="ws_contact")
    agreement = create_agreement(session, person=person, case_id=case.id, process_instance_id=instance_id,
                                 cost_code="AC123")

    response = client.get(f"/finance/agreements/{agreement.id}")
    assert response.status_code == 200
    assert title(response) == f"Agreement {agreement.reference} – casework"
    doc = page(response)
    facts = {dt.get_text(strip=True): dd.get_text(" ", strip=True)
             for dt, dd in zip(doc.select(".govuk-summary-list__key"), doc.select(".govuk-summary-list__value"),
                               strict=True)}
    assert facts["Person"].startswith("Pat Linkedperson") and case.reference in facts["Person"]
    assert facts["Cost"] == "£200.00 a week, £10,400.00 a year"
    assert facts["Cost code"] == "AC123"
    assert doc.select_one(f"a[href='/processes/{instance_id}']") is not None
    lines = doc.select("#lines tbody tr")
    assert len(lines) == 5  # authorised on 5 January 2026, open-ended: four weeks ahead
    assert lines[0].get_text(" ", strip=True).startswith("5 January 2026 to 11 January 2026")


def test_process_of_a_case_the_officer_may_not_see_is_not_linked(client, session, connection, wf,
                                                                officer) -> None:
    other_team = create_team(session)
    person = create_person(session)
    case = create_case(session, person=person)
    case.team_id = other_team.id
    item = start_contact(wf, connection, case=case.reference)
    instance_id = connection.execute(select(work_item.c.instance_id).where(work_item.c.id == item)).scalar_one()
    attach_process(session, case, instance_id=instance_id, process_key="ws_contact")
    agreement = create_agreement(session, person=person, process_instance_id=instance_id)
    doc = page(client.get(f"/finance/agreements/{agreement.id}"))
    assert doc.select_one(f"a[href='/processes/{instance_id}']") is None
    assert "You cannot open it" in doc.select_one("main").get_text()


def test_preview_writes_nothing_then_confirm_creates_one_run(client, session, officer) -> None:
    agreement = create_agreement(session, unit_cost_pence=2000, units_per_week="10")  # 200.00 a week
    before = counts(session)
    assert before == (0, 5, 0)

    form = client.get("/finance/payment-runs/new")
    assert form.status_code == 200 and title(form) == "Prepare a payment run – casework"
    assert page(form).select_one("#period_end-day")["value"] == "1"  # last Sunday suggested

    preview = preview_form(client)
    assert preview.status_code == 200 and title(preview) == "Check the payment run – casework"
    assert counts(session) == before  # nothing written, not even the schedule lines the run will add
    summary = {dt.get_text(strip=True): dd.get_text(strip=True) for dt, dd in zip(
        page(preview).select(".govuk-summary-list__key"), page(preview).select(".govuk-summary-list__value"),
        strict=True)}
    assert summary["Payments"] == "8"  # 5 scheduled + 3 weeks the run adds, up to Sunday 1 March
    assert summary["Total"] == "£1,600.00"
    row = page(preview).select_one(f"#preview tr[data-agreement='{agreement.id}']")
    assert row is not None and "5 January 2026 to 1 March 2026" in row.get_text(" ", strip=True)

    fields = confirm_fields(preview)
    created = client.post("/finance/payment-runs", data=fields)
    assert created.status_code == 303
    run = session.scalars(select(PaymentRun)).one()
    assert created.headers["Location"] == f"/finance/payment-runs/{run.id}"
    assert (run.line_count, run.total_pence, run.created_by) == (8, 160_000, "fin.page.officer")
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.record_type == "finance_payment_run", AuditEvent.record_id == str(run.id))) == 1

    again = client.post("/finance/payment-runs", data=fields)  # double submit / back and submit again
    assert again.status_code == 409
    assert error_summary(again)[0][1] == "#what-would-be-paid"
    assert "no payment run was created" in error_summary(again)[0][0]
    assert page(again).select_one(f"a[href='/finance/payment-runs/{run.id}']") is not None  # made since
    assert counts(session)[0] == 1
    assert page(again).select_one("form[method=post][action='/finance/payment-runs']") is None  # nothing due

    shown = client.get(f"/finance/payment-runs/{run.id}")
    assert shown.status_code == 200 and title(shown) == f"Payment run {run.id} – casework"
    assert "Payment run" in page(shown).select_one(".govuk-notification-banner").get_text()
    assert len(page(shown).select("#lines tbody tr")) == 8
    download = page(shown).select_one("#download")
    assert download["href"] == f"/finance/payment-runs/{run.id}/file"

    listed = page(client.get("/finance/payment-runs"))
    cells = [c.get_text(" ", strip=True) for c in listed.select_one(f"#runs tr[data-run='{run.id}']").select("td")]
    assert cells[:5] == [f"Run {run.id}", "1 March 2026", "Exported", "8", "£1,600.00"]
    assert cells[5].startswith("Fiona Finance")


def test_payment_file_download(client, session, officer) -> None:
    create_agreement(session)
    client.post("/finance/payment-runs", data=confirm_fields(preview_form(client)))
    run = session.scalars(select(PaymentRun)).one()
    response = client.get(f"/finance/payment-runs/{run.id}/file")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{run.file_name}"'
    assert response.get_data(as_text=True) == run.file_content
    assert response.get_data(as_text=True).startswith("record_type,run_id,line_id,")
    session.refresh(run)
    assert run.download_count == 1


def test_confirm_refused_when_what_is_due_changed(client, session, officer) -> None:
    agreement = create_agreement(session)
    fields = confirm_fields(preview_form(client))
    agreement_service.cancel(session, agreement, reason="moved away")  # every unpaid line stopped
    session.flush()
    refused = client.post("/finance/payment-runs", data=fields)
    assert refused.status_code == 409
    assert counts(session)[0] == 0  # the run it would have made was rolled back


@pytest.mark.parametrize("period_end", [PERIOD_END, date(2026, 2, 25)], ids=["sunday", "mid-week"])
def test_preview_matches_what_the_run_pays_for_every_kind_of_agreement(client, session, officer,
                                                                       period_end) -> None:
    """The preview works out the lines the run adds itself: for open-ended, fixed-term (ending mid-week),
    later-starting, one-off, direct payment, ended, cancelled and requested agreements, and lines already paid
    by an earlier run, it must name exactly the lines the service then pays (or the confirm is refused)."""
    from casework.finance import runs

    open_ended = create_agreement(session, start_date=date(2025, 12, 3))  # a Wednesday: first week pro-rated
    create_agreement(session, start_date=date(2026, 1, 7), end_date=date(2026, 2, 18))  # ends mid-week
    create_agreement(session, start_date=date(2026, 2, 25), today=date(2026, 2, 25))  # starts last week
    create_agreement(session, start_date=date(2026, 3, 4))  # starts after the period end: nothing due
    create_agreement(session, service_type="one_off", unit_cost_pence=45_000, units_per_week="1",
                     start_date=date(2026, 2, 10))
    create_agreement(session, service_type="one_off", unit_cost_pence=9_900, units_per_week="1",
                     start_date=date(2026, 3, 2))  # today: after the period end
    create_agreement(session, service_type="direct_payment", unit_cost_pence=21_000, units_per_week="1",
                     payee_reference="DP-ACC-PAGES", start_date=date(2026, 1, 12))
    ended = create_agreement(session, start_date=date(2026, 1, 5))
    agreement_service.end(session, ended, end_date=date(2026, 2, 11), reason="moved")
    cancelled = create_agreement(session, start_date=date(2026, 1, 5))
    agreement_service.cancel(session, cancelled, reason="not needed")
    create_agreement(session, authorise=False, start_date=date(2026, 1, 5))  # requested: never paid
    earlier = runs.create_run(session, period_end=date(2026, 1, 18), created_by="someone", today=date(2026, 3, 2))
    session.flush()
    assert earlier.line_count > 0

    preview = preview_form(client, period_end)
    assert preview.status_code == 200
    fields = confirm_fields(preview)
    summary = {dt.get_text(strip=True): dd.get_text(strip=True) for dt, dd in zip(
        page(preview).select(".govuk-summary-list__key"), page(preview).select(".govuk-summary-list__value"),
        strict=True)}
    assert page(preview).select_one(f"#preview tr[data-agreement='{open_ended.id}']") is not None
    created = client.post("/finance/payment-runs", data=fields)
    assert created.status_code == 303, error_summary(created)
    run = session.scalars(select(PaymentRun).where(PaymentRun.id != earlier.id)).one()
    assert summary["Payments"] == str(run.line_count) and run.line_count > 10
    assert summary["Total"] == f"£{run.total_pence // 100:,}.{run.total_pence % 100:02d}"


@pytest.mark.parametrize(("parts", "message"), [
    ({}, "Enter the last day the run pays for"),
    ({"day": "1", "month": "3"}, "The last day the run pays for must include a year"),
    ({"day": "31", "month": "2", "year": "2026"}, "The last day the run pays for must be a real date"),
    ({"day": "x", "month": "3", "year": "2026"}, "The last day the run pays for must be a real date"),
    ({"day": "3", "month": "3", "year": "2026"}, "The last day the run pays for must be today or in the past"),
])
def test_bad_period_end_is_422_with_the_error_summary(client, session, officer, parts, message) -> None:
    query = "&".join(f"period_end-{k}={parts.get(k, '')}" for k in ("day", "month", "year"))
    response = client.get(f"/finance/payment-runs/new?{query}")
    assert response.status_code == 422
    assert title(response) == "Error: Prepare a payment run – casework"
    (text, href), = error_summary(response)
    assert text.startswith(message) and href == "#period_end-day"
    doc = page(response)
    assert doc.select_one("#period_end-error") is not None
    assert doc.select_one("#period_end-day")["value"] == parts.get("day", "") or not parts.get("day")


def test_confirm_with_a_future_date_is_422_and_creates_nothing(client, session, officer) -> None:
    response = client.post("/finance/payment-runs", data={"csrf_token": officer["csrf"], "period_end": "2026-03-08",
                                                          "digest": "x", "after_run": "0"})
    assert response.status_code == 422
    assert error_summary(response)[0][1] == "#period_end-day"
    assert counts(session)[0] == 0


def test_confirm_without_the_csrf_token_is_refused(client, session, officer) -> None:
    create_agreement(session)
    fields = confirm_fields(preview_form(client))
    fields.pop("csrf_token")
    response = client.post("/finance/payment-runs", data=fields)
    assert response.status_code in (400, 403)
    assert counts(session)[0] == 0


def test_unknown_agreement_and_run_are_404(client, officer) -> None:
    assert client.get("/finance/agreements/999999").status_code == 404
    assert client.get("/finance/payment-runs/999999").status_code == 404
    assert client.get("/finance/payment-runs/999999/file").status_code == 404


def test_preview_page_shows_the_finance_service_preview(client, session, officer) -> None:
    """The page's figures and confirm digest are the service's (runs.preview_run), not a copy of its logic."""
    from casework.finance import runs

    create_agreement(session, start_date=date(2026, 1, 5), today=date(2026, 1, 5))
    create_agreement(session, service_type="one_off", unit_cost_pence=45_000, units_per_week="1",
                     start_date=date(2026, 2, 10))
    service = runs.preview_run(session, PERIOD_END)
    preview = preview_form(client)
    fields = confirm_fields(preview)
    assert fields["digest"] == service.digest and fields["after_run"] == str(service.latest_run_id)
    summary = {dt.get_text(strip=True): dd.get_text(strip=True) for dt, dd in zip(
        page(preview).select(".govuk-summary-list__key"), page(preview).select(".govuk-summary-list__value"),
        strict=True)}
    assert summary["Payments"] == str(len(service.lines)) and summary["Agreements"] == "2"
    assert summary["Total"] == f"£{service.total_pence // 100:,}.{service.total_pence % 100:02d}"


def test_confirm_after_another_officer_paid_it_is_409_naming_that_run(client, session, officer) -> None:
    from casework.finance import runs

    create_agreement(session, start_date=date(2026, 2, 2), end_date=date(2026, 2, 22))
    fields = confirm_fields(preview_form(client, date(2026, 2, 22)))
    other = runs.create_run(session, period_end=PERIOD_END, created_by="someone.else", today=NOW.date())
    session.flush()
    refused = client.post("/finance/payment-runs", data=fields)
    assert refused.status_code == 409
    assert "no payment run was created" in error_summary(refused)[0][0]
    assert page(refused).select_one(f"a[href='/finance/payment-runs/{other.id}']") is not None
    assert counts(session)[0] == 1
    assert page(refused).select_one("form[method=post][action='/finance/payment-runs']") is None
