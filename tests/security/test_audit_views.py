"""Views of personal data that were not audited before: relationships, household, involvements, field history,
the NHS PDS lookup and link (API), and the workspace person page (relationships and household). Each request
writes exactly one audit event naming who, which record and which fields (names, never values); a refused or
failed request writes none."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from casework.audit import AuditEvent, verify_chain
from casework.auth.access import Actor
from casework.records import service_person as people
from casework.records import service_relationship as rels
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import create_person

PDS_FILES = Path(__file__).parent.parent / "records" / "pds_responses"
AGENT = {"User-Agent": "audit-views-test/1.0"}


def _seq(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _events(session, before: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)))


def _get_one(client, session, url, **kw):
    before = _seq(session)
    response = client.get(url, headers=AGENT, **kw)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    events = _events(session, before)
    assert len(events) == 1, [(e.action, e.record_type) for e in events]
    event = events[0]
    assert event.user_agent == AGENT["User-Agent"] and event.ip == "127.0.0.1"
    return response, event, json.loads(event.fields)


@pytest.fixture
def family(session):
    """A team manager, a mother and child in a same-household relationship, a GP involvement, a field change."""
    team = create_team(session)
    user = create_user(session, roles=["team_manager"], manages=[team], username="rel.viewer")
    actor = Actor.from_user(user)
    mum = create_person(session, actor, forename="Morwenna", surname="Quillfeather", date_of_birth=date(1990, 1, 2))
    kid = create_person(session, actor, forename="Tamsin", surname="Quillfeather", date_of_birth=date(2016, 5, 6))
    rels.add_relationship(session, actor, mum, {"related_person_id": kid.id, "rel_type": "parent",
                                                "same_household": True, "parental_responsibility": True})
    rels.add_involvement(session, actor, kid, {"role": "gp", "organisation": "Zebedee Lane Surgery"})
    people.update_person(session, actor, kid, {"first_language": "POL"}, kid.version)
    session.flush()
    return user, mum, kid


def _no_values(event: AuditEvent, *values: str) -> None:
    dumped = " ".join(str(v) for v in (event.fields, event.record_id, event.reason))
    for value in values:
        assert value not in dumped


def test_relationship_list_is_audited(client, session, family):
    user, mum, kid = family
    sign_in(client, user)
    response, event, fields = _get_one(client, session, f"/api/people/{kid.id}/relationships")
    assert response.json["items"][0]["person"]["surname"] == "Quillfeather"
    assert (event.action, event.record_type, event.record_id, event.person_id) == (
        "view", "person_relationships", str(kid.id), str(kid.id))
    assert (event.actor_user_id, event.actor_username) == (user.id, "rel.viewer")
    assert {"rel_type", "parental_responsibility", "related.display_name", "related.date_of_birth"} <= set(fields)
    _no_values(event, "Morwenna", "Quillfeather", "1990-01-02")


def test_household_view_is_audited(client, session, family):
    user, mum, kid = family
    sign_in(client, user)
    response, event, fields = _get_one(client, session, f"/api/people/{kid.id}/household")
    assert [m["person"]["id"] for m in response.json["members"]] == [mum.id]
    assert (event.action, event.record_type, event.record_id, event.person_id, event.actor_user_id) == (
        "view", "household", str(kid.id), str(kid.id), user.id)
    assert {"address", "household_reason", "related.display_name"} <= set(fields)
    _no_values(event, "Morwenna", "Quillfeather")


def test_professional_involvements_are_audited(client, session, family):
    user, _mum, kid = family
    sign_in(client, user)
    response, event, fields = _get_one(client, session, f"/api/people/{kid.id}/involvements")
    assert response.json["items"][0]["organisation"] == "Zebedee Lane Surgery"
    assert (event.action, event.record_type, event.record_id, event.person_id, event.actor_user_id) == (
        "view", "involvements", str(kid.id), str(kid.id), user.id)
    assert {"role", "organisation", "professional_name", "contact"} <= set(fields)
    _no_values(event, "Zebedee")


def test_field_history_is_audited_with_the_fields_shown(client, session, family):
    user, _mum, kid = family
    sign_in(client, user)
    response, event, fields = _get_one(client, session, f"/api/people/{kid.id}/changes")
    assert [(c["field"], c["new_value"]) for c in response.json["items"]] == [("first_language", "POL")]
    assert (event.action, event.record_type, event.record_id, event.person_id, event.actor_user_id) == (
        "view", "person_changes", str(kid.id), str(kid.id), user.id)
    assert fields == ["person.first_language"]
    _no_values(event, "POL")


def test_hidden_records_write_no_view_event(client, session, family):
    user, _mum, kid = family
    owner = Actor.from_user(user)
    people.set_restriction(session, owner, kid, restricted=True, users=[user.id], teams=[])
    outsider = create_user(session, roles=["practitioner"], teams=[create_team(session)])
    session.flush()
    sign_in(client, outsider)
    before = _seq(session)
    for route in ("relationships", "household", "involvements", "changes"):
        assert client.get(f"/api/people/{kid.id}/{route}").status_code == 404
    assert _events(session, before) == []


def test_workspace_person_page_audits_relationships_and_household_once(client, session, family):
    user, mum, kid = family
    sign_in(client, user)
    response, event, fields = _get_one(client, session, f"/people/{kid.id}")
    page = response.get_data(as_text=True)
    assert "Morwenna Quillfeather" in page  # the page shows the mother ...
    assert (event.action, event.record_type, event.record_id, event.person_id, event.actor_user_id) == (
        "view", "person_summary", str(kid.id), str(kid.id), user.id)
    assert {"relationships", "household", "chronology", "notes", "alerts"} <= set(fields)  # ... and says so
    _no_values(event, "Morwenna", "Tamsin")
    assert verify_chain(session).ok


# --- NHS PDS: a local fake PDS server (sandbox-shaped responses) on a loopback port --------------------------

PATIENTS = {nhs: (PDS_FILES / f"patient_{nhs}.json").read_text() for nhs in ("9000000009", "9000000025")}
EMPTY = json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 0})
NOT_FOUND = json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not_found"}]})


class _Pds(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        url = urlparse(self.path)
        if url.path.startswith("/FHIR/R4/Patient/"):
            body = PATIENTS.get(url.path.rsplit("/", 1)[1])
            return self._send(200 if body else 404, body or NOT_FOUND)
        query = parse_qs(url.query)
        if query.get("family") == ["Smith"] and query.get("birthdate") == ["eq2010-10-22"]:
            return self._send(200, (PDS_FILES / "search_smith.json").read_text()
                              .replace("__PATIENT__", PATIENTS["9000000009"]))
        return self._send(200, EMPTY)

    def _send(self, status, body):  # type: ignore[no-untyped-def]
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # type: ignore[no-untyped-def]
        pass


@pytest.fixture(scope="module")
def pds_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/FHIR/R4"
    server.shutdown()
    server.server_close()


@pytest.fixture
def pds_user(app, session, pds_server):
    app.config["SETTINGS"].pds_base_url = pds_server
    return create_user(session, roles=["practitioner"], username="pds.looker")


def test_pds_lookup_by_nhs_number_is_audited_against_the_local_record(client, session, pds_user):
    actor = Actor.from_user(pds_user)
    local = create_person(session, actor, forename="Jane", surname="Smith", date_of_birth=date(2010, 10, 22),
                          nhs_number="9000000009")
    session.flush()
    sign_in(client, pds_user)
    response, event, fields = _get_one(client, session, "/api/pds/patients?nhs_number=9000000009")
    assert response.json["candidates"][0]["family"] == "Smith"
    assert (event.action, event.record_type, event.record_id, event.person_id, event.actor_user_id) == (
        "view", "pds_patient", "9000000009", str(local.id), pds_user.id)
    assert "search.nhs_number" in fields and {"result.family", "result.birth_date", "result.address"} <= set(fields)
    _no_values(event, "Smith", "Jane", "2010-10-22", "LS1")


def test_pds_search_by_name_is_audited_with_what_it_searched_by(client, session, pds_user):
    sign_in(client, pds_user)
    response, event, fields = _get_one(client, session, "/api/pds/patients?family=Smith&birthdate=2010-10-22")
    assert [c["nhs_number"] for c in response.json["candidates"]] == ["9000000009"]
    assert (event.record_type, event.record_id, event.person_id) == ("pds_patient", "9000000009", None)
    assert {"search.family", "search.birthdate", "result.given"} <= set(fields)
    _no_values(event, "Smith", "2010-10-22")
    _, empty, fields = _get_one(client, session, "/api/pds/patients?family=Nobody&given=Zed")
    assert (empty.record_type, empty.record_id, empty.person_id) == ("pds_patient", None, None)
    assert fields == ["search.family", "search.given"]  # nothing came back, but the search is on record
    _no_values(empty, "Nobody", "Zed")


def test_pds_refused_or_failed_lookups_write_nothing(app, client, session, pds_user):
    sign_in(client, pds_user)
    before = _seq(session)
    assert client.get("/api/pds/patients?nhs_number=123").status_code == 422
    app.config["SETTINGS"].pds_base_url = "http://127.0.0.1:9/FHIR/R4"
    assert client.get("/api/pds/patients?nhs_number=9000000009").status_code == 503
    viewer = create_user(session, roles=["ig_officer"])  # may not edit records, so may not use PDS
    sign_in(client, viewer)
    assert client.get("/api/pds/patients?nhs_number=9000000009").status_code == 403
    assert _events(session, before) == []


def test_pds_link_is_audited_as_an_update_of_the_person(client, session, pds_user):
    actor = Actor.from_user(pds_user)
    person = create_person(session, actor, forename="Jane", surname="Smith", date_of_birth=None)
    session.flush()
    h = {"X-CSRF-Token": sign_in(client, pds_user), **AGENT}
    before = _seq(session)
    linked = client.post(f"/api/people/{person.id}/pds-link", json={"nhs_number": "9000000009",
                                                                  "version": person.version}, headers=h)
    assert linked.status_code == 200, linked.json
    (event,) = _events(session, before)
    assert (event.action, event.record_type, event.record_id, event.person_id, event.actor_user_id) == (
        "update", "person", str(person.id), str(person.id), pds_user.id)
    assert json.loads(event.fields) == ["date_of_birth", "nhs_number", "pds_linked_at"]
    _no_values(event, "9000000009", "2010-10-22")
