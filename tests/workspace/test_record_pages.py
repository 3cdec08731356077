"""Person search, the case view and the process diagram page."""

from __future__ import annotations

from datetime import date

from bs4 import BeautifulSoup

from casework.records import service_case as cases
from casework.records import service_details as details
from casework.records import service_note as notes
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person
from tests.workspace.conftest import start_contact


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def setup_case(session, connection, wf):  # type: ignore[no-untyped-def]
    team = create_team(session, code="cin-east")
    user = create_user(session, username="pat", teams=[team])
    actor = actor_for(user)
    person = create_person(session, actor, forename="Ava", surname="Okafor", date_of_birth=date(2015, 3, 14),
                           nhs_number="9434765919")
    details.add_alert(session, actor, person, alert_type="risk_to_staff", description="Visit in pairs")
    manager = actor_for(create_user(session, roles=["team_manager"], manages=[team], teams=[team]))
    case = cases.open_case(session, manager, person, {"service_area": "children", "open_reason": "referral",
                                                      "team_id": team.id, "worker_id": user.id})
    item_id = start_contact(wf, connection, case=case.reference, assignee="pat")
    instance_id = wf.work_item(connection, item_id)["instance_id"]
    cases.attach_process(session, case, instance_id=instance_id, process_key="ws_contact")
    notes.create_note(session, actor, person, {"note_type": "home_visit", "subject": "Home visit",
                                               "body": "Seen at home."})
    session.flush()
    return user, person, case, instance_id, item_id


def test_search_by_name_and_nhs_number(client, session, connection, wf):
    user, person, _case, _i, _w = setup_case(session, connection, wf)
    sign_in(client, user)
    response = client.get("/people")
    assert response.status_code == 200 and page(response).title.get_text(strip=True) == "Find a person – casework"
    doc = page(client.get("/people?q=okafor"))
    assert [a.get_text(strip=True) for a in doc.select("tbody a")] == ["Ava Okafor"]
    doc = page(client.get("/people?q=943+476+5919"))
    assert [a["href"] for a in doc.select("tbody a")] == [f"/people/{person.id}"]
    doc = page(client.get("/people?dob-day=14&dob-month=3&dob-year=2015"))
    assert "Ava Okafor" in doc.select_one("tbody").get_text()
    response = client.get("/people?dob-day=31&dob-month=2&dob-year=2015")
    assert response.status_code == 422
    assert page(response).select_one(".govuk-error-summary a")["href"] == "#dob-day"


def test_case_view_shows_alerts_identifiers_cases_steps_chronology_notes(client, session, connection, wf):
    user, person, case, instance_id, _w = setup_case(session, connection, wf)
    sign_in(client, user)
    response = client.get(f"/people/{person.id}")
    assert response.status_code == 200
    doc = page(response)
    assert doc.title.get_text(strip=True) == "Ava Okafor – casework"
    assert "Visit in pairs" in doc.select_one(".govuk-notification-banner").get_text()
    assert "9434765919" in doc.select_one(".govuk-summary-list").get_text()
    card = doc.select_one(f"#case-{case.id}")
    assert case.reference in card.get_text() and "Now: Record the contact" in card.get_text()
    assert card.select_one(f"a[href='/processes/{instance_id}']") is not None
    assert "Home visit" in doc.get_text()
    assert doc.select_one("#kind") is not None
    assert client.get(f"/people/{person.id}?kind=case_opened").status_code == 200
    assert client.get(f"/cases/{case.reference}").headers["Location"] == f"/people/{person.id}#case-{case.id}"


def test_process_page_and_diagram_json(client, session, connection, wf):
    user, _person, _case, instance_id, item_id = setup_case(session, connection, wf)
    sign_in(client, user)
    wf.complete_task(connection, item_id, {"contact_date": "2026-03-02", "contact_type": "phone", "summary": "x"},
                     "pat")
    doc = page(client.get(f"/processes/{instance_id}"))
    assert "Decide on the referral" in doc.select_one("ul.govuk-list").get_text()
    assert "Record the contact" in doc.select_one("ol.govuk-list").get_text()
    assert doc.select_one("#process-diagram")["data-src"] == f"/processes/{instance_id}/diagram.json"
    data = client.get(f"/processes/{instance_id}/diagram.json").get_json()
    assert data["current"] == ["decide"] and "record" in data["done"] and data["xml"].startswith("<?xml")


def test_records_pages_need_permission(client, session, connection, wf):
    _user, person, _case, instance_id, _w = setup_case(session, connection, wf)
    sign_in(client, create_user(session, roles=["configurator"]))
    assert client.get("/people").status_code == 403
    assert client.get(f"/people/{person.id}").status_code == 403
    assert client.get(f"/processes/{instance_id}").status_code == 403
    sign_in(client, create_user(session))
    assert client.get("/people/999999").status_code == 404
    assert client.get("/processes/999999").status_code == 404


def test_work_lists_name_the_person_and_hide_restricted_names(client, session, connection, wf):
    user, person, case, _i, _w = setup_case(session, connection, wf)
    sign_in(client, user)
    cell = page(client.get("/")).select("tbody tr td")[1]
    assert cell.select_one("a").get_text(strip=True) == "Ava Okafor"
    assert cell.select_one("a")["href"] == f"/people/{person.id}" and case.reference in cell.get_text()
    person.restricted = True
    session.flush()
    cell = page(client.get("/")).select("tbody tr td")[1]
    assert "Ava" not in cell.get_text() and "Restricted record" in cell.get_text() and cell.select_one("a") is None


