"""The access matrix over the records routes: roles x record kinds x routes, through the real API.

Policy under test (docs/access-policy.md): people who are not sealed are visible to anyone with records.view;
sealed people only to the users/teams named on them or a break-glass holder; a case and what hangs off it
(notes and documents on the case, its chronology entries) only to the case's team (members and managers),
service-wide roles (head of service) and break-glass holders (a grant on the case or on the person); an
unallocated case is open to anyone who may see the person. Hidden and missing records are both 404.

Record kinds (each: a person, a case, a note on the case, a note on the person, a document on the case):
  ordinary          ordinary person, unallocated case
  case_team_a       ordinary person, case held by team A
  case_team_b       ordinary person, case held by team B
  sealed_team_a     person sealed to team A, case held by team A
  sealed_user       person sealed to one named user (in team B), case held by team B
  bg_sealed         person sealed to team A, case team A; the actor breaks glass on the person first
  bg_case           ordinary person, case team A; the actor breaks glass on the case first
  missing           ids that do not exist (IDOR guessing)
"""

from __future__ import annotations

import pytest

from casework.auth.access import Actor
from casework.auth.permissions import Permission, permissions_for
from casework.records import service_case as cases
from casework.records import service_document as docs
from casework.records import service_note as notes
from casework.records.service_person import set_restriction
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import create_person

ROLES = ["prac_a", "mgr_a", "prac_b", "named_b", "head", "finance", "configurator", "administrator", "ig"]
KINDS = ["ordinary", "case_team_a", "case_team_b", "sealed_team_a", "sealed_user", "bg_sealed", "bg_case",
         "missing"]
TEAMS = {"prac_a": {"a"}, "mgr_a": {"a"}, "prac_b": {"b"}, "named_b": {"b"}}
CASE_TEAM = {"ordinary": None, "case_team_a": "a", "case_team_b": "b", "sealed_team_a": "a", "sealed_user": "b",
             "bg_sealed": "a", "bg_case": "a", "missing": "a"}

# routes answered by the person rule
PERSON_ROUTES = [
    "/api/people/{p}", "/api/people/{p}/summary", "/api/people/{p}/cases", "/api/people/{p}/notes",
    "/api/people/{p}/chronology", "/api/people/{p}/chronology?format=csv", "/api/people/{p}/documents",
    "/api/people/{p}/relationships", "/api/people/{p}/household", "/api/people/{p}/involvements",
    "/api/people/{p}/changes", "/api/notes/{np}",
]
# routes answered by the case rule
CASE_ROUTES = [
    "/api/cases/{c}", "/api/cases/by-reference/{ref}", "/api/notes/{nc}", "/api/documents/{d}",
    "/api/documents/{d}/content",
]
# lists that must show the case (or what hangs off it) exactly when the case is visible
LIST_CHECKS = ["person_cases", "case_list", "notes_list", "documents_list", "chronology", "summary_cases"]


def _world(session, documents_dir):
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
    head = Actor.from_user(users["head"])
    named = Actor.from_user(users["named_b"])
    mgr = Actor.from_user(users["mgr_a"])  # sealing names its author: team A's manager seals team A's records
    team_ids = {None: None, "a": a.id, "b": b.id}
    records = {}
    for kind in KINDS[:-1]:
        owner = {"sealed_user": named, "sealed_team_a": mgr, "bg_sealed": mgr}.get(kind, head)
        person = create_person(session, owner, surname=f"Matrixperson{kind.replace('_', '')}")
        case = cases.open_case(session, owner, person, {"service_area": "children", "open_reason": "referral",
                                                        "team_id": team_ids[CASE_TEAM[kind]]})
        on_case = notes.create_note(session, owner, person, {"note_type": "home_visit", "subject": "Case visit",
                                                             "body": "x", "case_id": case.id}, complete=True)
        on_person = notes.create_note(session, owner, person, {"note_type": "home_visit", "subject": "Visit",
                                                               "body": "y"}, complete=True)
        doc = docs.add_document(session, owner, documents_dir=documents_dir, max_bytes=10_000, person_id=None,
                                case_id=case.id, note_id=None, title="Report",
                                upload=docs.Upload(filename="report.txt", data=b"matrix report"))
        if kind in ("sealed_team_a", "bg_sealed"):
            set_restriction(session, owner, person, restricted=True, users=[], teams=[a.id])
        if kind == "sealed_user":
            set_restriction(session, owner, person, restricted=True, users=[], teams=[])
        records[kind] = {"p": person.id, "c": case.id, "nc": on_case.id, "np": on_person.id, "d": doc.id,
                         "ref": case.reference, "surname": person.surname}
    top = max(r["p"] for r in records.values()) + 1000
    records["missing"] = {"p": top, "c": top, "nc": top, "np": top + 1, "d": top, "ref": "CH-9999999",
                          "surname": "Nobodyatall"}
    session.flush()
    return users, records


