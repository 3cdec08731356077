"""More workspace pages on a 375 x 812 phone screen, with the same checks as test_mobile_pages.py (no sideways
scrolling, naming what sticks out; wide tables in named, focusable scroll regions; axe finds no WCAG 2.2 AA
problem): open a case, add a correction to a note, add a chronology entry, upload a document (with its type),
a document's page and a new version, the process diagram (the bpmn-js viewer stays inside its own box), the
emergency access (break-glass) request, and a payment run's page.

The file seeds its own world. The payment run is made from its own agreement, which started ten weeks ago and
ended eight weeks ago, for a period ending then: the other journeys' agreements start three weeks ago, so the
run claims none of their payment lines and leaves none of its own for their runs."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from casework.accounts import service as accounts
from casework.auth.access import Actor
from casework.db import utcnow
from casework.engine_host import get_engine, operation_session
from casework.extensions import database
from casework.finance.models import PaymentRun
from casework.records import service_case as cases
from casework.records import service_chronology as chronology
from casework.records import service_document as docs
from casework.records import service_note as notes
from casework.records.service_person import create_person
from tests.browser.conftest import Journey, LiveServer
from tests.browser.test_mobile_pages import LONG, PHONE_JOURNEY, fits, open_page, phone_staff
from tests.finance.factories import create_agreement, create_provider
from tests.finance.factories import create_person as create_finance_person
from tests.workspace.conftest import publish_test_process

_seq = itertools.count(1)
LONG_FILE = "initial-assessment-summary-from-the-school-nurse-and-the-health-visitor-november-2026.txt"
# words in table cells that wrap onto two lines although they have no hyphen or slash to break at (a date cut to
# "Septembe / r"): a table in its own scroll region should scroll, not break its words
BROKEN_WORDS = r"""() => {
  const broken = [];
  for (const cell of document.querySelectorAll('.casework-table-wrap th, .casework-table-wrap td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('.govuk-visually-hidden')) continue;
      for (const m of node.data.matchAll(/[^\s\-\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken.slice(0, 8);
}"""
# the diagram's box: where it ends, whether its own content reaches past it, and whether bpmn-js drew shapes
DIAGRAM = """() => {
  const box = document.getElementById('process-diagram');
  const inner = box.querySelector('.djs-container');
  return {right: box.getBoundingClientRect().right, width: box.clientWidth, scroll: box.scrollWidth,
          overflow: getComputedStyle(box).overflowX, innerRight: inner ? inner.getBoundingClientRect().right : null,
          innerOverflow: inner ? getComputedStyle(inner).overflowX : null,
          shapes: box.querySelectorAll('.djs-shape').length};
}"""


@pytest.fixture(scope="module")
def more_world(live_server: LiveServer) -> dict:
    database.configure(live_server.db_url)
    n = next(_seq)
    team, worker, manager, finance = phone_staff(f"mobm{n}", f"Children in need and child protection west {n}", n)
    surname = f"Mobilemore{n}"
    engine = get_engine(live_server.app)
    settings = live_server.app.config["SETTINGS"]
    today = date.today()
    with database.session_scope() as session:
        boss = Actor.from_user(accounts.get_user(session, manager))
        worker_row = accounts.get_user(session, worker)
        person = create_person(session, boss, {"forename": "Anastasia-Rose", "surname": surname,
                                               "date_of_birth": date(2015, 3, 14)}, confirm_not_duplicate=True)
        sealed = create_person(session, boss, {"forename": "Sealed", "surname": f"Sealedmobile{n}",
                                               "date_of_birth": date(2012, 6, 1), "restricted": True},
                               confirm_not_duplicate=True)
        case = cases.open_case(session, boss, person, {"service_area": "children", "open_reason": "referral",
                                                       "team_id": accounts.get_team(session, team).id,
                                                       "worker_id": worker_row.id})
        conn = session.connection()
        with operation_session(session):
            if not engine.definitions(conn, "ws_contact"):
                publish_test_process(engine, conn)
            started = engine.start(conn, "ws_contact", business_key=case.reference,
                                   data={"case_ref": case.reference}, actor="intake")
        cases.attach_process(session, case, instance_id=started.instance_id, process_key="ws_contact")
        note = notes.create_note(session, boss, person, {"note_type": "home_visit", "subject": "Home visit after "
                                                         "school", "body": LONG, "case_id": case.id}, complete=True)
        notes.add_correction(session, boss, note, body=LONG, reason="The email address of the duty team was wrong: "
                             "duty.social.worker.children@northamptonshire-childrens-trust.example.gov.uk")
        chronology.add_manual_entry(session, boss, person, kind="significant_event", title=LONG,
                                    occurred_at=utcnow() - timedelta(hours=2), case_id=case.id)
        document = docs.add_document(session, boss, documents_dir=settings.documents_dir,
                                     max_bytes=settings.max_upload_mb * 1024 * 1024, person_id=None,
                                     case_id=case.id, note_id=None, document_type="assessment_report",
                                     title="Initial assessment summary from the school nurse and the health visitor",
                                     upload=docs.Upload(LONG_FILE, b"Seen at school.\n"))
        docs.add_version(session, boss, document, documents_dir=settings.documents_dir,
                         max_bytes=settings.max_upload_mb * 1024 * 1024, expected_version=document.version,
                         upload=docs.Upload("v2-" + LONG_FILE, b"Seen at school again.\n"))
        # the payment run's own agreement: two whole weeks, ten to eight weeks ago (see the module docstring)
        start = today - timedelta(days=today.weekday() + 70)
        payee = create_finance_person(session, surname=f"Mobilerun{n}")
        provider = create_provider(session, name=f"Western Residential and Domiciliary Care Partnership {n}")
        agreement = create_agreement(session, person=payee, provider=provider, unit_cost_pence=5000,
                                     units_per_week="14", start_date=start, end_date=start + timedelta(days=13),
                                     today=today)
        return {"worker": worker, "manager": manager, "finance": finance, "person_id": person.id, "surname": surname,
                "sealed_id": sealed.id, "case_ref": case.reference, "note_id": note.id, "document_id": document.id,
                "instance_id": started.instance_id, "agreement_id": agreement.id, "reference": agreement.reference,
                "period_end": start + timedelta(days=13)}


def fits_whole(journey: Journey, label: str) -> None:
    """test_mobile_pages.fits (no sideways scrolling, named table regions, axe), and no word in a table cut in two."""
    broken = journey.page.evaluate(BROKEN_WORDS)
    assert broken == [], f"{label}: words in table cells broken across lines instead of the table scrolling: {broken}"
    fits(journey, label)


def runs_count() -> int:
    with database.session_scope() as session:
        return session.scalar(select(func.count()).select_from(PaymentRun)) or 0


@pytest.mark.browser
@PHONE_JOURNEY
def test_record_forms_fit_a_375px_phone(journey: Journey, more_world: dict) -> None:
    page, pid = journey.page, more_world["person_id"]
    journey.sign_in(more_world["worker"])
    # the case view's tables (notes, chronology, documents) are in scroll regions: their words stay whole
    open_page(journey, f"/people/{pid}", f"Anastasia-Rose {more_world['surname']}")
    expect(page.locator("body")).to_contain_text("Home visit after school")
    fits_whole(journey, "case view")

    open_page(journey, f"/people/{pid}/cases/new", f"Open a case for Anastasia-Rose {more_world['surname']}")
    expect(page.get_by_role("heading", name="Open a case")).to_be_visible()
    fits_whole(journey, "open a case")
    page.get_by_role("button", name="Open the case").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select why the case is being opened")
    fits_whole(journey, "open a case: errors")

    open_page(journey, f"/notes/{more_world['note_id']}/corrections/new", "Add a correction")
    expect(page.locator("body")).to_contain_text("the front door lock was broken again")
    expect(page.locator("body")).to_contain_text("The email address of the duty team was wrong")
    fits_whole(journey, "add a correction")
    page.get_by_role("button", name=re.compile("correction", re.I)).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the correction")
    fits_whole(journey, "add a correction: errors")

    open_page(journey, f"/people/{pid}/chronology/new", "Add a chronology entry")
    expect(page.get_by_label("Type of entry")).to_be_visible()
    fits_whole(journey, "add a chronology entry")
    page.get_by_role("button", name=re.compile("entry", re.I)).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter what happened")
    fits_whole(journey, "add a chronology entry: errors")


@pytest.mark.browser
@PHONE_JOURNEY
def test_document_pages_fit_a_375px_phone(journey: Journey, more_world: dict) -> None:
    page, pid, doc = journey.page, more_world["person_id"], more_world["document_id"]
    journey.sign_in(more_world["worker"])
    open_page(journey, f"/people/{pid}/documents/new", "Upload a document")
    kinds = page.get_by_label("Type of document")
    expect(kinds).to_be_visible()
    expect(kinds.locator("option")).not_to_have_count(1)
    fits_whole(journey, "upload a document")
    page.get_by_label("Title").fill("Letter from school")
    page.get_by_role("button", name="Upload document").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("type of document")
    fits_whole(journey, "upload a document: errors")

    open_page(journey, f"/documents/{doc}", "Initial assessment summary from the school nurse and the health visitor")
    expect(page.locator("#version-2")).to_contain_text("v2-" + LONG_FILE)
    expect(page.locator("#version-1")).to_contain_text(LONG_FILE)
    fits_whole(journey, "document page")

    page.get_by_role("link", name="Upload a new version").click()
    expect(page).to_have_title("Upload a new version – casework")
    fits_whole(journey, "upload a new version")
    page.get_by_role("button", name=re.compile("Upload", re.I)).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    fits_whole(journey, "upload a new version: errors")


@pytest.mark.browser
@PHONE_JOURNEY
def test_process_diagram_stays_in_its_box_on_a_375px_phone(journey: Journey, more_world: dict) -> None:
    page = journey.page
    journey.sign_in(more_world["worker"])
    journey.goto(f"/processes/{more_world['instance_id']}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the case")).to_be_visible()
    page.wait_for_function("() => document.querySelectorAll('#process-diagram .djs-shape').length > 0")
    diagram = page.evaluate(DIAGRAM)
    assert diagram["shapes"] > 0, f"bpmn-js drew nothing: {diagram}"
    assert diagram["right"] <= 375 and diagram["innerRight"] <= 375, f"the diagram box reaches past 375 px: {diagram}"
    assert diagram["scroll"] <= diagram["width"] or diagram["overflow"] in ("auto", "scroll", "hidden"), (
        f"the diagram's content widens its box instead of scrolling or panning inside it: {diagram}")
    fits_whole(journey, "process diagram")


@pytest.mark.browser
@PHONE_JOURNEY
def test_break_glass_request_fits_a_375px_phone(journey: Journey, more_world: dict) -> None:
    page = journey.page
    journey.sign_in(more_world["worker"])
    open_page(journey, f"/people/{more_world['sealed_id']}/break-glass", "Request emergency access")
    expect(page.get_by_label("Why do you need to see it now?")).to_be_visible()
    fits_whole(journey, "break-glass request")
    page.get_by_role("button", name="Get emergency access").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    fits_whole(journey, "break-glass request: errors")
    page.get_by_label("Why do you need to see it now?").fill(
        "Police called out of hours: immediate risk; contact emergency.duty.team@northamptonshire-childrens-"
        "trust.example.gov.uk")
    page.get_by_role("button", name="Get emergency access").click()
    expect(page).to_have_url(re.compile(rf"/people/{more_world['sealed_id']}$"))
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Police called out of hours")
    fits_whole(journey, "person page with the emergency access banner")


@pytest.mark.browser
@PHONE_JOURNEY
def test_a_created_payment_run_fits_a_375px_phone(journey: Journey, more_world: dict) -> None:
    page, end = journey.page, more_world["period_end"]
    journey.sign_in(more_world["finance"])
    open_page(journey, f"/finance/payment-runs/new?period_end-day={end.day}&period_end-month={end.month}"
                       f"&period_end-year={end.year}", "Check the payment run")
    expect(page.locator("#preview tbody tr")).to_have_count(1)  # its own agreement only
    expect(page.locator(f"#preview tr[data-agreement='{more_world['agreement_id']}']")).to_contain_text("£1,400.00")
    before = runs_count()
    page.get_by_role("button", name="Confirm and create the payment run").click()
    expect(page).to_have_title(re.compile(r"^Payment run \d+ – casework$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("created")
    assert runs_count() == before + 1
    lines = page.locator("#lines tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.filter(has_text=more_world["reference"])).to_have_count(2)
    fits_whole(journey, "payment run")

    open_page(journey, f"/finance/agreements/{more_world['agreement_id']}", f"Agreement {more_world['reference']}")
    expect(page.locator("#lines tbody tr").first).to_contain_text("Paid")
    fits_whole(journey, "agreement paid by the run")
