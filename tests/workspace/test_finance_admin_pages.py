"""Finance officer's admin pages: end or cancel an agreement (GOV.UK errors from the service's rules, nothing
written on refusal, audited as the API), the agreement's payment lines paged, and the run preview naming the run
that already paid the period, and providers (list with search and paging, page with agreements, add, change)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.finance import providers, runs
from casework.finance.models import Agreement, Provider, ScheduleLine
from tests.conftest import sign_in
from tests.factories import create_user
from tests.finance.factories import create_agreement, create_provider
from tests.workspace.test_finance_pages import error_summary, page, title

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday 2 March 2026
TODAY = date(2026, 3, 2)


@pytest.fixture
def officer(app, client, session):  # type: ignore[no-untyped-def]
    app.config["CLOCK"] = lambda: NOW
    user = create_user(session, username="fin.admin.officer", display_name="Fran Finance",
                       roles=["finance_officer"])
    return {"user": user, "csrf": sign_in(client, user)}


def audits(session, record_type: str, record_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditEvent).where(AuditEvent.record_type == record_type,
                                                         AuditEvent.record_id == str(record_id))))


def line_states(session, agreement_id: int) -> list[tuple[date, int, str]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(ScheduleLine.period_start, ScheduleLine.amount_pence, ScheduleLine.status)
        .where(ScheduleLine.agreement_id == agreement_id).order_by(ScheduleLine.period_start))]


def end_form(csrf: str, when: date | None, reason: str, version: int | str) -> dict[str, str]:
    data = {"csrf_token": csrf, "reason": reason, "version": str(version)}
    if when is not None:
        data |= {"end_date-day": str(when.day), "end_date-month": str(when.month), "end_date-year": str(when.year)}
    return data


# ---- end / cancel -------------------------------------------------------------------------------------------

def test_practitioner_cannot_open_or_post_the_admin_pages(app, client, session) -> None:
    app.config["CLOCK"] = lambda: NOW
    agreement = create_agreement(session, provider=create_provider(session))
    token = sign_in(client, create_user(session, roles=["practitioner"]))
    for url in (f"/finance/agreements/{agreement.id}/end", f"/finance/agreements/{agreement.id}/cancel"):
        assert client.get(url).status_code == 403, url
    before = line_states(session, agreement.id)
    refused = client.post(f"/finance/agreements/{agreement.id}/end",
                          data=end_form(token, date(2026, 2, 1), "moved", agreement.version))
    assert refused.status_code == 403
    assert client.post(f"/finance/agreements/{agreement.id}/cancel",
                       data={"csrf_token": token, "reason": "x", "version": agreement.version}).status_code == 403
    session.refresh(agreement)
    assert agreement.status == "authorised" and agreement.end_date is None
    assert line_states(session, agreement.id) == before


def test_end_an_agreement_from_its_page(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), unit_cost_pence=2000,
                                 units_per_week="7", start_date=date(2026, 1, 5), today=TODAY)
    view = page(client.get(f"/finance/agreements/{agreement.id}"))
    links = {a.get_text(strip=True): a["href"] for a in view.select("#stop-actions a")}
    assert links == {"End this agreement": f"/finance/agreements/{agreement.id}/end",
                     "Cancel this agreement": f"/finance/agreements/{agreement.id}/cancel"}

    form = client.get(f"/finance/agreements/{agreement.id}/end")
    assert form.status_code == 200 and title(form) == f"End agreement {agreement.reference} – casework"
    # Wednesday 11 February 2026: the week from 9 February is paid for 3 days, later weeks cancelled
    done = client.post(f"/finance/agreements/{agreement.id}/end",
                       data=end_form(officer["csrf"], date(2026, 2, 11), "Moved to residential care",
                                     agreement.version))
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/finance/agreements/{agreement.id}")
    session.refresh(agreement)
    assert agreement.status == "ended" and agreement.end_date == date(2026, 2, 11)
    assert agreement.decision_reason == "Moved to residential care"
    states = dict((start, (pence, status)) for start, pence, status in line_states(session, agreement.id))
    assert states[date(2026, 2, 9)] == (6000, "pending")  # 3 of 7 days of £140 a week
    assert states[date(2026, 2, 16)][1] == "cancelled"
    events = audits(session, "finance_agreement", agreement.id)
    assert [(e.action, e.reason) for e in events] == [("update", "Moved to residential care")]
    shown = page(client.get(done.headers["Location"]))
    banner = shown.select_one(".govuk-notification-banner").get_text(" ", strip=True)
    assert f"Agreement {agreement.reference} ended on 11 February 2026." in banner
    # ended, with the pro-rated week still to pay: the service allows ending earlier or cancelling it
    assert [a.get_text(strip=True) for a in shown.select("#stop-actions a")] == [
        "Bring the end date forward", "Cancel this agreement"]


def test_end_reports_money_already_paid_after_the_end_date(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), unit_cost_pence=1000,
                                 units_per_week="7", start_date=date(2026, 1, 5), today=TODAY)
    runs.create_run(session, period_end=date(2026, 2, 22), created_by="someone", today=TODAY)
    session.flush()
    form = page(client.get(f"/finance/agreements/{agreement.id}/end"))
    assert "Payments have been made for periods up to 22 February 2026." in form.select_one("#paid-until").get_text()
    done = client.post(f"/finance/agreements/{agreement.id}/end",
                       data=end_form(officer["csrf"], date(2026, 2, 15), "Died", agreement.version))
    assert done.status_code == 303
    banner = page(client.get(done.headers["Location"])).select_one(".govuk-notification-banner").get_text()
    assert "£70.00 was already paid for days after the end date" in banner  # the week of 16 February


def test_end_refusals_show_the_error_summary_and_write_nothing(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), start_date=date(2026, 1, 5),
                                 end_date=date(2026, 6, 28), today=TODAY)
    url = f"/finance/agreements/{agreement.id}/end"
    before, version = line_states(session, agreement.id), agreement.version

    def unchanged() -> None:
        session.refresh(agreement)
        assert agreement.status == "authorised" and agreement.end_date == date(2026, 6, 28)
        assert agreement.version == version
        assert line_states(session, agreement.id) == before
        assert audits(session, "finance_agreement", agreement.id) == []

    empty = client.post(url, data=end_form(officer["csrf"], None, "", version))
    assert empty.status_code == 422 and title(empty).startswith("Error: ")
    assert error_summary(empty) == [("Enter the end date", "#end_date-day"),
                                    ("Enter the reason for ending the agreement", "#reason")]
    unchanged()

    unreal = client.post(url, data=end_form(officer["csrf"], None, "r", version) | {
        "end_date-day": "31", "end_date-month": "2", "end_date-year": "2026"})
    assert unreal.status_code == 422
    assert error_summary(unreal) == [("The end date must be a real date", "#end_date-day")]
    assert page(unreal).select_one("#reason").get_text() == "r"  # what was typed is kept

    before_start = client.post(url, data=end_form(officer["csrf"], date(2026, 1, 4), "Too early", version))
    assert before_start.status_code == 422  # the service's rule
    assert error_summary(before_start) == [("Must be on or after the agreement's start date", "#end_date-day")]
    unchanged()

    after_end = client.post(url, data=end_form(officer["csrf"], date(2026, 7, 1), "Later", version))
    assert after_end.status_code == 422
    assert error_summary(after_end) == [("Must be on or before the current end date 2026-06-28", "#end_date-day")]
    unchanged()

    stale = client.post(url, data=end_form(officer["csrf"], date(2026, 2, 1), "Stale page", version - 1))
    assert stale.status_code == 409
    assert "changed by someone else" in error_summary(stale)[0][0]
    unchanged()

    no_csrf = client.post(url, data=end_form("not-the-token", date(2026, 2, 1), "x", version))
    assert no_csrf.status_code in (400, 403)
    unchanged()


def test_cancel_stops_every_payment_not_made(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), unit_cost_pence=1000,
                                 units_per_week="7", start_date=date(2026, 1, 5), today=TODAY)
    run = runs.create_run(session, period_end=date(2026, 1, 18), created_by="someone", today=TODAY)
    session.flush()
    form = client.get(f"/finance/agreements/{agreement.id}/cancel")
    assert form.status_code == 200 and title(form) == f"Cancel agreement {agreement.reference} – casework"
    assert "the last day already paid (18 January 2026)" in page(form).get_text(" ")

    missing = client.post(f"/finance/agreements/{agreement.id}/cancel",
                          data={"csrf_token": officer["csrf"], "reason": " ", "version": agreement.version})
    assert missing.status_code == 422
    assert error_summary(missing) == [("Enter the reason for cancelling the agreement", "#reason")]
    assert {s for _d, _p, s in line_states(session, agreement.id)} == {"exported", "pending"}

    done = client.post(f"/finance/agreements/{agreement.id}/cancel",
                       data={"csrf_token": officer["csrf"], "reason": "Never started", "version": agreement.version})
    assert done.status_code == 303
    session.refresh(agreement)
    assert agreement.status == "ended" and agreement.end_date == date(2026, 1, 18)
    assert agreement.decision_reason == "Cancelled: Never started"
    states = line_states(session, agreement.id)
    assert [s for d, _p, s in states if d < date(2026, 1, 19)] == ["exported", "exported"]
    assert {s for d, _p, s in states if d >= date(2026, 1, 19)} == {"cancelled"}
    assert session.scalar(select(func.count()).select_from(ScheduleLine).where(
        ScheduleLine.payment_run_id == run.id)) == 2
    assert [(e.action, e.reason) for e in audits(session, "finance_agreement", agreement.id)] == [
        ("update", "Never started")]

    ended = page(client.get(f"/finance/agreements/{agreement.id}"))
    # ended with nothing left to pay: the service would still let the end date come forward, nothing to cancel
    assert [a.get_text(strip=True) for a in ended.select("#stop-actions a")] == ["Bring the end date forward"]


def test_requested_agreement_cannot_be_ended(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), authorise=False)
    assert page(client.get(f"/finance/agreements/{agreement.id}")).select_one("#stop-actions") is None
    refused = client.post(f"/finance/agreements/{agreement.id}/end",
                          data=end_form(officer["csrf"], date(2026, 2, 1), "No", agreement.version))
    assert refused.status_code == 409
    assert "only an authorised agreement can be ended" in error_summary(refused)[0][0]
    assert session.get(Agreement, agreement.id).status == "requested"
    cancel = client.post(f"/finance/agreements/{agreement.id}/cancel",
                         data={"csrf_token": officer["csrf"], "reason": "No", "version": agreement.version})
    assert cancel.status_code == 409
    assert "only an authorised agreement can be cancelled" in error_summary(cancel)[0][0]
    form = page(client.get(f"/finance/agreements/{agreement.id}/cancel"))
    assert form.select_one("form[action$='/cancel']") is None and form.select_one("#not-active") is not None
    assert audits(session, "finance_agreement", agreement.id) == []


def test_an_ended_agreement_can_be_ended_earlier(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), unit_cost_pence=1000,
                                 units_per_week="7", start_date=date(2026, 1, 5), today=TODAY)
    first = client.post(f"/finance/agreements/{agreement.id}/end",
                        data=end_form(officer["csrf"], date(2026, 2, 22), "Moving", agreement.version))
    assert first.status_code == 303
    session.refresh(agreement)
    later = client.post(f"/finance/agreements/{agreement.id}/end",
                        data=end_form(officer["csrf"], date(2026, 3, 1), "Later", agreement.version))
    assert later.status_code == 422  # the service: not after the current end date
    assert error_summary(later) == [("Must be on or before the current end date 2026-02-22", "#end_date-day")]
    earlier = client.post(f"/finance/agreements/{agreement.id}/end",
                          data=end_form(officer["csrf"], date(2026, 2, 8), "Moved earlier", agreement.version))
    assert earlier.status_code == 303
    session.refresh(agreement)
    assert agreement.end_date == date(2026, 2, 8)
    assert [e.reason for e in audits(session, "finance_agreement", agreement.id)] == ["Moving", "Moved earlier"]


# ---- payment lines paged ------------------------------------------------------------------------------------

def test_agreement_lines_are_paged_50_at_a_time(client, session, officer) -> None:
    agreement = create_agreement(session, provider=create_provider(session), start_date=date(2024, 1, 1),
                                 end_date=date(2026, 2, 1), today=TODAY)
    all_lines = [r[0] for r in session.execute(select(ScheduleLine.id).where(
        ScheduleLine.agreement_id == agreement.id).order_by(ScheduleLine.period_start))]
    assert len(all_lines) == 109  # 1 Jan 2024 to 1 Feb 2026, Monday to Sunday weeks
    first = page(client.get(f"/finance/agreements/{agreement.id}"))
    assert [int(r["data-line"]) for r in first.select("#lines tbody tr")] == all_lines[:50]
    assert first.select_one("#lines-count").get_text(strip=True) == "Lines 1 to 50 of 109"
    nav = first.select_one("nav.govuk-pagination")
    assert nav is not None and nav.select_one(".govuk-pagination__next a")["href"].endswith(
        f"/finance/agreements/{agreement.id}?page=2#lines-heading")
    last = page(client.get(f"/finance/agreements/{agreement.id}?page=3"))
    assert [int(r["data-line"]) for r in last.select("#lines tbody tr")] == all_lines[100:]
    beyond = page(client.get(f"/finance/agreements/{agreement.id}?page=99"))  # past the end: the last page
    assert [int(r["data-line"]) for r in beyond.select("#lines tbody tr")] == all_lines[100:]
    short = create_agreement(session, provider=create_provider(session), start_date=date(2026, 1, 5),
                             end_date=date(2026, 1, 25), today=TODAY)
    small = page(client.get(f"/finance/agreements/{short.id}"))
    assert len(small.select("#lines tbody tr")) == 3 and small.select_one("nav.govuk-pagination") is None


# ---- preview: already paid ----------------------------------------------------------------------------------

def test_preview_with_nothing_due_names_the_run_that_paid_it(client, session, officer) -> None:
    create_agreement(session, provider=create_provider(session), unit_cost_pence=1000, units_per_week="7",
                     start_date=date(2026, 2, 2), end_date=date(2026, 2, 15), today=TODAY)
    run = runs.create_run(session, period_end=date(2026, 3, 1), created_by="someone", today=TODAY)
    session.flush()
    preview = page(client.get("/finance/payment-runs/new?period_end-day=22&period_end-month=2"
                              "&period_end-year=2026"))
    assert preview.select_one("#nothing-due") is not None
    paid_by = preview.select_one("#paid-by")
    assert paid_by is not None
    assert paid_by.select_one("a")["href"] == f"/finance/payment-runs/{run.id}"
    assert paid_by.get_text(" ", strip=True) == (f"Payment run {run.id} already paid up to 1 March 2026 "
                                                 "(2 payments, £140.00).")
    assert preview.select_one("#confirm") is None


def test_preview_with_nothing_due_and_no_run_says_nothing_about_a_run(client, session, officer) -> None:
    preview = page(client.get("/finance/payment-runs/new?period_end-day=22&period_end-month=2"
                              "&period_end-year=2026"))
    assert preview.select_one("#nothing-due") is not None and preview.select_one("#paid-by") is None


# ---- providers ----------------------------------------------------------------------------------------------

def provider_form(csrf: str, **values: str) -> dict[str, str]:
    return {"csrf_token": csrf, "name": "", "reference": "", "cqc_location_id": "", "bank_details_reference": "",
            "active": "yes"} | values


def provider_count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Provider))


def test_practitioner_cannot_use_the_provider_pages(app, client, session) -> None:
    app.config["CLOCK"] = lambda: NOW
    provider = create_provider(session, name="Kept Care")
    token = sign_in(client, create_user(session, roles=["practitioner"]))
    for url in ("/finance/providers", "/finance/providers/new", f"/finance/providers/{provider.id}",
                f"/finance/providers/{provider.id}/edit"):
        assert client.get(url).status_code == 403, url
    count = provider_count(session)
    assert client.post("/finance/providers", data=provider_form(token, name="Sneaky", reference="SNK-1")
                       ).status_code == 403
    assert client.post(f"/finance/providers/{provider.id}/edit", data=provider_form(
        token, name="Renamed", reference=provider.reference, version=str(provider.version))).status_code == 403
    assert provider_count(session) == count
    session.refresh(provider)
    assert provider.name == "Kept Care"


def test_providers_list_searches_and_pages(client, session, officer) -> None:
    made = [create_provider(session, name=f"Birch Lodge {n:02d}", reference=f"BL-{n:02d}") for n in range(27)]
    create_provider(session, name="Willow House", reference="WH-1", active=False)
    session.flush()
    first = client.get("/finance/providers")
    assert first.status_code == 200 and title(first) == "Providers – casework"
    subnav = [a.get_text(strip=True) for a in page(first).select("nav[aria-label='Finance pages'] a")]
    assert "Providers" in subnav
    searched = page(client.get("/finance/providers?q=willow"))
    rows = [[c.get_text(" ", strip=True) for c in r.select("td")] for r in searched.select("#providers tbody tr")]
    assert rows == [["Willow House", "WH-1", "–", "Inactive"]]
    assert searched.select_one("#result-count").get_text(strip=True) == "1 provider matching “willow”"
    birch = page(client.get("/finance/providers?q=birch+lodge"))
    assert len(birch.select("#providers tbody tr")) == 25
    assert "27 providers" in birch.select_one("#result-count").get_text()
    next_href = birch.select_one(".govuk-pagination__next a")["href"]
    assert "q=birch+lodge" in next_href and "page=2" in next_href
    second = page(client.get(next_href))
    assert [int(r["data-provider"]) for r in second.select("#providers tbody tr")] == [made[25].id, made[26].id]


def test_provider_page_shows_details_and_its_agreements(client, session, officer) -> None:
    provider = create_provider(session, name="Meadow Care", reference="MC-77")
    other = create_provider(session)
    mine = create_agreement(session, provider=provider)
    create_agreement(session, provider=other)
    response = client.get(f"/finance/providers/{provider.id}")
    assert response.status_code == 200 and title(response) == "Meadow Care – casework"
    details = {r.select_one("dt").get_text(strip=True): r.select_one("dd").get_text(strip=True)
               for r in page(response).select("#provider-details .govuk-summary-list__row")}
    assert details["Supplier reference"] == "MC-77"
    assert details["Bank details reference"] == provider.bank_details_reference
    assert [r["data-agreement"] for r in page(response).select("#agreements tbody tr")] == [str(mine.id)]
    assert client.get("/finance/providers/999999").status_code == 404


def test_add_a_provider(client, session, officer) -> None:
    form = client.get("/finance/providers/new")
    assert form.status_code == 200 and title(form) == "Add a provider – casework"
    done = client.post("/finance/providers", data=provider_form(
        officer["csrf"], name="  Harbour Homes ", reference="HH-001", cqc_location_id="1-123456789",
        bank_details_reference="FIN-BANK-HH"))
    assert done.status_code == 303
    provider = session.scalar(select(Provider).where(Provider.reference == "HH-001"))
    assert provider is not None and done.headers["Location"].endswith(f"/finance/providers/{provider.id}")
    assert (provider.name, provider.cqc_location_id, provider.bank_details_reference, provider.active) == (
        "Harbour Homes", "1-123456789", "FIN-BANK-HH", True)
    assert provider.created_by == officer["user"].id
    assert [e.action for e in audits(session, "finance_provider", provider.id)] == ["create"]
    banner = page(client.get(done.headers["Location"])).select_one(".govuk-notification-banner")
    assert "Provider Harbour Homes added." in banner.get_text()


def test_add_a_provider_refusals_write_nothing(client, session, officer) -> None:
    create_provider(session, name="Taken", reference="TAKEN-1")
    count = provider_count(session)
    events = session.scalar(select(func.count()).select_from(AuditEvent))

    empty = client.post("/finance/providers", data=provider_form(officer["csrf"]))
    assert empty.status_code == 422 and title(empty) == "Error: Add a provider – casework"
    assert error_summary(empty) == [("Enter the provider's name", "#name"),
                                    ("Enter the provider's supplier reference from the finance system",
                                     "#reference")]

    bank = client.post("/finance/providers", data=provider_form(
        officer["csrf"], name="Sortcode Care", reference="SC-1", bank_details_reference="12-34-56 12345678"))
    assert bank.status_code == 422
    assert error_summary(bank) == [(providers.BANK_MESSAGE, "#bank_details_reference")]
    assert page(bank).select_one("#name")["value"] == "Sortcode Care"  # what was typed is kept

    bad = client.post("/finance/providers", data=provider_form(
        officer["csrf"], name="Odd", reference="has space", cqc_location_id="CQC123"))
    assert bad.status_code == 422
    assert dict((href, text) for text, href in error_summary(bad)) == {
        "#reference": "Letters, digits and / _ . - only",
        "#cqc_location_id": "A CQC location id looks like 1-123456789"}

    duplicate = client.post("/finance/providers", data=provider_form(officer["csrf"], name="Again",
                                                                      reference="taken-1"))
    assert duplicate.status_code == 422
    assert error_summary(duplicate) == [("Another provider already has this reference", "#reference")]

    assert provider_count(session) == count
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_change_a_provider(client, session, officer) -> None:
    provider = create_provider(session, name="Elm Care", reference="ELM-1")
    create_provider(session, name="Taken", reference="TAKEN-2")
    version = provider.version
    form = page(client.get(f"/finance/providers/{provider.id}/edit"))
    assert form.select_one("#name")["value"] == "Elm Care"
    assert form.select_one("input[name=version]")["value"] == str(version)

    duplicate = client.post(f"/finance/providers/{provider.id}/edit", data=provider_form(
        officer["csrf"], name="Elm Care", reference="TAKEN-2", version=str(version)))
    assert duplicate.status_code == 422
    assert error_summary(duplicate) == [("Another provider already has this reference", "#reference")]
    session.refresh(provider)
    assert (provider.reference, provider.version) == ("ELM-1", version)

    done = client.post(f"/finance/providers/{provider.id}/edit", data=provider_form(
        officer["csrf"], name="Elm Care Ltd", reference="ELM-1", bank_details_reference="FIN-BANK-ELM",
        active="no", version=str(version)))
    assert done.status_code == 303
    session.refresh(provider)
    assert (provider.name, provider.active, provider.bank_details_reference, provider.version) == (
        "Elm Care Ltd", False, "FIN-BANK-ELM", version + 1)
    events = audits(session, "finance_provider", provider.id)
    assert [(e.action, sorted(json.loads(e.fields))) for e in events] == [
        ("update", ["active", "bank_details_reference", "name"])]
    assert page(client.get(f"/finance/providers/{provider.id}")).select_one("#provider-status").get_text() == \
        "Inactive"

    stale = client.post(f"/finance/providers/{provider.id}/edit", data=provider_form(
        officer["csrf"], name="Elm Overwrite", reference="ELM-1", version=str(version)))
    assert stale.status_code == 409
    assert "changed by someone else" in error_summary(stale)[0][0]
    session.refresh(provider)
    assert provider.name == "Elm Care Ltd" and len(audits(session, "finance_provider", provider.id)) == 1


def test_agreement_pages_link_to_the_provider(client, session, officer) -> None:
    provider = create_provider(session, name="Linked Care")
    agreement = create_agreement(session, provider=provider)
    href = f"/finance/providers/{provider.id}"
    listed = page(client.get("/finance/agreements")).select_one(f"tr[data-agreement='{agreement.id}']")
    assert [a["href"] for a in listed.select("a") if a.get_text(strip=True) == "Linked Care"] == [href]
    shown = page(client.get(f"/finance/agreements/{agreement.id}"))
    assert [a["href"] for a in shown.select("a") if a.get_text(strip=True) == "Linked Care"] == [href]
