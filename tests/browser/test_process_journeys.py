"""The bundled processes (processes/*.bpmn, published as `casework init` does) driven end to end in a real
browser by demo-like people: every human step is opened from a list page, filled through the page (GOV.UK date
inputs, radios, checkboxes), checked, submitted; axe-clean and screenshotted at every step.

(a) contact recorded from the case view -> screening -> manager's referral decision -> children's assessment
    (allocation, child seen, assessment) -> a different manager-level person authorises (four-eyes);
(b) payment request over the team manager's limit -> team manager and head of service approve -> finance set-up
    -> the agreement's lines are in the exported payment run file.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casework.accounts import service as accounts
from casework.auth.access import Actor
from casework.engine_host import publish_directory
from casework.extensions import database
from casework.finance import runs
from casework.finance.codes import AgreementStatus
from casework.finance.models import Agreement
from casework.finance.providers import create_provider
from casework.process_samples import sample
from casework.records import service_case as cases
from casework.records.service_person import create_person
from engine.schema import process_definition, work_item
from tests.browser.conftest import PASSWORD, Journey, LiveServer

_seq = itertools.count(1)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _published(live_server: LiveServer) -> None:
    with database.session_scope() as session:
        if session.scalar(select(process_definition.c.id).where(process_definition.c.process_key == "referral")
                          .limit(1)) is None:
            problems = [line for line in publish_directory(session, live_server.app.config["SETTINGS"],
                                                           actor="browser-tests")
                        if "problem" in line.lower() or "no bpmn" in line.lower()]
            assert problems == [], problems


def seed(live_server: LiveServer, area: str) -> dict[str, Any]:
    """A case team (practitioner, team manager, head of service), a finance team and officer, and a person
    with an open case allocated to the practitioner."""
    with live_server.app.app_context():
        _published(live_server)
    n = next(_seq)
    team, fin = f"pj{area[:3]}{n}", f"pjfin{n}"
    u = {role: f"pj.{role}.{n}" for role in ("practitioner", "team_manager", "head_of_service", "finance_officer")}
    with database.session_scope() as session:
        accounts.create_team(session, code=team, name=f"Journey {area} team {n}", service_area=area)
        if session.scalar(select(accounts.Team.id).where(accounts.Team.service_area == "finance").limit(1)) is None:
            accounts.create_team(session, code=fin, name=f"Journey finance {n}", service_area="finance")
        else:
            fin = session.scalar(select(accounts.Team.code).where(accounts.Team.service_area == "finance")
                                 .order_by(accounts.Team.id).limit(1))
        accounts.create_user(session, username=u["practitioner"], display_name=f"Pat Practitioner {n}",
                             password=PASSWORD, roles=["practitioner"], teams=[team])
        accounts.create_user(session, username=u["team_manager"], display_name=f"Mo Manager {n}",
                             password=PASSWORD, roles=["team_manager"], teams=[team], manages=[team])
        accounts.create_user(session, username=u["head_of_service"], display_name=f"Hal Head {n}",
                             password=PASSWORD, roles=["head_of_service"], teams=[team], manages=[team])
        accounts.create_user(session, username=u["finance_officer"], display_name=f"Fi Finance {n}",
                             password=PASSWORD, roles=["finance_officer"], teams=[fin])
        manager = Actor.from_user(accounts.get_user(session, u["team_manager"]))
        worker = accounts.get_user(session, u["practitioner"])
        born = date(2015, 3, 14) if area == "children" else date(1941, 6, 2)
        person = create_person(session, manager, {"forename": "Ava", "surname": f"Pathway{n}",
                                                  "date_of_birth": born}, confirm_not_duplicate=True)
        case = cases.open_case(session, manager, person, {
            "service_area": area, "open_reason": "referral", "team_id": accounts.get_team(session, team).id,
            "worker_id": worker.id})
        provider = f"SUP-PJ{n}"
        create_provider(session, {"reference": provider, "name": f"Journey Home Care {n}"}, user_id=None)
        return {"users": u, "team": team, "person_id": person.id, "case": case.reference, "provider": provider,
                "name": f"Ava Pathway{n}"}


def open_item(case: str, form: str) -> dict[str, Any]:
    with database.session_scope() as session:
        rows = session.connection().execute(select(work_item).where(
            work_item.c.business_key == case, work_item.c.status == "open")).mappings().all()
    found = [dict(r) for r in rows if r["form"] == form]
    assert len(found) == 1, f"expected one open {form!r} task, open: {[(r['form'], r['role']) for r in rows]}"
    return found[0]


def fill(page, answers: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """Type the answers into the page as a person would: date inputs, radios, selects, checkboxes, text."""
    for name, value in answers.items():
        if isinstance(value, str) and ISO_DATE.match(value) and page.locator(f'[name="{name}-day"]').count():
            year, month, day = value.split("-")
            page.locator(f'[name="{name}-day"]').fill(str(int(day)))
            page.locator(f'[name="{name}-month"]').fill(str(int(month)))
            page.locator(f'[name="{name}-year"]').fill(year)
            continue
        controls = page.locator(f'[name="{name}"]')
        kind = controls.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:radio":
            choice = str(value).lower() if isinstance(value, bool) else str(value)
            page.locator(f'[name="{name}"][value="{choice}"]').check()
        elif kind == "input:checkbox":
            for choice in value:
                page.locator(f'[name="{name}"][value="{choice}"]').check()
        elif kind.startswith("select"):
            controls.select_option(str(value))
        else:
            controls.fill(str(value))


def sign_in_as(journey: Journey, username: str) -> None:
    journey.page.context.clear_cookies()
    journey.sign_in(username)


APPROVER_ROLES = {"team_manager", "head_of_service", "finance_officer"}


def do_task(journey: Journey, s: dict[str, Any], form: str, answers: dict[str, Any], *, who: str) -> dict[str, Any]:
    """`who` opens the case's open `form` task from a list page (My work when it is theirs, Approvals for a
    manager's or finance decision, otherwise the Team queue), fills it in and submits it through check your
    answers; returns the work item row."""
    item = open_item(s["case"], form)
    user = s["users"][who]
    via = "/" if item["assignee"] == user else "/approvals" if item["role"] in APPROVER_ROLES else "/team"
    page = journey.page
    sign_in_as(journey, user)
    journey.goto(via)
    link = page.locator(f'a[href="/tasks/{item["id"]}"]')
    expect(link).to_be_visible()
    title = link.inner_text().strip()
    journey.check(f"{form} in {via.strip('/') or 'my work'}")
    link.click()
    expect(page).to_have_title(f"{title} – casework")
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="Continue", exact=True)).to_be_visible()  # the whole form is there
    fill(page, answers)
    journey.check(f"{form} filled")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page).to_have_title(f"Check your answers: {title} – casework")
    journey.check(f"{form} check answers")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    journey.check(f"{form} complete")
    with database.session_scope() as session:
        done = session.connection().execute(select(work_item.c.status, work_item.c.completed_by).where(
            work_item.c.id == item["id"])).one()
    assert tuple(done) == ("closed", user)
    return item


def start_from_case_view(journey: Journey, s: dict[str, Any], key: str) -> None:
    page = journey.page
    sign_in_as(journey, s["users"]["practitioner"])
    journey.goto(f"/people/{s['person_id']}")
    expect(page).to_have_title(f"{s['name']} – casework")
    journey.check(f"case view before {key}")
    page.get_by_label("Start a process for this case").select_option(value=key)
    page.get_by_role("button", name=re.compile("^Start")).click()
    page.wait_for_load_state()
    journey.check(f"{key} started")


@pytest.mark.browser
def test_contact_to_authorised_childrens_assessment(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server, "children")
    today = date.today().isoformat()
    practitioner = s["users"]["practitioner"]

    start_from_case_view(journey, s, "referral")
    do_task(journey, s, "referral-contact",
            sample("referral-contact", person_id=None, route_of_access=None, referral_date=today,
                   service="children"), who="practitioner")
    do_task(journey, s, "referral-screening", sample("referral-screening", recommendation="childrens_assessment"),
            who="practitioner")
    do_task(journey, s, "referral-decision", sample("referral-decision", decision="childrens_assessment",
                                                    allocated_team=s["team"]), who="team_manager")

    # the referral decision starts the children's assessment for the same case: nothing to start by hand
    do_task(journey, s, "assessment-allocation", sample("assessment-allocation", allocated_worker=practitioner,
                                                        allocation_date=today), who="team_manager")
    do_task(journey, s, "child-seen", sample("child-seen", child_seen_date=today), who="practitioner")
    do_task(journey, s, "single-assessment", sample("single-assessment"), who="practitioner")
    do_task(journey, s, "assessment-authorisation", sample("assessment-authorisation"), who="team_manager")

    page = journey.page
    journey.goto(f"/people/{s['person_id']}")
    journey.check("case view after the assessment")
    with database.session_scope() as session:
        rows = session.connection().execute(select(work_item.c.form, work_item.c.completed_by).where(
            work_item.c.status == "closed", work_item.c.form.in_(["single-assessment", "assessment-authorisation"]),
            work_item.c.business_key == s["case"])).all()
    people = dict(rows)
    assert people["single-assessment"] == practitioner
    assert people["assessment-authorisation"] == s["users"]["team_manager"] != practitioner  # four-eyes
    expect(page.locator("body")).to_contain_text("childrens_assessment")

    # the manager's dashboard counts this team's referral decision and assessment
    sign_in_as(journey, s["users"]["team_manager"])
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_title("Dashboard – casework")
    page.get_by_label("Team", exact=True).select_option(s["team"])
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"team="))
    for measure in ("referral-decision", "assessment-authorisation"):
        expect(page.locator(f"tr[data-measure='{measure}'] td").nth(1)).to_have_text("1")
    journey.check("dashboard")


@pytest.mark.browser
def test_payment_request_two_approvals_and_payment_run(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server, "adults")
    today = date.today()
    start = today - timedelta(days=today.weekday() + 21)  # a Monday three weeks ago: three whole weeks to pay
    start_from_case_view(journey, s, "payment_authorisation")
    # 50.00 an hour x 14 hours = 700.00 a week (36,400 a year): over the team manager's 500 a week limit, so
    # the decision table asks for the team manager and then the head of service.
    request = do_task(journey, s, "payment-request",
                      sample("payment-request", provider_id=s["provider"], unit_cost="50.00", units_per_week=14,
                             start_date=start.isoformat()), who="practitioner")
    do_task(journey, s, "payment-approval", sample("payment-approval"), who="team_manager")
    do_task(journey, s, "payment-approval", sample("payment-approval"), who="head_of_service")
    do_task(journey, s, "payment-schedule-setup", sample("payment-schedule-setup"), who="finance_officer")

    period_end = start + timedelta(days=20)  # the third Sunday
    with database.session_scope() as session:
        # the model's finance.create_agreement is not given process_instance_id (see the report), so the
        # agreement is found by the person it pays for
        agreement = session.scalars(select(Agreement).where(Agreement.person_id == s["person_id"])).one()
        assert agreement.status in AgreementStatus.PAYABLE, agreement.status
        run = runs.create_run(session, period_end=period_end, created_by=s["users"]["finance_officer"], today=today)
        text, reference = run.file_content or "", agreement.reference
    assert request["form"] == "payment-request"
    lines = [line for line in text.splitlines() if reference and reference in line]
    assert len(lines) == 3, text
    assert all("700.00" in line or "70000" in line for line in lines), lines