def test_completing_sends_routing_fields_to_the_engine_and_answers_to_the_case_record(client, session, connection,
                                                                                       wf):
    from sqlalchemy import select

    from casework.records.models_chronology import ChronologyEntry

    user, person, case, instance_id, item_id = setup_case(session, connection, wf)
    token = sign_in(client, user)
    client.post(f"/tasks/{item_id}", data={"csrf_token": token, "contact_date-day": "2", "contact_date-month": "3",
                                           "contact_date-year": "2026", "contact_type": "phone",
                                           "summary": "Spoke to Ava's teacher", "_action": "continue"})
    assert client.post(f"/tasks/{item_id}/check", data={"csrf_token": token}).status_code == 302
    data = wf.get_instance(connection, instance_id)["data"]
    assert data["contact_type"] == "phone" and data["urgent"] is None and "summary" not in data
    entry = session.scalars(select(ChronologyEntry).where(ChronologyEntry.person_id == person.id,
                                                          ChronologyEntry.source_ref == f"work_item:{item_id}:answers")
                            ).one()
    assert entry.case_id == case.id and "What happened: Spoke to Ava's teacher" in entry.detail
    assert entry.title == "Record the contact: answers recorded"


def test_start_a_process_from_the_case_view(client, session, connection, wf):
    from sqlalchemy import select

    from casework.records.models_case import CaseProcess

    user, person, case, _i, _w = setup_case(session, connection, wf)
    token = sign_in(client, user)
    doc = page(client.get(f"/people/{person.id}"))
    assert doc.select_one(f'a[href="/people/{person.id}/cases/new"]') is not None  # open another case
    select_box = doc.select_one(f"#process_key-{case.id}")
    assert [o["value"] for o in select_box.select("option")] == ["", "ws_contact"]
    # one is already running for this case: asked first, nothing started
    response = client.post(f"/cases/{case.reference}/start", data={"csrf_token": token, "process_key": "ws_contact"})
    assert response.status_code == 409
    confirm = page(response)
    assert "already running for this case" in confirm.select_one("h1").get_text()
    assert confirm.select_one("input[name=start_another]")["value"] == "yes"
    assert confirm.select_one(f'a[href="/processes/{_i}"]') is not None
    assert len(session.scalars(select(CaseProcess).where(CaseProcess.case_id == case.id)).all()) == 1
    response = client.post(f"/cases/{case.reference}/start", data={"csrf_token": token, "process_key": "ws_contact",
                                                                    "start_another": "yes"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/tasks/")
    links = session.scalars(select(CaseProcess).where(CaseProcess.case_id == case.id)).all()
    assert len(links) == 2
    response = client.post(f"/cases/{case.reference}/start", data={"csrf_token": token, "process_key": "nope"})
    assert response.status_code == 422
    token = sign_in(client, create_user(session, roles=["finance_officer"]))  # may view records, not edit them
    assert client.post(f"/cases/{case.reference}/start", data={"csrf_token": token, "process_key": "ws_contact"}
                       ).status_code == 403


def test_task_page_shows_earlier_answers_of_the_case(client, session, connection, wf):
    from sqlalchemy import select

    from engine.schema import work_item

    user, _person, _case, instance_id, item_id = setup_case(session, connection, wf)
    token = sign_in(client, user)
    client.post(f"/tasks/{item_id}", data={"csrf_token": token, "contact_date-day": "2", "contact_date-month": "3",
                                           "contact_date-year": "2026", "contact_type": "phone",
                                           "summary": "Spoke to the school", "_action": "continue"})
    client.post(f"/tasks/{item_id}/check", data={"csrf_token": token})
    decision = connection.execute(select(work_item.c.id).where(work_item.c.instance_id == instance_id,
                                                               work_item.c.status == "open")).scalar_one()
    manager = create_user(session, roles=["team_manager"])
    connection.execute(work_item.update().where(work_item.c.id == decision).values(assignee=manager.username))
    sign_in(client, manager)
    details_box = page(client.get(f"/tasks/{decision}")).select_one("#earlier-answers")
    assert "Record the contact: answers recorded" in details_box.get_text()
    assert "What happened: Spoke to the school" in details_box.get_text()


def test_case_view_shows_dates_in_uk_time(client, session, connection, wf):
    """Stored in UTC, shown as the UK day: 23:30 UTC on 1 June 2026 is 00:30 on 2 June in London (BST)."""
    from datetime import UTC, datetime

    from casework.records import service_chronology

    user, person, _case, _i, _w = setup_case(session, connection, wf)
    service_chronology.add_manual_entry(session, actor_for(user), person, kind="other", title="Late-night call",
                                        occurred_at=datetime(2026, 6, 1, 23, 30, tzinfo=UTC))
    session.flush()
    sign_in(client, user)
    rows = page(client.get(f"/people/{person.id}")).select("#chronology ~ div table tbody tr")
    row = next(r for r in rows if "Late-night call" in r.get_text())
    assert row.select("td")[0].get_text(strip=True) == "2 June 2026"
