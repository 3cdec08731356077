"""Workspace pages through the Flask test client: status, title, error summary, permissions."""

from __future__ import annotations

from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select, update

from engine.schema import work_item
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.workspace.conftest import NOW, start_contact


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def title(response) -> str:  # type: ignore[no-untyped-def]
    return page(response).title.get_text(strip=True)


VALID = {"contact_date-day": "2", "contact_date-month": "3", "contact_date-year": "2026", "contact_type": "phone",
         "summary": "Called the school", "_action": "continue"}


def test_my_work_lists_my_tasks_with_working_days_tags(client, session, connection, wf):
    user = create_user(session, username="pat")
    sign_in(client, user)
    start_contact(wf, connection, case="CASE-1", assignee="pat", due_at=NOW + timedelta(days=1))
    start_contact(wf, connection, case="CASE-2", assignee="pat", due_at=NOW - timedelta(days=3))
    start_contact(wf, connection, case="CASE-3", assignee="someone-else")
    response = client.get("/")
    assert response.status_code == 200
    assert title(response) == "My work – casework"
    doc = page(response)
    rows = doc.select("tbody tr")
    assert [r.select("td")[1].get_text(strip=True) for r in rows] == ["CASE-2", "CASE-1"]  # due soonest first
    tags = [r.select_one(".govuk-tag").get_text(strip=True) for r in rows]
    assert tags == ["Overdue by 1 working day", "1 working day left"]  # Fri 27 Feb -> Mon 2 Mar
    assert "govuk-tag--red" in rows[0].select_one(".govuk-tag")["class"]
    nav = [a.get_text(strip=True) for a in doc.select(".govuk-service-navigation__link")]
    assert "My work (2)" in nav and "Team queue (0)" in nav


def test_my_work_filters_sorts_and_pages(client, session, connection, wf, clock):
    user = create_user(session, username="pat")
    sign_in(client, user)
    for n in range(27):
        start_contact(wf, connection, case=f"C-{n:02d}", assignee="pat", due_at=NOW + timedelta(days=n))
    doc = page(client.get("/"))
    assert len(doc.select("tbody tr")) == 25
    assert doc.select_one("#result-count").get_text(strip=True) == "27 tasks (page 1 of 2)"
    assert doc.select_one(".govuk-pagination__next a")["href"] == "/?page=2"
    doc = page(client.get("/?page=2"))
    assert [r.select("td")[1].get_text(strip=True) for r in doc.select("tbody tr")] == ["C-25", "C-26"]
    doc = page(client.get("/?sort=-due"))
    assert doc.select("tbody tr")[0].select("td")[1].get_text(strip=True) == "C-26"
    doc = page(client.get("/?due=week"))  # Mon 2 March + 5 working days = Mon 9 March
    assert doc.select_one("#result-count").get_text(strip=True) == "8 tasks"
    clock.advance(hours=1)
    doc = page(client.get("/?due=overdue"))
    assert doc.select_one("#result-count").get_text(strip=True) == "1 task"  # due at 09:00 today, now past
    doc = page(client.get("/?task=record&process=ws_contact"))
    assert doc.select_one("#filter-task option[selected]")["value"] == "record"
    doc = page(client.get("/?task=nope"))
    assert doc.select_one("#result-count").get_text(strip=True) == "0 tasks"
    assert client.get("/?page=abc&sort=drop+table").status_code == 200


def test_team_queue_and_claim(client, session, connection, wf):
    team = create_team(session, code="cin-east")
    user = create_user(session, username="pat", teams=[team])
    sign_in(client, user)
    item_id = start_contact(wf, connection, case="CASE-9", team="cin-east")
    start_contact(wf, connection, case="CASE-10", team="other-team")
    response = client.get("/team")
    assert response.status_code == 200 and title(response) == "Team queue – casework"
    rows = page(response).select("tbody tr")
    assert len(rows) == 1 and "CASE-9" in rows[0].get_text()
    token = sign_in(client, user)
    response = client.post("/team/claim", data={"csrf_token": token, "item": str(item_id)})
    assert response.status_code == 302
    assignee = connection.execute(select(work_item.c.assignee).where(work_item.c.id == item_id)).scalar_one()
    assert assignee == "pat"
    assert "CASE-9" in page(client.get("/")).select_one("tbody").get_text()


