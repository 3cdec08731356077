"""What keeps the workspace pages fast at a million people, with the same access rules: the case view pages
its chronology and notes, reads the current steps of all its processes at once, filters case-linked rows per
row; navigation counts are capped and counted once per request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, insert, select

from casework.db import utcnow
from casework.records import service_case as cases
from casework.records import service_note as notes
from casework.records.models_chronology import ChronologyEntry
from engine.schema import work_item
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person
from tests.workspace.conftest import start_contact
from workspace import queries
from workspace.record_views import CHRONOLOGY_PER_PAGE, NOTES_PER_PAGE


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def chronology_titles(doc: BeautifulSoup) -> list[str]:
    return [row.select("td")[1].get_text(strip=True) for row in doc.select("#chronology ~ div table tbody tr")]


def note_subjects(doc: BeautifulSoup) -> list[str]:
    heading = doc.select_one("#notes")
    out = []
    for h3 in heading.find_all_next("h3"):
        out.append(h3.find(string=True, recursive=False).strip())
    return out


@pytest.fixture
def caseworker(session, connection, wf):  # type: ignore[no-untyped-def]
    team = create_team(session, code="cin-east")
    user = create_user(session, username="pat", teams=[team])
    actor = actor_for(user)
    person = create_person(session, actor, forename="Ava", surname="Okafor")
    manager = actor_for(create_user(session, roles=["team_manager"], manages=[team], teams=[team]))
    case = cases.open_case(session, manager, person, {"service_area": "children", "open_reason": "referral",
                                                      "team_id": team.id, "worker_id": user.id})
    session.flush()
    return {"team": team, "user": user, "actor": actor, "person": person, "case": case, "manager": manager}


def test_case_view_pages_the_chronology_newest_first_keeping_the_kind_filter(client, session, caseworker):
    person, case = caseworker["person"], caseworker["case"]
    start = utcnow() - timedelta(days=400)
    session.add_all([ChronologyEntry(person_id=person.id, case_id=case.id if n % 2 else None, source="manual",
                                     kind="review", title=f"Review {n:03d}", occurred_at=start + timedelta(days=n))
                     for n in range(1, 71)])
    session.flush()
    total = session.scalar(select(func.count()).select_from(ChronologyEntry)
                           .where(ChronologyEntry.person_id == person.id))
    assert total > CHRONOLOGY_PER_PAGE
    sign_in(client, caseworker["user"])

    first = page(client.get(f"/people/{person.id}"))
    titles = chronology_titles(first)
    assert len(titles) == CHRONOLOGY_PER_PAGE
    reviews = [t for t in titles if t.startswith("Review")]
    assert reviews[:2] == ["Review 070", "Review 069"]  # newest first (the case was opened today: above them)
    nav = first.select_one("nav[aria-label='Chronology pages']")
    assert nav.select_one(".govuk-pagination__prev") is None
    assert nav.select_one(".govuk-pagination__next a")["href"] == f"/people/{person.id}?chronology_page=2#chronology"

    second = page(client.get(f"/people/{person.id}?chronology_page=2"))
    rest = chronology_titles(second)
    assert len(rest) == total - CHRONOLOGY_PER_PAGE and not set(rest) & set(titles)
    nav = second.select_one("nav[aria-label='Chronology pages']")
    assert nav.select_one(".govuk-pagination__next") is None
    assert nav.select_one(".govuk-pagination__prev a")["href"] == f"/people/{person.id}#chronology"

    filtered = page(client.get(f"/people/{person.id}?kind=review"))
    assert chronology_titles(filtered)[0] == "Review 070"
    assert filtered.select_one("nav[aria-label='Chronology pages'] .govuk-pagination__next a")["href"] == \
        f"/people/{person.id}?kind=review&chronology_page=2#chronology"
    last = page(client.get(f"/people/{person.id}?kind=review&chronology_page=2"))
    assert chronology_titles(last) == [f"Review {n:03d}" for n in range(20, 0, -1)]
    beyond = page(client.get(f"/people/{person.id}?chronology_page=9"))
    assert chronology_titles(beyond) == [] and "Nothing recorded on this page" in beyond.get_text()
    assert page(client.get(f"/people/{person.id}?chronology_page=x")).select_one(
        "nav[aria-label='Chronology pages'] .govuk-pagination__next") is not None  # a bad page number: page 1


def test_case_view_pages_the_notes(client, session, caseworker):
    person, actor = caseworker["person"], caseworker["actor"]
    start = utcnow() - timedelta(days=30)
    for n in range(1, NOTES_PER_PAGE + 4):
        notes.create_note(session, actor, person, {"note_type": "home_visit", "subject": f"Visit {n:02d}",
                                                   "body": "Seen.", "occurred_at": start + timedelta(days=n)},
                          complete=True)
    session.flush()
    sign_in(client, caseworker["user"])
    first = page(client.get(f"/people/{person.id}"))
    assert note_subjects(first) == [f"Visit {n:02d}" for n in range(NOTES_PER_PAGE + 3, 3, -1)]
    assert first.select_one("nav[aria-label='Case note pages'] .govuk-pagination__next a")["href"] == \
        f"/people/{person.id}?notes_page=2#notes"
    second = page(client.get(f"/people/{person.id}?notes_page=2"))
    assert note_subjects(second) == ["Visit 03", "Visit 02", "Visit 01"]
    assert second.select_one("nav[aria-label='Case note pages'] .govuk-pagination__next") is None


def test_case_view_hides_rows_of_cases_of_other_teams_and_shows_linked_notes(client, session, caseworker):
    """The per-row EXISTS on the case and the own-or-linked notes query keep the access rules."""
    person, actor, user = caseworker["person"], caseworker["actor"], caseworker["user"]
    west = create_team(session, code="west-team")
    west_user = create_user(session, roles=["team_manager"], manages=[west], teams=[west])
    west_manager = actor_for(west_user)
    hidden_case = cases.open_case(session, west_manager, person, {"service_area": "adults",
                                                                  "open_reason": "referral", "team_id": west.id})
    visible_case = caseworker["case"]
    now = utcnow()
    session.add_all([
        ChronologyEntry(person_id=person.id, case_id=hidden_case.id, source="manual", kind="review",
                        title="West review", occurred_at=now - timedelta(days=1)),
        ChronologyEntry(person_id=person.id, case_id=visible_case.id, source="manual", kind="review",
                        title="East review", occurred_at=now - timedelta(days=2)),
        ChronologyEntry(person_id=person.id, case_id=None, source="manual", kind="manual",
                        title="No case", occurred_at=now - timedelta(days=3)),
    ])
    notes.create_note(session, west_manager, person, {"note_type": "home_visit", "subject": "West visit",
                                                      "body": "x", "case_id": hidden_case.id}, complete=True)
    notes.create_note(session, actor, person, {"note_type": "home_visit", "subject": "East visit", "body": "x",
                                               "case_id": visible_case.id}, complete=True)
    sibling = create_person(session, actor, forename="Ben", surname="Okafor")
    notes.create_note(session, actor, sibling, {"note_type": "home_visit", "subject": "Both children seen",
                                                "body": "x", "linked_person_ids": [person.id]}, complete=True)
    notes.create_note(session, actor, sibling, {"note_type": "home_visit", "subject": "Ben alone",
                                                "body": "x"}, complete=True)
    session.flush()
    sign_in(client, user)
    doc = page(client.get(f"/people/{person.id}"))
    titles = chronology_titles(doc)
    assert "East review" in titles and "No case" in titles and "West review" not in titles
    subjects = note_subjects(doc)
    assert "East visit" in subjects and "Both children seen" in subjects
    assert "West visit" not in subjects and "Ben alone" not in subjects
    assert doc.select_one(f"#case-{hidden_case.id}") is None
    sign_in(client, west_user)  # the other team's manager: the other way round
    doc = page(client.get(f"/people/{person.id}"))
    titles, subjects = chronology_titles(doc), note_subjects(doc)
    assert "West review" in titles and "No case" in titles and "East review" not in titles
    assert "West visit" in subjects and "Both children seen" in subjects and "East visit" not in subjects


def test_current_steps_of_several_instances_in_one_call(session, connection, wf):
    first = start_contact(wf, connection, case="CASE-A")
    second = start_contact(wf, connection, case="CASE-B", assignee="pat")
    ids = [wf.work_item(connection, i)["instance_id"] for i in (first, second)]
    steps = queries.current_steps(connection, [*ids, ids[0]])
    assert set(steps) == set(ids)
    assert [w["id"] for w in steps[ids[0]]["work_items"]] == [first]
    assert [(w["id"], w["assignee"]) for w in steps[ids[1]]["work_items"]] == [(second, "pat")]
    assert steps[ids[0]]["timers"] == [] and queries.current_steps(connection, []) == {}


def test_navigation_counts_are_capped_and_counted_once_per_request(client, session, connection, wf, monkeypatch):
    user = create_user(session, username="pat")
    item = start_contact(wf, connection, case="CASE-1", assignee="pat")
    row = {k: v for k, v in connection.execute(select(work_item).where(work_item.c.id == item)).mappings().one()
           .items() if k != "id"}
    connection.execute(insert(work_item), [{**row, "task_id": f"copy-{n}"} for n in range(120)])
    calls = []
    counted = queries.count_my_work

    def count_my_work(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("cap"))
        return counted(*args, **kwargs)

    monkeypatch.setattr(queries, "count_my_work", count_my_work)
    sign_in(client, user)
    doc = page(client.get("/"))
    nav = [a.get_text(strip=True) for a in doc.select(".govuk-service-navigation__link")]
    assert "My work (99+)" in nav
    assert calls == [queries.NAV_COUNT_CAP]  # once, capped
    assert doc.select_one("#result-count").get_text(strip=True) == "121 tasks (page 1 of 5)"  # the list: exact
    assert queries.count_my_work(connection, "pat", cap=5) == 6
    assert queries.count_my_work(connection, "pat") == 121


def test_note_pages_interleave_own_and_linked_notes_newest_first(session, caseworker):
    """Own and linked notes are each read only up to the page wanted; the pages still follow one order."""
    person, actor = caseworker["person"], caseworker["actor"]
    sibling = create_person(session, actor, forename="Ben", surname="Okafor")
    start = utcnow() - timedelta(days=60)
    for n in range(16):  # even days: own notes; odd days: the sibling's notes linked to this person
        about, data = (person, {}) if n % 2 == 0 else (sibling, {"linked_person_ids": [person.id]})
        notes.create_note(session, actor, about, {"note_type": "home_visit", "subject": f"Note {n:02d}",
                                                  "body": "x", "occurred_at": start + timedelta(days=n), **data},
                          complete=True)
    notes.create_note(session, actor, sibling, {"note_type": "home_visit", "subject": "Not about Ava", "body": "x",
                                                "occurred_at": start + timedelta(days=30)}, complete=True)
    session.flush()
    seen, offset, more = [], 0, True
    while more:
        rows, more = notes.notes_for_person(session, actor, person.id, limit=5, offset=offset, with_details=False)
        seen += [n.subject for n in rows]
        offset += 5
    assert seen == [f"Note {n:02d}" for n in range(15, -1, -1)]
    siblings, _more = notes.notes_for_person(session, actor, sibling.id, limit=3)  # the sibling's own notes
    assert [n.subject for n in siblings] == ["Not about Ava", "Note 15", "Note 13"]


def test_case_view_chronology_leaves_the_details_unread(session, caseworker):
    """A step's answers can be long; the case view lists titles, so their detail is not fetched."""
    from sqlalchemy import inspect

    from casework.records.service_chronology import chronology

    person, actor, case = caseworker["person"], caseworker["actor"], caseworker["case"]
    session.add(ChronologyEntry(person_id=person.id, case_id=case.id, source="workflow", kind="workflow",
                                title="Record the contact: answers recorded", detail="Reason: " + "x" * 5000,
                                occurred_at=utcnow()))
    session.flush()
    session.expunge_all()
    titles = chronology(session, actor, person.id, limit=5, with_detail=False)
    assert "detail" in inspect(titles[0]).unloaded
    full = chronology(session, actor, person.id, limit=5)
    assert any(e.detail and e.detail.startswith("Reason: ") for e in full)
