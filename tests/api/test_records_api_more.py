"""Case-record API: names, addresses, contacts, relationships, household, involvements, restriction."""

from tests.conftest import sign_in
from tests.factories import create_user


def _h(client, session, **kw):
    user = create_user(session, **kw)
    return user, {"X-CSRF-Token": sign_in(client, user)}


def _person(client, h, forename, surname="Rivers", **extra):
    body = {"forename": forename, "surname": surname, "date_of_birth": "2012-01-01", "confirm_not_duplicate": True,
            **extra}
    response = client.post("/api/people", json=body, headers=h)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_details_and_history(client, session):
    _, h = _h(client, session)
    pid = _person(client, h, "Ola", address={"line1": "1 Elm Grove", "postcode": "ZZ1 1ZZ",
                                             "start_date": "2020-01-01"})
    moved = client.post(f"/api/people/{pid}/addresses", json={"line1": "9 Meadow Way", "postcode": "ZZ2 2ZZ",
                                                               "start_date": "2024-01-01"}, headers=h)
    assert moved.status_code == 201
    person = client.get(f"/api/people/{pid}", headers=h).json
    assert [a["end_date"] for a in person["addresses"]] == ["2024-01-01", None]
    assert person["current_address"]["line1"] == "9 Meadow Way"
    alias = client.post(f"/api/people/{pid}/names", json={"forename": "Olu", "surname": "Rivers"}, headers=h)
    assert alias.status_code == 201 and alias.json["name_type"] == "alias"
    legal = client.post(f"/api/people/{pid}/names", json={"forename": "X", "surname": "Y", "name_type": "legal"},
                        headers=h)
    assert legal.status_code == 422 and "name_type" in legal.json["error"]["details"]
    phone = client.post(f"/api/people/{pid}/contacts", json={"kind": "mobile", "value": "07700 900456"}, headers=h)
    assert phone.status_code == 201
    assert client.post(f"/api/people/{pid}/contacts/{phone.json['id']}/end", headers=h).status_code == 200
    current = client.get(f"/api/people/{pid}", headers=h)
    assert current.json["contacts"] == [] and current.json["version"] == 5  # every change bumps the version
    renamed = client.patch(f"/api/people/{pid}", json={"surname": "Brooks"},
                           headers={**h, "If-Match": current.headers["ETag"]})
    assert renamed.status_code == 200, renamed.json
    assert [n["surname"] for n in renamed.json["names"]] == ["Rivers", "Rivers", "Brooks"]
    client.patch(f"/api/people/{pid}", json={"first_language": "POL", "version": renamed.json["version"]},
                 headers=h)
    changes = client.get(f"/api/people/{pid}/changes", headers=h).json["items"]
    assert [(c["field"], c["old_value"], c["new_value"]) for c in changes] == [("first_language", None, "POL")]


def test_relationships_household_involvements(client, session):
    _, h = _h(client, session)
    mum = _person(client, h, "Mum", date_of_birth="1990-01-01")
    kid = _person(client, h, "Kid")
    rel = client.post(f"/api/people/{mum}/relationships", json={"related_person_id": kid, "rel_type": "parent",
                                                                  "same_household": True}, headers=h)
    assert rel.status_code == 201
    bad = client.post(f"/api/people/{mum}/relationships", json={"related_person_id": kid, "rel_type": "owner"},
                      headers=h)
    assert bad.status_code == 422 and "rel_type" in bad.json["error"]["details"]
    from_kid = client.get(f"/api/people/{kid}/relationships", headers=h).json["items"]
    assert [(r["person"]["id"], r["other_is"]) for r in from_kid] == [(mum, "parent")]
    house = client.get(f"/api/people/{kid}/household", headers=h).json
    assert [m["person"]["id"] for m in house["members"]] == [mum]
    ended = client.patch(f"/api/relationships/{rel.json['id']}", json={"end_date": "2025-01-01", "version": 1},
                         headers=h)
    assert ended.status_code == 200 and ended.json["end_date"] == "2025-01-01"
    assert client.get(f"/api/people/{kid}/household", headers=h).json["members"] == []
    gp = client.post(f"/api/people/{kid}/involvements", json={"role": "gp", "organisation": "Riverside Surgery"},
                     headers=h)
    assert gp.status_code == 201
    stale = client.patch(f"/api/people/{kid}/involvements/{gp.json['id']}", json={"contact": "x", "version": 9},
                         headers=h)
    assert stale.status_code == 409
    assert client.get(f"/api/people/{kid}/involvements", headers=h).json["items"][0]["organisation"] == \
        "Riverside Surgery"


def test_restriction_endpoint(client, session):
    other = create_user(session)
    owner, h = _h(client, session)
    pid = _person(client, h, "Sealed")
    sealed = client.put(f"/api/people/{pid}/restriction", json={"restricted": True, "restricted_to_users": [other.id],
                                                                "version": 1}, headers=h)
    assert sealed.status_code == 200 and sealed.json["restricted_to_users"] == sorted([owner.id, other.id])
    unknown = client.put(f"/api/people/{pid}/restriction", json={"restricted": True, "restricted_to_users": [999999],
                                                                 "version": sealed.json["version"]}, headers=h)
    assert unknown.status_code == 422 and "restricted_to_users" in unknown.json["error"]["details"]
    outsider_client = client.application.test_client()
    _, h3 = _h(outsider_client, session)
    assert outsider_client.get(f"/api/people/{pid}", headers=h3).status_code == 404
    config_client = client.application.test_client()
    _, h4 = _h(config_client, session, roles=["configurator"])
    assert config_client.get("/api/people?surname=sea", headers=h4).status_code == 403



def test_a_concurrent_write_detected_at_flush_is_409(client, session, monkeypatch):
    from sqlalchemy.orm.exc import StaleDataError

    from casework.records import service_person

    _, h = _h(client, session)
    pid = _person(client, h, "Racer")

    def racing(*_args, **_kw):
        raise StaleDataError("UPDATE statement on table 'person' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(service_person, "update_person", racing)
    response = client.patch(f"/api/people/{pid}", json={"preferred_name": "R", "version": 1}, headers=h)
    assert response.status_code == 409 and response.json["error"]["code"] == "stale_version"
