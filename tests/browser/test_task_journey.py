"""A practitioner's day in a real browser: sign in, My work, open a task, submit with a mistake, fix it,
check answers, submit; then a manager's team queue and approval. axe-clean and screenshotted at every step."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from casework.accounts import service as accounts
from casework.engine_host import get_engine, operation_session
from casework.extensions import database
from engine.schema import work_item
from tests.browser.conftest import PASSWORD, Journey, LiveServer
from tests.workspace.conftest import publish_test_process

_seq = itertools.count(1)


def seed(live_server: LiveServer) -> dict:
    """A team, a practitioner and a manager, and one contact task assigned to the practitioner."""
    n = next(_seq)
    team, worker, manager = f"jteam{n}", f"jworker{n}", f"jmanager{n}"
    engine = get_engine(live_server.app)
    with database.session_scope() as session:
        accounts.create_team(session, code=team, name=f"Journey team {n}")
        accounts.create_user(session, username=worker, display_name=f"Pat Practitioner {n}", password=PASSWORD,
                             roles=["practitioner"], teams=[team])
        accounts.create_user(session, username=manager, display_name=f"Mo Manager {n}", password=PASSWORD,
                             roles=["team_manager"], teams=[team], manages=[team])
        conn = session.connection()
        with operation_session(session):  # hooks write through this session, as in a request
            if not engine.definitions(conn, "ws_contact"):
                publish_test_process(engine, conn)
            result = engine.start(conn, "ws_contact", business_key=f"CASE-J{n}",
                                  data={"case_ref": f"CASE-J{n}"}, actor="intake")
        item_id = engine.work_items_for(conn, result.instance_id)[0]["id"]
        conn.execute(update(work_item).where(work_item.c.id == item_id).values(team=team, assignee=worker))
    return {"team": team, "worker": worker, "manager": manager, "item": item_id, "case": f"CASE-J{n}",
            "instance": result.instance_id}


@pytest.mark.browser
def test_practitioner_completes_a_task_after_fixing_an_error(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server)
    page = journey.page
    journey.goto("/")
    assert "/sign-in" in page.url
    journey.check("sign in")
    journey.sign_in(s["worker"])
    expect(page).to_have_title("My work – casework")
    expect(page.get_by_role("link", name="My work (1)")).to_be_visible()
    journey.check("my work")

    page.get_by_role("link", name="Record the contact").click()
    expect(page).to_have_title("Record the contact – casework")
    journey.check("task form")

    # a mistake: a date that does not exist, and a visit without an address
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Home visit").check()
    expect(page.get_by_label("Address visited")).to_be_visible()  # the conditional reveal (JavaScript on)
    page.get_by_label("What happened").fill("Met the family at home.")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page).to_have_title("Error: Record the contact – casework")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    assert summary.get_by_role("link").all_inner_texts() == ["Date of contact must be a real date",
                                                             "Enter address visited"]
    assert page.get_by_label("What happened").input_value() == "Met the family at home."  # nothing lost
    journey.check("error summary")

    summary.get_by_role("link", name="Enter address visited").click()
    page.get_by_label("Address visited").fill("1 High Street")
    page.get_by_label("Day").fill("27")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page).to_have_title("Check your answers: Record the contact – casework")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("27 February 2026")
    journey.check("check answers")

    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_title("My work – casework")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    journey.check("task complete")

    with database.session_scope() as session:
        status = session.connection().execute(select(work_item.c.status, work_item.c.completed_by).where(
            work_item.c.id == s["item"])).one()
    assert tuple(status) == ("closed", s["worker"])


@pytest.mark.browser
@pytest.mark.parametrize("journey", [375], indirect=True)
def test_manager_on_a_phone_assigns_work_from_the_team_queue(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server)
    with database.session_scope() as session:
        session.connection().execute(update(work_item).where(work_item.c.id == s["item"]).values(assignee=None))
    page = journey.page
    journey.sign_in(s["manager"])
    journey.check("my work on a phone")
    journey.goto("/team")
    expect(page).to_have_title("Team queue – casework")
    row = page.locator("tr", has_text=s["case"])
    row.get_by_role("checkbox").check()
    page.get_by_label("Give the selected tasks to").select_option(s["worker"])
    journey.check("team queue on a phone")
    wide = page.evaluate("() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
                         " > 376).map(e => e.tagName + '.' + e.className).slice(0, 8)")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, wide  # no sideways scrolling
    page.get_by_role("button", name="Assign selected tasks").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 task given to")
    journey.check("assigned")
    with database.session_scope() as session:
        assignee = session.connection().execute(select(work_item.c.assignee).where(
            work_item.c.id == s["item"])).scalar_one()
    assert assignee == s["worker"]


@pytest.mark.browser
def test_case_view_and_process_diagram(journey: Journey, live_server: LiveServer) -> None:
    from datetime import date

    from casework.auth.access import Actor
    from casework.records import service_case as cases
    from casework.records import service_details as details
    from casework.records.service_person import create_person

    s = seed(live_server)
    with database.session_scope() as session:
        worker = accounts.get_user(session, s["worker"])
        manager = Actor.from_user(accounts.get_user(session, s["manager"]))
        person = create_person(session, manager, {"forename": "Ava", "surname": f"Journey{s['item']}",
                                                  "date_of_birth": date(2015, 3, 14)}, confirm_not_duplicate=True)
        details.add_alert(session, manager, person, alert_type="risk_to_staff", description="Visit in pairs")
        team_id = accounts.get_team(session, s["team"]).id
        case = cases.open_case(session, manager, person, {"service_area": "children", "open_reason": "referral",
                                                          "team_id": team_id, "worker_id": worker.id})
        cases.attach_process(session, case, instance_id=s["instance"], process_key="ws_contact")
        person_id = person.id
    page = journey.page
    journey.sign_in(s["worker"])
    journey.goto("/people")
    journey.check("find a person")
    page.get_by_label("Name or NHS number").fill(f"Journey{s['item']}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Ava Journey{s['item']}").click()
    expect(page).to_have_title(f"Ava Journey{s['item']} – casework")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visit in pairs")
    journey.check("case view")
    assert page.url.endswith(f"/people/{person_id}")
    page.get_by_role("link", name="Diagram of ws_contact").click()
    expect(page.locator("#process-diagram .djs-container")).to_be_visible()
    expect(page.locator(".casework-step-current")).to_have_count(1)
    journey.check("process diagram")


@pytest.mark.browser
@pytest.mark.parametrize("journey", [{"width": 375, "javascript": False}], indirect=True)
def test_a_task_can_be_read_and_submitted_without_javascript(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server)
    page = journey.page
    journey.sign_in(s["worker"])
    page.get_by_role("link", name="Record the contact").click()
    expect(page).to_have_title("Record the contact – casework")
    expect(page.get_by_label("Address visited")).to_be_visible()  # reveals are simply shown without JavaScript
    page.get_by_label("Day").fill("2")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Home visit").check()
    page.get_by_label("Address visited").fill("1 High Street")
    page.get_by_label("What happened").fill("Seen at home.")
    journey.check("no-js task form", axe=False)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("draft has been saved")
    expect(page.get_by_label("What happened")).to_have_value("Seen at home.")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page).to_have_title("Check your answers: Record the contact – casework")
    journey.check("no-js check answers", axe=False)
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_title("My work – casework")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    journey.check("no-js done", axe=False)
