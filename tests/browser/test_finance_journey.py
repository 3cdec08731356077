"""The finance officer's pages in a real browser: sign in -> Finance (agreements) -> an agreement -> payment runs
-> prepare a run (a date in the future first: the error summary) -> check what would be paid -> confirm -> the
run's page and its payment file. axe-clean (WCAG 2.2 AA) and screenshotted at every step."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from casework.accounts import service as accounts
from casework.extensions import database
from casework.finance.models import PaymentRun
from tests.browser.conftest import PASSWORD, Journey, LiveServer
from tests.finance.factories import create_agreement, create_person, create_provider

_seq = itertools.count(1)


def seed() -> dict:
    """A finance officer and an authorised home care agreement: 50.00 an hour x 14 hours = 700.00 a week, from
    a Monday three weeks ago, so three whole weeks are due up to last Sunday."""
    n = next(_seq)
    today = date.today()
    start = today - timedelta(days=today.weekday() + 21)
    with database.session_scope() as session:
        username = f"fj.finance.{n}.{start:%Y%m%d}"
        accounts.create_user(session, username=username, display_name=f"Fran Finance {n}", password=PASSWORD,
                             roles=["finance_officer"])
        person = create_person(session, surname=f"Journeyfinance{n}")
        provider = create_provider(session, name=f"Journey Homecare {n}")
        agreement = create_agreement(session, person=person, provider=provider, unit_cost_pence=5000,
                                     units_per_week="14", start_date=start, today=today)
        return {"user": username, "agreement_id": agreement.id, "reference": agreement.reference,
                "person": f"Pat {person.surname}", "provider": provider.name, "period_end": start + timedelta(days=20)}


def runs_count() -> int:
    with database.session_scope() as session:
        return session.scalar(select(func.count()).select_from(PaymentRun)) or 0


def fill_date(page, when: date) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Day").fill(str(when.day))
    page.get_by_label("Month").fill(str(when.month))
    page.get_by_label("Year").fill(str(when.year))


@pytest.mark.browser
def test_finance_officer_prepares_confirms_and_opens_a_payment_run(journey: Journey,
                                                                   live_server: LiveServer) -> None:
    s = seed()
    page = journey.page
    journey.sign_in(s["user"])
    journey.goto("/")
    journey.check("signed in")

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Finance").click()
    expect(page).to_have_title("Agreements – casework")
    row = page.locator(f"#agreements tr[data-agreement='{s['agreement_id']}']")
    expect(row).to_contain_text(s["person"])
    expect(row).to_contain_text("£700.00 a week")
    expect(row).to_contain_text("Active")
    journey.check("agreements")

    page.get_by_label("Status").select_option("authorised")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(f"{live_server.url}/finance/agreements?status=authorised&provider=")
    expect(row).to_be_visible()
    journey.check("agreements filtered")

    row.get_by_role("link", name=s["reference"]).click()
    expect(page).to_have_title(f"Agreement {s['reference']} – casework")
    expect(page.locator("#lines tbody tr").first).to_contain_text("Not paid yet")
    journey.check("agreement")

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Finance").click()
    page.get_by_role("navigation", name="Finance pages").get_by_role("link", name="Payment runs").click()
    expect(page).to_have_title("Payment runs – casework")
    journey.check("payment runs")

    page.get_by_role("link", name="Prepare a payment run").first.click()
    expect(page).to_have_title("Prepare a payment run – casework")
    journey.check("prepare a payment run")

    fill_date(page, date.today() + timedelta(days=7))
    page.get_by_role("button", name="Check what would be paid").click()
    expect(page).to_have_title("Error: Prepare a payment run – casework")
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be today or in the past")
    journey.check("future date refused")

    fill_date(page, s["period_end"])
    page.get_by_role("button", name="Check what would be paid").click()
    expect(page).to_have_title("Check the payment run – casework")
    mine = page.locator(f"#preview tr[data-agreement='{s['agreement_id']}']")
    expect(mine).to_contain_text("£2,100.00")
    expect(mine.locator("td").nth(4)).to_have_text("3")
    journey.check("check the payment run")
    before = runs_count()

    page.get_by_role("button", name="Confirm and create the payment run").click()
    expect(page).to_have_title(re.compile(r"^Payment run \d+ – casework$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("created")
    assert runs_count() == before + 1
    lines = page.locator("#lines tbody tr", has_text=s["reference"])
    expect(lines).to_have_count(3)
    expect(lines.first).to_contain_text("£700.00")
    journey.check("payment run")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download payment file").click()
    download = download_info.value
    assert download.suggested_filename.startswith("casework-payments-")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert len([line for line in text.splitlines() if s["reference"] in line]) == 3

    page.get_by_role("link", name="Payment runs", exact=True).first.click()
    expect(page).to_have_title("Payment runs – casework")
    journey.check("payment runs after the run")
