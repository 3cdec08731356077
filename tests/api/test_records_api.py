"""Case-record REST API: validation, duplicates (409), versions (409), 404 for hidden records, pagination."""

from tests.conftest import sign_in
from tests.factories import create_team, create_user

PERSON = {"forename": "Leah", "surname": "Marsh", "date_of_birth": "2014-06-02", "nhs_number": "9000000009",
          "sex": "F", "ethnicity": "WBRI", "address": {"line1": "4 Oak Close", "postcode": "ZZ9 9ZZ"}}


def _client(client, session, roles=("practitioner",), **kw):
    user = create_user(session, roles=list(roles), **kw)
    return user, {"X-CSRF-Token": sign_in(client, user)}


def test_create_read_update_person(client, session):
    _, h = _client(client, session)
    created = client.post("/api/people", json=PERSON, headers=h)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["local_id"].startswith("P") and body["current_address"]["postcode"] == "ZZ9 9ZZ"
    assert body["alerts"] == [] and created.headers["ETag"] == 'W/"1"'
    pid = body["id"]
    stale_free = client.patch(f"/api/people/{pid}", json={"preferred_name": "Lee"},
                              headers={**h, "If-Match": 'W/"1"'})
    assert stale_free.status_code == 200 and stale_free.json["version"] == 2
    stale = client.patch(f"/api/people/{pid}", json={"preferred_name": "L", "version": 1}, headers=h)
    assert stale.status_code == 409 and "version" in stale.json["error"]["details"]
    missing = client.patch(f"/api/people/{pid}", json={"preferred_name": "L"}, headers=h)
    assert missing.status_code == 422 and "version" in missing.json["error"]["details"]
    alert = client.post(f"/api/people/{pid}/alerts", json={"alert_type": "risk_to_staff",
                                                           "description": "Dog"}, headers=h)
    assert alert.status_code == 201
    again = client.get(f"/api/people/{pid}", headers=h).json
    assert [a["alert_type"] for a in again["alerts"]] == ["risk_to_staff"]
    found = client.get("/api/people?surname=mar&date_of_birth=2014-06-02", headers=h).json
    assert [p["id"] for p in found["items"]] == [pid] and found["items"][0]["alerts"]


def test_bad_input_gets_field_messages_and_saves_nothing(client, session):
    _, h = _client(client, session)
    bad_nhs = client.post("/api/people", json={**PERSON, "nhs_number": "9000000001"}, headers=h)
    assert bad_nhs.status_code == 422 and "nhs_number" in bad_nhs.json["error"]["details"]
    unknown = client.post("/api/people", json={**PERSON, "favourite_colour": "red"}, headers=h)
    assert unknown.status_code == 422 and unknown.json["error"]["details"] == {"favourite_colour": "Unknown field."}
    bad_date = client.post("/api/people", json={**PERSON, "date_of_death": "2001-01-01"}, headers=h)
    assert bad_date.status_code == 422 and "date_of_death" in bad_date.json["error"]["details"]
    bad_postcode = client.post("/api/people", json={**PERSON, "address": {"line1": "x", "postcode": "nope"}},
                               headers=h)
    assert bad_postcode.status_code == 422 and "address.postcode" in bad_postcode.json["error"]["details"]
    assert client.get("/api/people?nhs_number=9000000009", headers=h).json["items"] == []


def test_duplicates_need_confirmation(client, session):
    _, h = _client(client, session)
    assert client.post("/api/people", json=PERSON, headers=h).status_code == 201
    similar = {"forename": "Lea", "surname": "Marsh", "date_of_birth": "2014-06-02"}
    refused = client.post("/api/people", json=similar, headers=h)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "possible_duplicate"
    assert refused.json["error"]["details"]["matches"][0]["name"] == "Leah Marsh"
    check = client.post("/api/people/duplicates", json=similar, headers=h)
    assert len(check.json["matches"]) == 1
    ok = client.post("/api/people", json={**similar, "confirm_not_duplicate": True}, headers=h)
    assert ok.status_code == 201