def test_team_queue_offers_work_with_candidates_only_to_them(client, session, connection, wf):
    """A model's candidateUsers limits who may take an item (the engine refuses anyone else): the team queue
    and its count leave it out for the others, a LIKE wildcard in a username matches nothing extra."""
    team = create_team(session, code="cin-east")
    pat = create_user(session, username="pat", teams=[team])
    p_t = create_user(session, username="p_t", teams=[team])
    only_pat = start_contact(wf, connection, case="CASE-1", team="cin-east")
    start_contact(wf, connection, case="CASE-2", team="cin-east")
    connection.execute(update(work_item).where(work_item.c.id == only_pat).values(candidates='["pat"]'))
    sign_in(client, p_t)
    response = client.get("/team")
    assert [r.get_text() for r in page(response).select("tbody tr") if "CASE-1" in r.get_text()] == []
    assert "CASE-2" in page(response).select_one("tbody").get_text()
    assert page(response).select_one('a[href="/team"]').get_text(" ", strip=True) == "Team queue (1)"
    token = sign_in(client, p_t)
    assert client.post("/team/claim", data={"csrf_token": token, "item": str(only_pat)}).status_code == 403
    sign_in(client, pat)
    response = client.get("/team")
    assert "CASE-1" in page(response).select_one("tbody").get_text()
    assert page(response).select_one('a[href="/team"]').get_text(" ", strip=True) == "Team queue (2)"


def test_claiming_another_teams_work_is_forbidden(client, session, connection, wf):
    user = create_user(session, username="pat", teams=[create_team(session)])
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, team="other-team")
    response = client.post("/team/claim", data={"csrf_token": token, "item": str(item_id)})
    assert response.status_code == 403


def test_manager_assigns_several_at_once(client, session, connection, wf):
    team = create_team(session, code="cin-east")
    worker = create_user(session, username="sam", display_name="Sam Worker", teams=[team])
    manager = create_user(session, username="manager", roles=["team_manager"], teams=[team], manages=[team])
    ids = [start_contact(wf, connection, case=f"C{n}", team="cin-east") for n in range(3)]
    token = sign_in(client, manager)
    doc = page(client.get("/team"))
    assert [o["value"] for o in doc.select("#assignee option")] == ["", "sam", "manager"]  # by display name
    response = client.post("/team/assign", data={"csrf_token": token, "items": [str(i) for i in ids[:2]],
                                                 "assignee": "sam"})
    assert response.status_code == 302
    rows = connection.execute(select(work_item.c.id, work_item.c.assignee).where(work_item.c.id.in_(ids))).all()
    assert dict(rows) == {ids[0]: "sam", ids[1]: "sam", ids[2]: None}
    doc = page(client.get("/team?show=all"))
    assert "Sam Worker" in doc.select_one("tbody").get_text()
    # missing choices: a clear message
    response = client.post("/team/assign", data={"csrf_token": token, "assignee": "sam"})
    assert response.status_code == 422 and "Select at least one task to assign" in response.get_data(as_text=True)
    del worker


def test_practitioner_cannot_assign_or_see_approvals(client, session, connection, wf):
    user = create_user(session, username="pat", teams=[create_team(session)])
    token = sign_in(client, user)
    assert client.post("/team/assign", data={"csrf_token": token, "items": "1", "assignee": "pat"}).status_code == 403
    assert client.get("/approvals").status_code == 403
    assert "Approvals" not in page(client.get("/")).select_one(".govuk-service-navigation").get_text()


def test_approvals_lists_manager_work(client, session, connection, wf):
    team = create_team(session, code="cin-east")
    create_user(session, username="pat", teams=[team])
    manager = create_user(session, username="manager", roles=["team_manager"], teams=[team], manages=[team])
    item_id = start_contact(wf, connection, team="cin-east", assignee="pat")
    client_token = sign_in(client, manager)
    assert client_token
    # complete the first step as pat through the engine: the decision lands with the team manager role
    wf.complete_task(connection, item_id, {"contact_date": "2026-03-02", "contact_type": "phone", "summary": "x"},
                     "pat")
    decision = connection.execute(select(work_item.c.id).where(work_item.c.task_spec == "decide")).scalar_one()
    connection.execute(update(work_item).where(work_item.c.id == decision).values(team="cin-east"))
    from datetime import date
    from decimal import Decimal

    from casework.finance.models import Agreement
    from casework.records.service_person import create_person
    from tests.records.factories import actor_for

    person = create_person(session, actor_for(manager), {"forename": "Ava", "surname": "Costa"},
                           confirm_not_duplicate=True)
    instance_id = connection.execute(select(work_item.c.instance_id).where(work_item.c.id == decision)).scalar_one()
    session.add(Agreement(kind="service", person_id=person.id, service_type="home_care", unit="hour",
                          unit_cost_pence=2250, units_per_week=Decimal("10"), start_date=date(2026, 3, 2),
                          process_instance_id=instance_id, requested_by="pat"))
    session.flush()
    response = client.get("/approvals")
    assert response.status_code == 200 and title(response) == "Approvals – casework"
    rows = page(response).select("tbody tr")
    assert len(rows) == 1 and "Decide on the referral" in rows[0].get_text()
    assert "Home care (domiciliary)" in rows[0].get_text()
    assert "£225.00 a week (£11,700.00 a year)" in rows[0].get_text(" ", strip=True)


