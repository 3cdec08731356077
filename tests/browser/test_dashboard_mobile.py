"""The manager dashboard on a 375 x 812 phone screen: tables, charts and filters fit the width (no sideways
scrolling of the page) and axe finds no WCAG 2.2 AA problem."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from casework.accounts import service as accounts
from casework.accounts.models import Team, User
from casework.auth.access import Actor
from casework.db import utcnow
from casework.engine_host import get_engine, operation_session
from casework.extensions import database
from casework.records import service_case as cases
from casework.records.service_person import create_person
from engine.schema import work_item
from tests.browser.conftest import PASSWORD, Journey, LiveServer
from tests.workspace.conftest import publish_test_process

_seq = itertools.count(1)
PHONE = {"width": 375, "height": 812}
# the page's scroll width, and (to say what to fix when it is too wide) the elements reaching past the viewport
WIDTHS = """() => ({
  page: document.documentElement.scrollWidth, body: document.body.scrollWidth,
  wide: [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest('.casework-table-wrap'))
    .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')
      + ' ' + Math.round(e.getBoundingClientRect().right))})"""


def seed(live_server: LiveServer) -> dict:
    """A team with a long name, a manager, open cases (allocated and not) and overdue work, so every table
    and chart of the dashboard has rows."""
    n = next(_seq)
    team = f"mobile-dash-{n}"
    manager, worker = f"mdmanager{n}", f"mdworker{n}"
    engine = get_engine(live_server.app)
    with database.session_scope() as session:
        accounts.create_team(session, code=team, name=f"Children in need and child protection east {n}")
        accounts.create_user(session, username=manager, display_name=f"Morgan Dashboard-Manager {n}",
                             password=PASSWORD, roles=["team_manager"], teams=[team], manages=[team])
        accounts.create_user(session, username=worker, display_name=f"Alexandra Worthington-Smythe {n}",
                             password=PASSWORD, roles=["practitioner"], teams=[team])
    with database.session_scope() as session:
        team_row = session.scalars(select(Team).where(Team.code == team)).one()
        manager_row = session.scalars(select(User).where(User.username == manager)).one()
        worker_row = session.scalars(select(User).where(User.username == worker)).one()
        actor = Actor.from_user(manager_row)
        for i in range(3):
            person = create_person(session, actor, {"forename": "Robin", "surname": f"Mobile{n}x{i}",
                                                    "date_of_birth": date(2015, 2, 1 + i)},
                                   confirm_not_duplicate=True)
            cases.open_case(session, actor, person, {"service_area": "children", "open_reason": "referral",
                                                     "team_id": team_row.id,
                                                     "worker_id": worker_row.id if i else None})
        conn = session.connection()
        with operation_session(session):
            if not engine.definitions(conn, "ws_contact"):
                publish_test_process(engine, conn)
            for i, days in enumerate((-4, -1, 6)):
                result = engine.start(conn, "ws_contact", business_key=f"MOB-{n}-{i}",
                                      data={"case_ref": f"MOB-{n}-{i}"}, actor="intake")
                conn.execute(update(work_item).where(work_item.c.instance_id == result.instance_id)
                             .values(team=team, due_at=utcnow() + timedelta(days=days)))
    return {"team": team, "manager": manager}


@pytest.mark.browser
@pytest.mark.parametrize("journey", [PHONE], indirect=True)
def test_dashboard_fits_a_375px_phone_without_sideways_scrolling(journey: Journey,
                                                                 live_server: LiveServer) -> None:
    s = seed(live_server)
    page = journey.page
    page.set_viewport_size(PHONE)
    journey.sign_in(s["manager"])
    journey.goto(f"/dashboard?team={s['team']}")
    expect(page).to_have_title("Dashboard – casework")
    expect(page.locator(f"#overdue-table tr[data-team='{s['team']}'] td").nth(1)).to_have_text("2")
    expect(page.locator("#caseloads-table tbody tr")).to_have_count(2)  # allocated worker + not allocated
    assert page.evaluate("() => window.innerWidth") == 375
    widths = page.evaluate(WIDTHS)
    assert widths["page"] <= 375, f"the page scrolls sideways at 375 px: {widths}"
    assert widths["body"] <= 375, f"the page scrolls sideways at 375 px: {widths}"
    journey.check("dashboard at 375px")
