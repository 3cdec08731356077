"""The front door in a real browser: search -> no result -> add the person (a bad NHS number first, then the
duplicate page for a look-alike, then "none of these") -> open a case -> record a contact lands on the referral's
contact task. Every page is checked with axe-core (WCAG 2.2 AA) and screenshotted, as the other journeys are."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from casework.accounts import service as accounts
from casework.auth.access import Actor
from casework.extensions import database
from casework.records import service_case as cases
from casework.records.models_case import Case
from casework.records.models_person import Person
from casework.records.service_person import create_person
from engine.schema import work_item
from tests.browser.conftest import PASSWORD, Journey, LiveServer
from tests.browser.test_process_journeys import _published

_seq = itertools.count(1)


def seed(live_server: LiveServer) -> dict[str, str]:
    """A front-door practitioner, and a look-alike already on the system (same date of birth, similar name)."""
    with live_server.app.app_context():
        _published(live_server)
    n = next(_seq)
    team, user, surname = f"npfd{n}", f"np.worker.{n}", f"Frontdoorson{n}"
    with database.session_scope() as session:
        accounts.create_team(session, code=team, name=f"Front door team {n}", service_area="children")
        accounts.create_user(session, username=user, display_name=f"Fran Frontdoor {n}", password=PASSWORD,
                             roles=["practitioner"], teams=[team])
        other_team = accounts.create_team(session, code=f"npother{n}", name=f"Other team {n}")
        manager = accounts.create_user(session, username=f"np.manager.{n}", display_name=f"Max Manager {n}",
                                       password=PASSWORD, roles=["team_manager"], teams=[other_team.code],
                                       manages=[other_team.code])
        look_alike = create_person(session, Actor.from_user(manager), {
            "forename": "Leah", "surname": surname, "date_of_birth": date(2016, 5, 9)}, confirm_not_duplicate=True)
        cases.open_case(session, Actor.from_user(manager), look_alike, {
            "service_area": "children", "open_reason": "referral", "team_id": other_team.id})
        return {"user": user, "team": team, "surname": surname, "look_alike_id": str(look_alike.id)}


@pytest.mark.browser
def test_search_add_person_open_case_record_contact(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server)
    page = journey.page
    journey.sign_in(s["user"])
    journey.goto("/people")
    expect(page).to_have_title("Find a person – casework")
    journey.check("find a person")

    # search: nobody called Lia <surname> born on that day
    page.get_by_label("Name or NHS number").fill(f"Lia {s['surname']}x")
    page.locator('[name="dob-day"]').fill("9")
    page.locator('[name="dob-month"]').fill("5")
    page.locator('[name="dob-year"]').fill("2016")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-heading")).to_have_text("0 people found")
    journey.check("no result")

    page.locator("#add-searched").click()
    expect(page).to_have_title("Add a new person – casework")
    expect(page.get_by_label("First name")).to_have_value("Lia")
    expect(page.get_by_label("Last name")).to_have_value(f"{s['surname']}x")
    expect(page.locator('[name="dob-year"]')).to_have_value("2016")
    journey.check("add a new person")

    # a wrong check digit: the service's message in the error summary, and every answer kept
    page.get_by_label("Last name").fill(s["surname"])
    page.get_by_label("Female").check()
    page.get_by_label("NHS number (optional)").fill("943 476 5918")
    page.get_by_label("Address line 1").fill("12 Canal Street")
    page.get_by_label("Postcode").fill("M1 3HE")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title("Error: Add a new person – casework")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a valid 10-digit NHS number")
    expect(page.get_by_label("Address line 1")).to_have_value("12 Canal Street")
    journey.check("invalid nhs number")

    # the look-alike (Leah, same surname and birthday) is shown before anything is made
    page.get_by_label("NHS number (optional)").fill("")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title("This person may already have a record – casework")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr a").first).to_have_attribute("href", f"/people/{s['look_alike_id']}")
    journey.check("possible duplicates")
    with database.session_scope() as session:
        assert session.scalar(select(func.count(Person.id)).where(Person.surname == s["surname"])) == 1

    page.get_by_role("button", name=re.compile("None of these")).click()
    expect(page).to_have_title(re.compile(f"^Open a case for Lia {s['surname']} – casework$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Record created")
    journey.check("open a case")
    with database.session_scope() as session:
        person = session.scalar(select(Person).where(Person.forename == "Lia", Person.surname == s["surname"]))
        assert person is not None and person.addresses[0].postcode == "M1 3HE"
        person_id = person.id

    # the team defaults to mine and the area to my team's; the reason is asked for
    expect(page.get_by_role("radio", name=re.compile("Front door team"))).to_be_checked()
    expect(page.get_by_label("Children's services")).to_be_checked()
    page.get_by_label("Referral accepted").check()
    page.get_by_role("button", name="Open the case").click()
    expect(page).to_have_title(re.compile(r"^Case CH-\d{7} opened – casework$"))
    journey.check("case opened")
    with database.session_scope() as session:
        case = session.scalar(select(Case).where(Case.person_id == person_id))
        reference = case.reference

    page.get_by_role("button", name="Record a contact").click()
    page.wait_for_url(re.compile(r"/tasks/\d+$"))
    expect(page).to_have_title("Record the contact – casework")
    expect(page.get_by_role("button", name="Continue", exact=True)).to_be_visible()
    journey.check("record the contact")
    item_id = int(page.url.rsplit("/", 1)[1])
    with database.session_scope() as session:
        row = session.connection().execute(select(work_item.c.business_key, work_item.c.form, work_item.c.status)
                                           .where(work_item.c.id == item_id)).one()
    assert tuple(row) == (reference, "referral-contact", "open")


@pytest.mark.browser
def test_break_glass_from_the_refusal_page(journey: Journey, live_server: LiveServer) -> None:
    """A sealed record: the 404 page offers emergency access; the reason is required; then the record opens."""
    n = next(_seq)
    with database.session_scope() as session:
        mine = accounts.create_team(session, code=f"bgmine{n}", name=f"Duty team {n}")
        sealed_team = accounts.create_team(session, code=f"bgsealed{n}", name=f"Safeguarding {n}")
        accounts.create_user(session, username=f"bg.worker.{n}", display_name=f"Dee Duty {n}", password=PASSWORD,
                             roles=["practitioner"], teams=[mine.code])
        manager = accounts.create_user(session, username=f"bg.manager.{n}", display_name=f"Sam Safe {n}",
                                       password=PASSWORD, roles=["team_manager"], teams=[sealed_team.code],
                                       manages=[sealed_team.code])
        sealed = create_person(session, Actor.from_user(manager), {
            "forename": "Rae", "surname": f"Sealedperson{n}", "date_of_birth": date(2012, 1, 30), "restricted": True,
            "restricted_to_teams": [sealed_team.id]}, confirm_not_duplicate=True)
        person_id = sealed.id
    page = journey.page
    journey.sign_in(f"bg.worker.{n}")
    journey.goto(f"/people/{person_id}")
    expect(page).to_have_title("Page not found – casework")
    journey.check("refused")
    page.get_by_role("link", name="Request emergency access").click()
    expect(page).to_have_title("Request emergency access – casework")
    journey.check("break-glass reason")
    page.get_by_role("button", name="Get emergency access").click()
    expect(page).to_have_title("Error: Request emergency access – casework")
    expect(page.locator(".govuk-error-summary")).to_contain_text("at least 10 characters")
    journey.check("break-glass reason missing")
    page.get_by_label("Why do you need to see it now?").fill("Police on the phone about a missing child tonight")
    page.get_by_role("button", name="Get emergency access").click()
    expect(page).to_have_title(f"Rae Sealedperson{n} – casework")
    journey.check("record opened by break-glass")
