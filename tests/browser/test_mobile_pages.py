"""Every main workspace page on a 375 x 812 phone screen: nothing makes the page scroll sideways
(``document.documentElement.scrollWidth <= 375``; wide tables scroll inside their own ``casework-table-wrap``
region instead, and a failure names the elements that reach past the viewport) and axe finds no WCAG 2.2 AA
problem. One world is seeded for the file: a team with a practitioner and a manager, a child with an alert, an
open case running the test contact process, a note, a chronology entry and a document, a task waiting for a
manager's decision, and a finance officer with an authorised agreement."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from casework.accounts import service as accounts
from casework.auth.access import Actor
from casework.db import utcnow
from casework.engine_host import get_engine, operation_session
from casework.extensions import database
from casework.records import service_case as cases
from casework.records import service_chronology as chronology
from casework.records import service_details as details
from casework.records import service_document as docs
from casework.records import service_note as notes
from casework.records.service_person import create_person
from engine.schema import work_item
from tests.browser.conftest import PASSWORD, Journey, LiveServer
from tests.browser.test_dashboard_mobile import PHONE
from tests.finance.factories import create_agreement, create_provider
from tests.finance.factories import create_person as create_finance_person
from tests.workspace.conftest import publish_test_process

_seq = itertools.count(1)
LONG = ("Seen at home with her grandmother; the house was cold and the front door lock was broken again. Contact: "
        "duty.social.worker.children@northamptonshire-childrens-trust.example.gov.uk")
# the page's scroll width, and (to say what to fix) the elements outside table regions that reach past the
# viewport or whose own text sticks out of them (a long unbroken word: an email address, a file name)
WIDTHS = """() => {
  const label = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.');
  const free = [...document.querySelectorAll('body *')].filter(e => !e.closest('.casework-table-wrap'));
  return {page: document.documentElement.scrollWidth, body: document.body.scrollWidth,
    wide: free.filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(0, 8)
      .map(e => label(e) + ' ' + Math.round(e.getBoundingClientRect().right)),
    overflowing: free.filter(e => e.scrollWidth > e.clientWidth + 4 && e.clientWidth > 0
        && !['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)).slice(0, 8)
      .map(e => label(e) + ' ' + e.scrollWidth + '>' + e.clientWidth)};
}"""
# every wide table sits in a scroll region that keyboard users can reach and screen readers can name
REGIONS = """() => {
  const name = w => (w.getAttribute('aria-label') || (document.getElementById(w.getAttribute('aria-labelledby'))
    || {}).textContent || '').trim();
  const wraps = [...document.querySelectorAll('.casework-table-wrap')];
  return {unnamed: wraps.filter(w => w.getAttribute('role') !== 'region' || w.getAttribute('tabindex') !== '0'
                                     || !name(w)).map(w => w.outerHTML.slice(0, 120)),
          unwrapped: [...document.querySelectorAll('table')].filter(t => !t.closest('.casework-table-wrap')).length};
}"""


def phone_staff(prefix: str, team_name: str, n: int) -> tuple[str, str, str, str]:
    """A team with long names and its practitioner, team manager and a finance officer (usernames)."""
    team, worker, manager, finance = (f"{prefix}{role}" for role in ("team", "worker", "manager", "finance"))
    with database.session_scope() as session:
        accounts.create_team(session, code=team, name=team_name)
        accounts.create_user(session, username=worker, display_name=f"Alexandra Worthington-Smythe {n}",
                             password=PASSWORD, roles=["practitioner"], teams=[team])
        accounts.create_user(session, username=manager, display_name=f"Morgan Mobile-Manager {n}",
                             password=PASSWORD, roles=["team_manager"], teams=[team], manages=[team])
        accounts.create_user(session, username=finance, display_name=f"Fran Mobile-Finance {n}", password=PASSWORD,
                             roles=["finance_officer"])
    return team, worker, manager, finance


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> dict:
    database.configure(live_server.db_url)
    n = next(_seq)
    team, worker, manager, finance = phone_staff(f"mob{n}", f"Children in need and child protection east {n}", n)
    surname = f"Mobilepages{n}"
    engine = get_engine(live_server.app)
    settings = live_server.app.config["SETTINGS"]
    today = date.today()
    with database.session_scope() as session:
        boss = Actor.from_user(accounts.get_user(session, manager))
        worker_row = accounts.get_user(session, worker)
        person = create_person(session, boss, {"forename": "Anastasia-Rose", "surname": surname,
                                               "date_of_birth": date(2015, 3, 14)}, confirm_not_duplicate=True)
        details.add_alert(session, boss, person, alert_type="risk_to_staff",
                          description="Visit in pairs: a large dog at the property. Out of hours: "
                                      "emergency.duty.team@northamptonshire-childrens-trust.example.gov.uk")
        case = cases.open_case(session, boss, person, {"service_area": "children", "open_reason": "referral",
                                                       "team_id": accounts.get_team(session, team).id,
                                                       "worker_id": worker_row.id})
        conn = session.connection()
        with operation_session(session):
            if not engine.definitions(conn, "ws_contact"):
                publish_test_process(engine, conn)
            started = engine.start(conn, "ws_contact", business_key=case.reference,
                                   data={"case_ref": case.reference}, actor="intake")
            decision = engine.start(conn, "ws_contact", business_key=case.reference,
                                    data={"case_ref": case.reference}, actor="intake")
            queued = engine.start(conn, "ws_contact", business_key=case.reference,
                                  data={"case_ref": case.reference}, actor="intake")
        cases.attach_process(session, case, instance_id=started.instance_id, process_key="ws_contact")
        item = engine.work_items_for(conn, started.instance_id)[0]["id"]
        conn.execute(update(work_item).where(work_item.c.id == item).values(
            team=team, assignee=worker, due_at=utcnow() + timedelta(days=3)))
        # waiting for the team manager's decision (Approvals), and unassigned in the team (Team queue)
        conn.execute(update(work_item).where(work_item.c.instance_id == decision.instance_id).values(
            team=team, assignee=None, role="team_manager", due_at=utcnow() - timedelta(days=2)))
        conn.execute(update(work_item).where(work_item.c.instance_id == queued.instance_id).values(
            team=team, assignee=None, due_at=utcnow() + timedelta(days=10)))
        notes.create_note(session, boss, person, {"note_type": "home_visit", "subject": "Home visit after school",
                                                  "body": LONG, "case_id": case.id}, complete=True)
        chronology.add_manual_entry(session, boss, person, kind="significant_event", title=LONG,
                                    occurred_at=utcnow() - timedelta(hours=2), case_id=case.id)
        docs.add_document(session, boss, documents_dir=settings.documents_dir,
                          max_bytes=settings.max_upload_mb * 1024 * 1024, person_id=person.id, case_id=None,
                          note_id=None, title="Initial assessment summary from the school nurse",
                          upload=docs.Upload("assessment-summary-from-school-nurse.txt", b"Seen at school.\n"))
        start = today - timedelta(days=today.weekday() + 21)
        payee = create_finance_person(session, surname=f"Mobilefinance{n}")
        provider = create_provider(session, name=f"Northern Residential and Domiciliary Care Partnership {n}")
        agreement = create_agreement(session, person=payee, provider=provider, unit_cost_pence=5000,
                                     units_per_week="14", start_date=start, today=today)
        return {"worker": worker, "manager": manager, "finance": finance, "person_id": person.id,
                "surname": surname, "item": item, "team": team, "agreement_id": agreement.id, "provider": provider.name,
                "period_end": start + timedelta(days=20)}


def fits(journey: Journey, label: str) -> None:
    """No sideways scrolling at 375 px (naming what sticks out), wide tables in a focusable scroll region, and axe."""
    page = journey.page
    assert page.evaluate("() => window.innerWidth") == 375
    widths = page.evaluate(WIDTHS)
    assert widths["page"] <= 375 and widths["body"] <= 375, f"{label} scrolls sideways at 375 px: {widths}"
    regions = page.evaluate(REGIONS)
    assert regions["unnamed"] == [], f"{label}: table regions without role, tabindex or a name: {regions}"
    assert regions["unwrapped"] == 0, f"{label}: tables not inside a casework-table-wrap region: {regions}"
    journey.check(label)


def open_page(journey: Journey, path: str, title: str) -> None:
    journey.goto(path)
    expect(journey.page).to_have_title(f"{title} – casework")


PHONE_JOURNEY = pytest.mark.parametrize("journey", [PHONE], indirect=True)


@pytest.mark.browser
@PHONE_JOURNEY
def test_practitioner_pages_fit_a_375px_phone(journey: Journey, world: dict) -> None:
    page = journey.page
    journey.sign_in(world["worker"])
    open_page(journey, "/", "My work")
    expect(page.get_by_role("link", name="Record the contact")).to_have_count(1)
    fits(journey, "my work")

    open_page(journey, "/team", "Team queue")
    expect(page.get_by_role("button", name="Claim").first).to_be_visible()
    fits(journey, "team queue")

    open_page(journey, f"/people/{world['person_id']}", f"Anastasia-Rose {world['surname']}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visit in pairs")
    expect(page.locator("body")).to_contain_text("Home visit after school")
    expect(page.locator("body")).to_contain_text("Initial assessment summary from the school nurse")
    expect(page.locator("body")).to_contain_text("the front door lock was broken again")
    fits(journey, "case view")

    open_page(journey, "/people", "Find a person")
    fits(journey, "find a person")
    page.get_by_label("Name or NHS number").fill(world["surname"])
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=f"Anastasia-Rose {world['surname']}")).to_be_visible()
    fits(journey, "search results")

    open_page(journey, "/people/new", "Add a new person")
    fits(journey, "add a new person")

    open_page(journey, f"/people/{world['person_id']}/notes/new", "Add a case note")
    fits(journey, "add a case note")

    open_page(journey, f"/tasks/{world['item']}", "Record the contact")
    fits(journey, "task form")
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Phone").check()
    page.get_by_label("What happened").fill(LONG)
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page).to_have_title("Check your answers: Record the contact – casework")
    fits(journey, "check your answers")


@pytest.mark.browser
@PHONE_JOURNEY
def test_manager_pages_fit_a_375px_phone(journey: Journey, world: dict) -> None:
    page = journey.page
    journey.sign_in(world["manager"])
    open_page(journey, "/approvals", "Approvals")
    expect(page.locator("table.govuk-table tbody tr")).not_to_have_count(0)
    fits(journey, "approvals")

    open_page(journey, "/team?show=all", "Team queue")
    expect(page.get_by_role("button", name="Assign selected tasks")).to_be_visible()
    fits(journey, "team queue, all work")

    open_page(journey, f"/dashboard?team={world['team']}", "Dashboard")
    fits(journey, "dashboard")

    journey.goto("/returns")
    expect(page.locator("h1")).to_be_visible()
    assert page.title().endswith(" – casework")
    fits(journey, "returns")
    page.get_by_role("button", name="Check the census").click()
    expect(page.locator("#counts")).to_be_visible()
    fits(journey, "returns: census checked")


@pytest.mark.browser
@PHONE_JOURNEY
def test_finance_pages_fit_a_375px_phone(journey: Journey, world: dict) -> None:
    page = journey.page
    journey.sign_in(world["finance"])
    open_page(journey, "/finance/agreements", "Agreements")
    expect(page.locator(f"tr[data-agreement='{world['agreement_id']}']")).to_contain_text("£700.00 a week")
    fits(journey, "agreements")

    page.locator(f"tr[data-agreement='{world['agreement_id']}'] a").first.click()
    expect(page.locator("#lines tbody tr").first).to_contain_text("Not paid yet")
    fits(journey, "agreement")

    open_page(journey, f"/finance/providers?q={world['provider']}", "Providers")
    fits(journey, "providers")
    page.get_by_role("link", name=world["provider"]).first.click()
    expect(page).to_have_title(f"{world['provider']} – casework")
    fits(journey, "provider")

    open_page(journey, "/finance/payment-runs", "Payment runs")
    fits(journey, "payment runs")

    end = world["period_end"]
    open_page(journey, f"/finance/payment-runs/new?period_end-day={end.day}&period_end-month={end.month}"
                       f"&period_end-year={end.year}", "Check the payment run")
    expect(page.locator(f"#preview tr[data-agreement='{world['agreement_id']}']")).to_contain_text("£2,100.00")
    fits(journey, "payment run preview")
