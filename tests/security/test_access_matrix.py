"""The access matrix: roles x record kinds x routes, through the real API.

Record kinds: an ordinary person (case held by team A), a person sealed to team A, a person sealed to one named
user (in team B), and ids that do not exist (IDOR guessing). Expected: without records.view -> 403 everywhere;
with it -> 200 when the record is visible, 404 when sealed from you or missing (indistinguishable); writes need
records.edit (403) and visibility (404); search shows exactly the visible people.
"""

from __future__ import annotations

import pytest

from casework.auth.access import Actor
from casework.auth.permissions import Permission, permissions_for
from casework.records import service_case as cases
from casework.records import service_note as notes
from casework.records.service_person import set_restriction
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import create_person

ROLES = ["prac_a", "mgr_a", "prac_b", "named_b", "head", "finance", "configurator", "administrator", "ig"]
KINDS = ["open", "sealed_team_a", "sealed_named_user", "missing"]
READ_ROUTES = [
    "/api/people/{p}", "/api/people/{p}/summary", "/api/people/{p}/cases", "/api/people/{p}/notes",
    "/api/people/{p}/chronology", "/api/people/{p}/documents", "/api/people/{p}/relationships",
    "/api/people/{p}/household", "/api/people/{p}/involvements", "/api/cases/{c}", "/api/notes/{n}",
]
WRITE_ROUTES = [
    ("PATCH", "/api/people/{p}", {"preferred_name": "Matrix", "version": 1}),
    ("POST", "/api/people/{p}/notes", {"note_type": "home_visit", "subject": "s", "body": "b"}),
    ("POST", "/api/people/{p}/break-glass", {"reason": "matrix test: urgent safeguarding query"}),
]


def _world(session):
    a, b = create_team(session), create_team(session)
    users = {
        "prac_a": create_user(session, roles=["practitioner"], teams=[a]),
        "mgr_a": create_user(session, roles=["team_manager"], manages=[a]),
        "prac_b": create_user(session, roles=["practitioner"], teams=[b]),
        "named_b": create_user(session, roles=["practitioner"], teams=[b]),
        "head": create_user(session, roles=["head_of_service"]),
        "finance": create_user(session, roles=["finance_officer"]),
        "configurator": create_user(session, roles=["configurator"]),
        "administrator": create_user(session, roles=["administrator"]),
        "ig": create_user(session, roles=["ig_officer"]),
    }
    mgr = Actor.from_user(users["mgr_a"])
    named = Actor.from_user(users["named_b"])
    records = {}
    for kind, owner in (("open", mgr), ("sealed_team_a", mgr), ("sealed_named_user", named)):
        person = create_person(session, owner, surname=f"Matrixperson{kind.replace('_', '')}")
        case = cases.open_case(session, mgr if kind != "sealed_named_user" else owner, person,
                               {"service_area": "children", "open_reason": "referral", "team_id": a.id})
        note = notes.create_note(session, owner, person, {"note_type": "home_visit", "subject": "Visit", "body": "x"},
                                 complete=True)  # a draft is private to its author
        if kind == "sealed_team_a":
            set_restriction(session, owner, person, restricted=True, users=[], teams=[a.id])
        if kind == "sealed_named_user":
            set_restriction(session, owner, person, restricted=True, users=[], teams=[])
        records[kind] = {"p": person.id, "c": case.id, "n": note.id, "surname": person.surname}
    top = max(r["p"] for r in records.values()) + 1000
    records["missing"] = {"p": top, "c": top, "n": top, "surname": "Nobodyatall"}
    session.flush()
    return users, records


def _visible(role: str, kind: str) -> bool:
    return {"open": True, "sealed_team_a": role in ("prac_a", "mgr_a"),
            "sealed_named_user": role == "named_b", "missing": False}[kind]


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, session, role):
    users, records = _world(session)
    user = users[role]
    token = sign_in(client, user)
    perms = permissions_for(user.role_codes)
    checked = 0
    for kind in KINDS:
        ids = records[kind]
        visible = _visible(role, kind) and Permission.RECORDS_VIEW in perms
        for route in READ_ROUTES:
            url = route.format(**ids)
            status = client.get(url).status_code
            expected = 403 if Permission.RECORDS_VIEW not in perms else (200 if visible else 404)
            assert status == expected, (role, kind, url, status)
            checked += 1
        search = client.get(f"/api/people?surname={ids['surname']}")
        if Permission.RECORDS_VIEW not in perms:
            assert search.status_code == 403
        else:
            found = {row["id"] for row in search.get_json()["items"]}
            assert (ids["p"] in found) == visible, (role, kind, "search")
        checked += 1
        for method, route, body in WRITE_ROUTES:
            url = route.format(**ids)
            status = client.open(url, method=method, json=body, headers={"X-CSRF-Token": token}).status_code
            needed = Permission.RECORDS_VIEW if url.endswith("break-glass") else Permission.RECORDS_EDIT
            if needed not in perms:
                assert status == 403, (role, kind, method, url, status)
            elif url.endswith("break-glass"):
                # break-glass: only for an existing record you cannot already see
                expected = 404 if kind == "missing" else (409 if visible else 201)
                assert status == expected, (role, kind, method, url, status)
            elif not visible:
                assert status == 404, (role, kind, method, url, status)
            else:
                assert status not in (401, 403, 404, 500), (role, kind, method, url, status)
            checked += 1
    assert checked == len(KINDS) * (len(READ_ROUTES) + 1 + len(WRITE_ROUTES))
