"""Manager dashboard (/dashboard): caseloads, overdue work and timeliness, as tables and charts, filtered by
team and month; figures checked against data the test creates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bs4 import BeautifulSoup
from sqlalchemy import update

from casework.auth.access import Actor
from casework.db import utcnow
from casework.records import service_case as cases
from casework.records.service_person import create_person
from engine.schema import work_item
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.workspace.conftest import start_contact

OCT = datetime(2026, 10, 14, 12, 0, tzinfo=UTC)
SEP = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def cells(doc: BeautifulSoup, table: str, key: str, value: str) -> list[str]:
    row = doc.select_one(f"#{table} tr[{key}='{value}']")
    assert row is not None, f"no row {value} in {table}"
    return [c.get_text(strip=True) for c in row.select("th, td")]


def closed(wf, connection, *, form: str, team: str, due: datetime, done: datetime, case: str) -> None:  # type: ignore[no-untyped-def]
    item = start_contact(wf, connection, case=case, team=team)
    connection.execute(update(work_item).where(work_item.c.id == item).values(
        form=form, status="closed", due_at=due, completed_at=done, completed_by="someone"))


def seed(session, connection, wf):  # type: ignore[no-untyped-def]
    east, west = create_team(session, code="dash-east", name="Dash East"), create_team(session, code="dash-west",
                                                                                      name="Dash West")
    manager = create_user(session, username="dash.manager", roles=["team_manager"], teams=[east], manages=[east])
    ann = create_user(session, username="dash.ann", display_name="Ann Worker", teams=[east])
    bob = create_user(session, username="dash.bob", display_name="Bob Worker", teams=[west])
    actor = Actor.from_user(manager)
    for i, (team, worker) in enumerate([(east, ann), (east, ann), (east, None), (west, bob)]):
        person = create_person(session, actor, {"forename": "Kid", "surname": f"Dash{i}",
                                                "date_of_birth": date(2016, 1, 1 + i)}, confirm_not_duplicate=True)
        cases.open_case(session, actor, person, {"service_area": "children", "open_reason": "referral",
                                                 "team_id": team.id, "worker_id": worker.id if worker else None})
    now = utcnow()
    # open work: east 3 (2 overdue), west 1 (not overdue)
    for due in (now - timedelta(days=3), now - timedelta(days=1), now + timedelta(days=5)):
        start_contact(wf, connection, case="D-OPEN", team="dash-east", due_at=due)
    start_contact(wf, connection, case="D-OPEN", team="dash-west", due_at=now + timedelta(days=2))
    # October: east referral decisions 3 (2 on time), assessments 2 (1 on time); west ICPC 1 on time
    closed(wf, connection, form="referral-decision", team="dash-east", due=OCT, done=OCT - timedelta(hours=2),
           case="D1")
    closed(wf, connection, form="referral-decision", team="dash-east", due=OCT, done=OCT, case="D2")
    closed(wf, connection, form="referral-decision", team="dash-east", due=OCT, done=OCT + timedelta(days=1),
           case="D3")
    closed(wf, connection, form="assessment-authorisation", team="dash-east", due=OCT, done=OCT, case="D4")
    closed(wf, connection, form="assessment-authorisation", team="dash-east", due=OCT - timedelta(days=9),
           done=OCT, case="D5")
    closed(wf, connection, form="icpc-outcome", team="dash-west", due=OCT, done=OCT - timedelta(days=1), case="D6")
    # September: one late referral decision in east
    closed(wf, connection, form="referral-decision", team="dash-east", due=SEP, done=SEP + timedelta(days=2),
           case="D7")
    return manager


def test_dashboard_figures_tables_and_charts(client, session, connection, wf) -> None:
    manager = seed(session, connection, wf)
    sign_in(client, manager)
    response = client.get("/dashboard")
    assert response.status_code == 200
    doc = page(response)
    assert doc.title.get_text(strip=True) == "Dashboard – casework"
    assert doc.select_one("nav a[href='/dashboard']") is not None or "Dashboard" in [
        a.get_text(strip=True) for a in doc.select("header a, nav a")]

    rows = {cells(doc, "timeliness-table", "data-measure", m)[0]: cells(doc, "timeliness-table", "data-measure", m)
            for m in ("referral-decision", "assessment-authorisation", "icpc-outcome")}
    assert rows["Referral decisions"][2:] == ["4", "2", "50%"]  # both months: 2 of 4 on time
    assert rows["Children's single assessments completed"][2:] == ["2", "1", "50%"]
    assert rows["Initial child protection conferences"][2:] == ["1", "1", "100%"]

    assert cells(doc, "overdue-table", "data-team", "dash-east")[1:] == ["3", "2"]
    assert cells(doc, "overdue-table", "data-team", "dash-west")[1:] == ["1", "0"]

    loads = [[c.get_text(strip=True) for c in r.select("td")] for r in doc.select("#caseloads-table tbody tr")]
    assert ["Dash East", "Ann Worker", "2"] in loads
    assert ["Dash East", "Not allocated", "1"] in loads
    assert ["Dash West", "Bob Worker", "1"] in loads

    # charts: inline SVG bars, no inline styles anywhere on the page (strict CSP)
    figure = doc.select_one("figure[aria-labelledby='timeliness-chart-caption']")
    widths = [r["width"] for r in figure.select("rect.casework-chart__fill")]
    assert widths == ["50", "50", "100"]
    assert [s.get_text(strip=True) for s in figure.select(".casework-chart__number")] == ["50%", "50%", "100%"]
    overdue_bars = doc.select("figure[aria-labelledby='overdue-chart-caption'] rect.casework-chart__fill")
    assert len(overdue_bars) >= 2
    assert doc.select("[style]") == []


def test_dashboard_filters_by_team_and_month(client, session, connection, wf) -> None:
    manager = seed(session, connection, wf)
    sign_in(client, manager)
    doc = page(client.get("/dashboard?team=dash-east&month=2026-10"))
    assert cells(doc, "timeliness-table", "data-measure", "referral-decision")[2:] == ["3", "2", "67%"]
    assert cells(doc, "timeliness-table", "data-measure", "icpc-outcome")[2:] == ["0", "0", "–"]
    assert doc.select_one("#overdue-table tr[data-team='dash-west']") is None
    assert {r["data-team"] for r in doc.select("#caseloads-table tbody tr")} == {"dash-east"}
    assert doc.select_one("#team option[selected]")["value"] == "dash-east"

    doc = page(client.get("/dashboard?month=2026-09"))
    assert cells(doc, "timeliness-table", "data-measure", "referral-decision")[2:] == ["1", "0", "0%"]

    response = client.get("/dashboard?month=last-year&team=nope")
    assert response.status_code == 400
    doc = page(response)
    assert doc.title.get_text(strip=True).startswith("Error:")
    assert [a.get_text(strip=True) for a in doc.select(".govuk-error-summary a")] == [
        "Select a team from the list", "Enter a month as a year and month, like 2026-11"]


def test_dashboard_needs_the_reports_permission(client, session) -> None:
    worker = create_user(session, username="dash.practitioner")
    sign_in(client, worker)
    assert client.get("/dashboard").status_code == 403
    home = page(client.get("/"))
    assert "Dashboard" not in [a.get_text(strip=True) for a in home.select("a")]