def test_restricted_person_is_404_everywhere_for_others(client, session):
    owner, h = _client(client, session)
    created = client.post("/api/people", json={**PERSON, "restricted": True}, headers=h)
    pid = created.json["id"]
    assert created.json["restricted_to_users"] == [owner.id]
    _, h2 = _client(client, session)
    for path in (f"/api/people/{pid}", f"/api/people/{pid}/summary", f"/api/people/{pid}/chronology",
                 f"/api/people/{pid}/notes", f"/api/people/{pid}/cases", f"/api/people/{pid}/household"):
        response = client.get(path, headers=h2)
        assert response.status_code == 404, path
    assert client.get("/api/people?nhs_number=9000000009", headers=h2).json["items"] == []
    assert client.post(f"/api/people/{pid}/notes", json={"note_type": "case_note", "subject": "x", "body": "y"},
                       headers=h2).status_code == 404


def test_case_notes_chronology_flow(client, session):
    team = create_team(session)
    worker = create_user(session, teams=[team])
    _, h = _client(client, session, roles=("team_manager",), manages=[team], teams=[team])
    pid = client.post("/api/people", json=PERSON, headers=h).json["id"]
    case = client.post(f"/api/people/{pid}/cases", json={"service_area": "children", "open_reason": "referral",
                                                         "team_id": team.id}, headers=h)
    assert case.status_code == 201
    cid = case.json["id"]
    alloc = client.post(f"/api/cases/{cid}/allocation", json={"team_id": team.id, "worker_id": worker.id,
                                                             "version": 1}, headers=h)
    assert alloc.status_code == 200 and len(alloc.json["allocations"]) == 2
    by_ref = client.get(f"/api/cases/by-reference/{case.json['reference']}", headers=h)
    assert by_ref.json["id"] == cid
    attached = client.post(f"/api/cases/{cid}/processes", json={"instance_id": 5, "process_key": "cin"}, headers=h)
    assert attached.json["process_instance_ids"] == [5]
    note = client.post(f"/api/people/{pid}/notes", json={"note_type": "home_visit", "subject": "Visit",
                                                        "body": "Seen", "significant": True, "case_id": cid,
                                                        "complete": True}, headers=h)
    assert note.status_code == 201 and note.json["status"] == "complete"
    edit = client.patch(f"/api/notes/{note.json['id']}", json={"body": "x", "version": note.json["version"]},
                        headers=h)
    assert edit.status_code == 409
    corr = client.post(f"/api/notes/{note.json['id']}/corrections", json={"body": "Seen alone", "reason": "Typo"},
                       headers=h)
    assert corr.status_code == 201
    chron = client.get(f"/api/people/{pid}/chronology?source=note,case", headers=h).json
    assert {e["kind"] for e in chron["items"]} == {"significant_event", "case_opened"}
    csv = client.get(f"/api/people/{pid}/chronology?format=csv&kind=significant_event", headers=h)
    assert csv.mimetype == "text/csv" and len(csv.text.strip().splitlines()) == 2
    pdf = client.get(f"/api/people/{pid}/chronology?format=pdf", headers=h)
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    summary = client.get(f"/api/people/{pid}/summary", headers=h).json
    assert summary["cases"][0]["worker"] == worker.display_name
    assert [e["kind"] for e in summary["chronology"]] == [e["kind"] for e in chron["items"]]
    assert summary["chronology"][0]["occurred_at"].endswith("+00:00")
    listed = client.get("/api/cases?status=open&limit=1", headers=h).json
    assert listed["limit"] == 1 and len(listed["items"]) == 1


def test_pagination_is_capped(client, session):
    _, h = _client(client, session)
    for n in range(3):
        client.post("/api/people", json={"forename": f"Kid{n}", "surname": "Pager", "confirm_not_duplicate": True},
                    headers=h)
    first = client.get("/api/people?surname=pager&limit=2", headers=h).json
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = client.get("/api/people?surname=pager&limit=2&offset=2", headers=h).json
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert client.get("/api/people?surname=pager&limit=5000", headers=h).json["limit"] == 100


def test_openapi_lists_record_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/api/people", "/api/people/{person_id}", "/api/cases/{case_id}/allocation",
                 "/api/notes/{note_id}/corrections", "/api/people/{person_id}/chronology"):
        assert path in paths