def test_task_page_renders_prefilled_form(client, session, connection, wf):
    user = create_user(session, username="pat")
    sign_in(client, user)
    item_id = start_contact(wf, connection, assignee="pat", data={"case_ref": "CASE-77", "summary": "From MASH"})
    response = client.get(f"/tasks/{item_id}")
    assert response.status_code == 200 and title(response) == "Record the contact – casework"
    doc = page(response)
    assert "CASE-77" in doc.select_one("#case_ref").get_text()  # read-only earlier answer
    assert doc.select_one("textarea#summary").get_text() == "From MASH"
    assert doc.select_one("input[name=csrf_token]") is not None
    assert doc.select_one("#contact_date-day") is not None


def test_submit_with_errors_then_check_answers_then_complete(client, session, connection, wf):
    user = create_user(session, username="pat")
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, assignee="pat")
    response = client.post(f"/tasks/{item_id}", data={"csrf_token": token, "contact_type": "visit",
                                                      "summary": "typed text", "unknown": "x",
                                                      "contact_date-day": "31", "contact_date-month": "2",
                                                      "contact_date-year": "2026", "_action": "continue"})
    assert response.status_code == 422
    assert title(response) == "Error: Record the contact – casework"
    doc = page(response)
    summary = doc.select_one(".govuk-error-summary")
    links = [(a.get_text(strip=True), a["href"]) for a in summary.select("a")]
    assert links == [("Date of contact must be a real date", "#contact_date-day"),
                     ("Enter address visited", "#visit_address")]
    assert doc.select_one("textarea#summary").get_text() == "typed text"  # nothing lost
    assert doc.select_one("#contact_date-day")["value"] == "31"
    response = client.post(f"/tasks/{item_id}", data={"csrf_token": token, **VALID})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{item_id}/check"
    response = client.get(f"/tasks/{item_id}/check")
    assert response.status_code == 200 and title(response) == "Check your answers: Record the contact – casework"
    doc = page(response)
    values = {r.select_one("dt").get_text(strip=True): r.select_one(".govuk-summary-list__value").get_text(strip=True)
              for r in doc.select(".govuk-summary-list__row")}
    assert values["Date of contact"] == "2 March 2026" and values["How was the contact made?"] == "Phone"
    assert doc.select_one("a[href$='#summary']") is not None
    response = client.post(f"/tasks/{item_id}/check", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    row = connection.execute(select(work_item.c.status, work_item.c.completed_by).where(
        work_item.c.id == item_id)).one()
    assert tuple(row) == ("closed", "pat")
    assert "is complete" in page(client.get("/")).select_one(".govuk-notification-banner").get_text()


def test_save_draft_keeps_answers_without_validation(client, session, connection, wf):
    user = create_user(session, username="pat")
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, assignee="pat")
    response = client.post(f"/tasks/{item_id}", data={"csrf_token": token, "summary": "half done",
                                                      "_action": "draft"})
    assert response.status_code == 302
    doc = page(client.get(f"/tasks/{item_id}"))
    assert doc.select_one("textarea#summary").get_text() == "half done"
    assert "draft you saved" in doc.select_one(".govuk-inset-text").get_text()


def test_stale_draft_is_flagged(client, session, connection, wf):
    user = create_user(session, username="pat")
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, assignee="pat")
    client.post(f"/tasks/{item_id}", data={"csrf_token": token, **VALID})
    from engine.schema import process_instance
    connection.execute(update(process_instance).values(version=process_instance.c.version + 1))
    doc = page(client.get(f"/tasks/{item_id}/check"))
    assert "changed since you saved" in doc.select_one(".govuk-warning-text").get_text()
    response = client.post(f"/tasks/{item_id}/check", data={"csrf_token": token})
    assert response.status_code == 409
    assert "Check your answers are still right" in page(response).select_one(".govuk-warning-text").get_text()
    response = client.post(f"/tasks/{item_id}/check", data={"csrf_token": token})  # second go succeeds
    assert response.status_code == 302


