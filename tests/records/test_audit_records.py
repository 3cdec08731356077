"""Every view and change of personal data through the records API writes exactly one audit event per request,
in the request's transaction, naming fields (never values); the chain still verifies."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from casework.audit import AuditEvent, verify_chain
from tests.conftest import sign_in
from tests.factories import create_team, create_user


def _seq(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _one_event(session, before: int) -> AuditEvent:
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)))
    assert len(events) == 1, [(e.action, e.record_type) for e in events]
    return events[0]


def _do(client, session, method, url, **kw):
    before = _seq(session)
    response = client.open(url, method=method, **kw)
    assert response.status_code in (200, 201), (url, response.status_code, response.get_data(as_text=True)[:300])
    return response, _one_event(session, before)


def test_views_and_changes_are_audited_once_with_field_names(client, session):
    team = create_team(session)
    user = create_user(session, roles=["team_manager"], manages=[team])
    h = {"X-CSRF-Token": sign_in(client, user)}
    created, event = _do(client, session, "POST", "/api/people", headers=h, json={
        "forename": "Audrey", "surname": "Trail", "date_of_birth": "2014-02-03", "confirm_not_duplicate": True})
    pid = created.get_json()["id"]
    assert (event.action, event.record_type, event.person_id) == ("create", "person", str(pid))
    assert {"forename", "surname", "date_of_birth"} <= set(json.loads(event.fields))

    _, event = _do(client, session, "GET", f"/api/people/{pid}")
    assert (event.action, event.record_type, event.record_id, event.actor_user_id) == ("view", "person", str(pid),
                                                                                       user.id)
    assert "surname" in json.loads(event.fields) and "Trail" not in event.fields

    _, event = _do(client, session, "GET", f"/api/people/{pid}/summary")
    assert (event.action, event.record_type) == ("view", "person_summary")

    _, event = _do(client, session, "PATCH", f"/api/people/{pid}", headers=h,
                   json={"preferred_name": "Aud", "first_language": "ENG", "version": 1})
    assert (event.action, event.record_type) == ("update", "person")
    assert json.loads(event.fields) == ["first_language", "preferred_name"]
    assert "Aud" not in event.fields

    case, event = _do(client, session, "POST", f"/api/people/{pid}/cases", headers=h,
                      json={"service_area": "children", "open_reason": "referral", "team_id": team.id})
    cid = case.get_json()["id"]
    assert (event.action, event.record_type, event.record_id) == ("create", "case", str(cid))
    _, event = _do(client, session, "POST", f"/api/cases/{cid}/allocation", headers=h,
                   json={"team_id": team.id, "worker_id": user.id, "reason": "Allocated", "version": 1})
    assert event.action == "update" and {"team_id", "worker_id"} <= set(json.loads(event.fields))
    _, event = _do(client, session, "GET", f"/api/cases/{cid}")
    assert (event.action, event.record_type) == ("view", "case")

    note, event = _do(client, session, "POST", f"/api/people/{pid}/notes", headers=h, json={
        "note_type": "home_visit", "subject": "Visit", "body": "Seen at home", "case_id": cid})
    nid = note.get_json()["id"]
    assert (event.action, event.record_type) == ("create", "note")
    assert {"subject", "body", "case_id"} <= set(json.loads(event.fields)) and "Seen" not in event.fields
    _, event = _do(client, session, "POST", f"/api/notes/{nid}/complete", headers=h, json={"version": 1})
    assert (event.action, json.loads(event.fields)) == ("update", ["completed_at", "status"])
    _, event = _do(client, session, "POST", f"/api/notes/{nid}/corrections", headers=h,
                   json={"body": "Seen in the garden", "reason": "Wrong room"})
    assert (event.action, json.loads(event.fields)) == ("update", ["corrections.body", "corrections.reason"])
    _, event = _do(client, session, "POST", f"/api/people/{pid}/notes", headers=h, json={
        "note_type": "home_visit", "subject": "Done", "body": "Complete at once", "complete": True})
    assert event.action == "create" and "status" in json.loads(event.fields)  # one event, not create + complete
    _, event = _do(client, session, "GET", f"/api/notes/{nid}")
    assert (event.action, event.record_type) == ("view", "note")

    _, event = _do(client, session, "GET", f"/api/people/{pid}/chronology")
    assert (event.action, event.record_type) == ("view", "chronology")
    export, event = _do(client, session, "GET", f"/api/people/{pid}/chronology?format=csv")
    assert (event.action, event.record_type) == ("export", "chronology") and export.mimetype == "text/csv"

    doc, event = _do(client, session, "POST", "/api/documents", headers=h, content_type="multipart/form-data",
                     data={"title": "Plan", "case_id": str(cid), "document_type": "care_plan",
                           "file": (io.BytesIO(b"plan text"), "plan.txt")})
    did = doc.get_json()["id"]
    assert (event.action, event.record_type, event.person_id) == ("create", "document", str(pid))
    _, event = _do(client, session, "GET", f"/api/documents/{did}/content")
    assert (event.action, event.record_type, json.loads(event.fields)) == ("view", "document", ["content"])

    _, event = _do(client, session, "POST", f"/api/cases/{cid}/close", headers=h,
                   json={"close_reason": "no_further_action", "version": 2})
    assert event.action == "update" and "status" in json.loads(event.fields)
    assert verify_chain(session).ok


def test_a_refused_view_writes_nothing(client, session):
    a, b = create_team(session), create_team(session)
    owner = create_user(session, roles=["team_manager"], manages=[a])
    h = {"X-CSRF-Token": sign_in(client, owner)}
    pid = client.post("/api/people", headers=h, json={"forename": "Out", "surname": "Ofteam",
                                                      "confirm_not_duplicate": True}).get_json()["id"]
    cid = client.post(f"/api/people/{pid}/cases", headers=h, json={
        "service_area": "children", "open_reason": "referral", "team_id": a.id}).get_json()["id"]
    other = create_user(session, roles=["practitioner"], teams=[b])
    sign_in(client, other)
    before = _seq(session)
    assert client.get(f"/api/cases/{cid}").status_code == 404
    assert _seq(session) == before


def test_relationships_and_aliases_are_audited_with_field_names(client, session):
    user = create_user(session, roles=["practitioner"], teams=[create_team(session)])
    h = {"X-CSRF-Token": sign_in(client, user)}
    ids = [client.post("/api/people", headers=h, json={"forename": f, "surname": "Kin",
                                                       "confirm_not_duplicate": True}).get_json()["id"]
           for f in ("Ann", "Bob")]
    _, event = _do(client, session, "POST", f"/api/people/{ids[0]}/names", headers=h,
                   json={"forename": "Annie", "surname": "Kin"})
    assert (event.action, event.record_type) == ("create", "person_name") and "Annie" not in event.fields
    rel, event = _do(client, session, "POST", f"/api/people/{ids[0]}/relationships", headers=h,
                     json={"related_person_id": ids[1], "rel_type": "sibling"})
    assert (event.action, event.record_type) == ("create", "person_relationship")
    assert {"related_person_id", "rel_type"} <= set(json.loads(event.fields))


def test_new_detail_rows_are_audited_with_their_own_id(client, session):
    user = create_user(session, roles=["team_manager"])
    h = {"X-CSRF-Token": sign_in(client, user)}
    created = client.post("/api/people", headers=h, json={
        "forename": "Ida", "surname": "Number", "date_of_birth": "2012-05-06", "confirm_not_duplicate": True})
    pid = created.get_json()["id"]
    alert, event = _do(client, session, "POST", f"/api/people/{pid}/alerts", headers=h,
                       json={"alert_type": "risk_to_staff", "description": "Dog at the address"})
    assert (event.record_type, event.record_id) == ("person_alert", str(alert.get_json()["id"]))