def _person_visible(role: str, kind: str, can_view: bool) -> bool:
    if not can_view or kind == "missing":
        return False
    if kind == "sealed_team_a":
        return role in ("prac_a", "mgr_a")
    if kind == "sealed_user":
        return role == "named_b"
    return True  # ordinary people, and bg_sealed once the actor has broken glass


def _case_visible(role: str, kind: str, can_view: bool) -> bool:
    if not _person_visible(role, kind, can_view):
        return False
    if kind in ("bg_sealed", "bg_case"):
        return True  # a grant on the person, or on the case
    team = CASE_TEAM[kind]
    return team is None or team in TEAMS.get(role, set()) or role == "head"


def _break_glass(client, token, role, records, can_view):
    """The actor breaks glass where the kind says so: 201 when needed, 409 when already visible."""
    headers = {"X-CSRF-Token": token}
    body = {"reason": "matrix: urgent safeguarding enquiry out of hours"}
    person = client.post(f"/api/people/{records['bg_sealed']['p']}/break-glass", json=body, headers=headers)
    case = client.post(f"/api/cases/{records['bg_case']['c']}/break-glass", json=body, headers=headers)
    if not can_view:
        assert (person.status_code, case.status_code) == (403, 403)
        return 2
    assert person.status_code == (409 if role in ("prac_a", "mgr_a") else 201), (role, person.get_json())
    assert case.status_code == (409 if role in ("prac_a", "mgr_a", "head") else 201), (role, case.get_json())
    return 2


def _list_contains(client, check: str, ids: dict) -> bool:
    if check == "person_cases":
        return ids["c"] in {c["id"] for c in client.get(f"/api/people/{ids['p']}/cases").get_json()["items"]}
    if check == "case_list":
        rows = client.get("/api/cases?limit=100").get_json()["items"]
        return ids["c"] in {c["id"] for c in rows}
    if check == "notes_list":
        return ids["nc"] in {n["id"] for n in client.get(f"/api/people/{ids['p']}/notes").get_json()["items"]}
    if check == "documents_list":
        return ids["d"] in {d["id"] for d in client.get(f"/api/people/{ids['p']}/documents").get_json()["items"]}
    if check == "chronology":
        rows = client.get(f"/api/people/{ids['p']}/chronology").get_json()["items"]
        return any(e["case_id"] == ids["c"] for e in rows)
    if check == "summary_cases":
        return ids["c"] in {c["id"] for c in client.get(f"/api/people/{ids['p']}/summary").get_json()["cases"]}
    raise AssertionError(check)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, client, session, role):
    users, records = _world(session, app.config["SETTINGS"].documents_dir)
    user = users[role]
    token = sign_in(client, user)
    perms = permissions_for(user.role_codes)
    can_view, can_edit = Permission.RECORDS_VIEW in perms, Permission.RECORDS_EDIT in perms
    checked = _break_glass(client, token, role, records, can_view)
    for kind in KINDS:
        ids = records[kind]
        person_ok = _person_visible(role, kind, can_view)
        case_ok = _case_visible(role, kind, can_view)
        for route, ok in [(r, person_ok) for r in PERSON_ROUTES] + [(r, case_ok) for r in CASE_ROUTES]:
            url = route.format(**ids)
            status = client.get(url).status_code
            expected = 403 if not can_view else (200 if ok else 404)
            assert status == expected, (role, kind, url, status)
            checked += 1
        search = client.get(f"/api/people?surname={ids['surname']}")
        if not can_view:
            assert search.status_code == 403
        else:
            found = {row["id"] for row in search.get_json()["items"]}
            assert (ids["p"] in found) == person_ok, (role, kind, "search")
        checked += 1
        for check in LIST_CHECKS if person_ok else []:
            assert _list_contains(client, check, ids) == case_ok, (role, kind, check)
            checked += 1
        headers = {"X-CSRF-Token": token}
        writes = [
            ("PATCH", "/api/people/{p}", {"preferred_name": "Matrix", "version": 99}, person_ok, 409),
            ("POST", "/api/notes/{nc}/corrections", {"body": "Corrected", "reason": "Typo"}, case_ok, 201),
            ("POST", "/api/people/{p}/notes", {"note_type": "home_visit", "subject": "s", "body": "b",
                                               "case_id": ids["c"]}, person_ok, 201 if case_ok else 422),
        ]
        for method, route, body, ok, success in writes:
            url = route.format(**ids)
            status = client.open(url, method=method, json=body, headers=headers).status_code
            expected = 403 if not can_edit else (success if ok else 404)
            assert status == expected, (role, kind, method, url, status)
            checked += 1
    assert checked >= len(KINDS) * (len(PERSON_ROUTES) + len(CASE_ROUTES) + 1 + 3)
    print(f"{role}: {checked} combinations")


def test_matrix_size():
    """The figure in docs/access-policy.md: roles x kinds x (routes + search + writes), plus list checks and the
    two break-glass requests per role."""
    per_kind = len(PERSON_ROUTES) + len(CASE_ROUTES) + 1 + 3
    assert len(ROLES) * len(KINDS) * per_kind == 9 * 8 * 21