def test_task_completed_by_someone_else_shows_who_and_keeps_answers(client, session, connection, wf):
    team = create_team(session, code="cin-east")
    create_user(session, username="other", display_name="Olu Other", teams=[team])
    user = create_user(session, username="pat", teams=[team])
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, team="cin-east")
    assert client.get(f"/tasks/{item_id}").status_code == 200
    wf.complete_task(connection, item_id, {"contact_date": "2026-03-02", "contact_type": "phone", "summary": "x"},
                     "other")
    response = client.post(f"/tasks/{item_id}", data={"csrf_token": token, **VALID, "summary": "my version"})
    assert response.status_code == 409
    text = page(response).get_text(" ", strip=True)
    assert "completed by Olu Other on 2 March 2026 at 09:00" in text
    assert "my version" in text


def test_four_eyes_is_explained(client, session, connection, wf):
    team = create_team(session, code="cin-east")
    manager = create_user(session, username="manager", roles=["team_manager"], teams=[team], manages=[team])
    token = sign_in(client, manager)
    item_id = start_contact(wf, connection, team="cin-east", assignee="manager")
    wf.complete_task(connection, item_id, {"contact_date": "2026-03-02", "contact_type": "phone", "summary": "x"},
                     "manager")
    decision = connection.execute(select(work_item.c.id).where(work_item.c.task_spec == "decide")).scalar_one()
    connection.execute(update(work_item).where(work_item.c.id == decision).values(team="cin-east", assignee="manager"))
    client.post(f"/tasks/{decision}", data={"csrf_token": token, "decision": "accept", "_action": "continue"})
    response = client.post(f"/tasks/{decision}/check", data={"csrf_token": token})
    assert response.status_code == 403
    assert "four-eyes rule" in page(response).select_one(".govuk-warning-text").get_text()


def test_add_another_and_unknown_task(client, session, connection, wf):
    user = create_user(session, username="pat")
    sign_in(client, user)
    assert client.get("/tasks/999999").status_code == 404
    other = start_contact(wf, connection, assignee="someone")
    assert client.get(f"/tasks/{other}").status_code == 403


def test_expired_session_keeps_answers_and_resumes_after_sign_in(app, client, session, connection, wf):
    user = create_user(session, username="pat")
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, assignee="pat")
    with client.session_transaction() as sess:
        sess["seen"] = 0  # idle far too long
    response = client.post(f"/tasks/{item_id}", data={"csrf_token": token, **VALID, "summary": "typed before"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/sign-in") and "expired=1" in location and "resume" in location
    from urllib.parse import parse_qs, urlsplit
    nxt = parse_qs(urlsplit(location).query)["next"][0]
    sign_in(client, user)
    doc = page(client.get(nxt))
    assert doc.select_one("textarea#summary").get_text() == "typed before"
    assert "We kept the answers" in doc.select_one(".govuk-inset-text").get_text()
    # the key works once
    sign_in(client, user)
    assert "We kept the answers" not in page(client.get(nxt)).get_text()


def test_expired_session_on_submit_returns_to_check_answers(client, session, connection, wf):
    user = create_user(session, username="pat")
    token = sign_in(client, user)
    item_id = start_contact(wf, connection, assignee="pat")
    client.post(f"/tasks/{item_id}", data={"csrf_token": token, **VALID})
    with client.session_transaction() as sess:
        sess["seen"] = 0
    response = client.post(f"/tasks/{item_id}/check", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/tasks/{item_id}/check&expired=1"
    status = connection.execute(select(work_item.c.status).where(work_item.c.id == item_id)).scalar_one()
    assert status == "open"  # nothing was submitted without a signed-in person


def test_team_queue_of_several_teams_pages_in_due_order(client, session, connection, wf):
    teams = [create_team(session, code="team-a"), create_team(session, code="team-b")]
    user = create_user(session, username="pat", teams=teams)
    sign_in(client, user)
    for n in range(30):
        start_contact(wf, connection, case=f"Q-{n:02d}", team="team-a" if n % 3 else "team-b",
                      due_at=NOW + timedelta(days=n))
    none_id = start_contact(wf, connection, case="Q-none", team="team-b")
    connection.execute(update(work_item).where(work_item.c.id == none_id).values(due_at=None))  # no due date: last
    first = [r.select("td")[1].get_text(strip=True) for r in page(client.get("/team")).select("tbody tr")]
    second = [r.select("td")[1].get_text(strip=True) for r in page(client.get("/team?page=2")).select("tbody tr")]
    assert first + second == [f"Q-{n:02d}" for n in range(30)] + ["Q-none"]
