"""nhs.pds_lookup against a local fake PDS (public sandbox-shaped responses for 9000000009 and 9000000025)."""

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from casework.errors import Conflict
from casework.records import pds
from tests.conftest import sign_in
from tests.factories import create_user
from tests.records.factories import create_person, practitioner

HERE = Path(__file__).parent / "pds_responses"
PATIENTS = {nhs: (HERE / f"patient_{nhs}.json").read_text() for nhs in ("9000000009", "9000000025")}
EMPTY_BUNDLE = json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 0})
NOT_FOUND = json.dumps({"resourceType": "OperationOutcome", "issue": [
    {"severity": "error", "code": "not_found", "details": {"coding": [{"code": "RESOURCE_NOT_FOUND"}]}}]})


class FakePds(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802
        FakePds.requests.append(self.path)
        url = urlparse(self.path)
        if url.path.startswith("/FHIR/R4/Patient/"):
            body = PATIENTS.get(url.path.rsplit("/", 1)[1])
            return self._send(200 if body else 404, body or NOT_FOUND)
        if url.path == "/FHIR/R4/Patient":
            query = parse_qs(url.query)
            if query.get("family") == ["Smith"] and query.get("birthdate") == ["eq2010-10-22"]:
                return self._send(200, (HERE / "search_smith.json").read_text()
                                  .replace("__PATIENT__", PATIENTS["9000000009"]))
            return self._send(200, EMPTY_BUNDLE)
        return self._send(404, NOT_FOUND)

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
def pds_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/FHIR/R4"
    server.shutdown()
    server.server_close()


def test_lookup_by_nhs_number(pds_url):
    candidate = pds.PdsClient(pds_url).get_patient("900 000 0009")
    assert candidate.nhs_number == "9000000009" and candidate.family == "Smith" and candidate.given == ["Jane"]
    assert candidate.birth_date == "2010-10-22" and not candidate.restricted
    assert candidate.postcode == "LS1 6AE" and candidate.gp_ods_code == "Y12345"
    assert pds.PdsClient(pds_url).get_patient("9449304130") is None


def test_restricted_patient_address_is_never_returned(pds_url):
    candidate = pds.PdsClient(pds_url).get_patient("9000000025")
    assert candidate.restricted and candidate.address is None and candidate.postcode is None
    assert "never be stored" not in json.dumps(candidate.as_dict())


def test_search_by_name_and_birthdate(pds_url):
    client = pds.PdsClient(pds_url)
    found = client.search(family="Smith", given="Jane", birthdate=date(2010, 10, 22))
    assert [(c.nhs_number, c.score) for c in found] == [("9000000009", 1)]
    assert client.search(family="Nobody", birthdate="2001-01-01") == []
    assert "given=Jane" in FakePds.requests[-2]


def test_unreachable_pds_is_reported():
    with pytest.raises(pds.PdsUnavailable):
        pds.PdsClient("http://127.0.0.1:9/FHIR/R4", timeout=1).get_patient("9000000009")


def test_link_on_confirmation(session, pds_url):
    actor = practitioner(session)
    person = create_person(session, actor, forename="Janet", surname="Smythe", date_of_birth=date(2010, 10, 22))
    client = pds.PdsClient(pds_url)
    pds.link_person(session, actor, person, client, nhs_number="9000000025", expected_version=1)
    assert person.nhs_number == "9000000025" and person.pds_linked_at is not None
    assert person.addresses == []  # nothing copied from a restricted PDS record
    other = create_person(session, actor, forename="Jane", surname="Smith", date_of_birth=date(2011, 1, 1))
    with pytest.raises(Conflict) as exc:
        pds.link_person(session, actor, other, client, nhs_number="9000000009", expected_version=1)
    assert "date_of_birth" in exc.value.details


def test_connector_and_api(client, session, pds_url, app):
    app.config["SETTINGS"].pds_base_url = pds_url
    with app.app_context():
        result = pds.pds_lookup({"family": "Smith", "birthdate": "2010-10-22"})
    assert result["candidates"][0]["nhs_number"] == "9000000009"
    from casework.engine_host import _connectors

    assert "nhs.pds_lookup" in _connectors
    user = create_user(session)
    h = {"X-CSRF-Token": sign_in(client, user)}
    found = client.get("/api/pds/patients?nhs_number=9000000025", headers=h).json
    assert found["candidates"][0]["restricted"] is True and found["candidates"][0]["address"] is None
    bad = client.get("/api/pds/patients?nhs_number=123", headers=h)
    assert bad.status_code == 422 and "nhs_number" in bad.json["error"]["details"]
    pid = client.post("/api/people", json={"forename": "Jane", "surname": "Smith", "date_of_birth": "2010-10-22",
                                           "confirm_not_duplicate": True}, headers=h).json["id"]
    linked = client.post(f"/api/people/{pid}/pds-link", json={"nhs_number": "9000000009", "version": 1}, headers=h)
    assert linked.status_code == 200 and linked.json["nhs_number"] == "9000000009"
