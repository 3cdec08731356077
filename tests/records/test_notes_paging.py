"""Note pages stay full when some linked notes are about a sealed (restricted) person: the access rule is asked
in the query, not after the page limit, so a reader who may not see that person still gets 10 notes a page
while more visible notes exist, and never the sealed person's notes."""

from __future__ import annotations

from datetime import timedelta

from casework.auth import policy
from casework.db import utcnow
from casework.records import service_note as notes
from casework.records.access import get_visible_person
from tests.records.factories import create_person, practitioner

PAGE = 10


def _world(session):  # type: ignore[no-untyped-def]
    """15 notes linked to Ava, newest first: the 3 newest (and so on page 1) are about a sealed person only the
    author may see; the 12 others are about her visible brother."""
    author, reader = practitioner(session), practitioner(session)
    ava = create_person(session, author, forename="Ava", surname="Pagingtest")
    brother = create_person(session, author, forename="Ben", surname="Pagingtest")
    sealed = create_person(session, author, forename="Sam", surname="Sealedpaging", restricted=True)
    start = utcnow() - timedelta(days=40)
    for n in range(15):
        about = sealed if n >= 12 else brother
        notes.create_note(session, author, about, {"note_type": "home_visit", "subject": f"Note {n:02d}",
                                                   "body": "Seen at home.", "occurred_at": start + timedelta(days=n),
                                                   "linked_person_ids": [ava.id]}, complete=True)
    session.flush()
    return {"author": author, "reader": reader, "ava": ava, "sealed": sealed}


def _pages(session, actor, person_id):  # type: ignore[no-untyped-def]
    pages, offset, more = [], 0, True
    while more:
        rows, more = notes.notes_for_person(session, actor, person_id, limit=PAGE, offset=offset)
        pages.append([n.subject for n in rows])
        offset += PAGE
    return pages


def test_a_page_is_full_while_more_visible_notes_exist_and_sealed_ones_never_show(session):
    world = _world(session)
    reader, ava = world["reader"], world["ava"]
    first, more = notes.notes_for_person(session, reader, ava.id, limit=PAGE)
    assert [n.subject for n in first] == [f"Note {n:02d}" for n in range(11, 1, -1)]
    assert more is True
    second, more = notes.notes_for_person(session, reader, ava.id, limit=PAGE, offset=PAGE)
    assert [n.subject for n in second] == ["Note 01", "Note 00"]
    assert more is False
    assert all(n.person_id != world["sealed"].id for n in first + second)


def test_the_author_named_on_the_sealed_record_still_sees_every_note(session):
    world = _world(session)
    assert _pages(session, world["author"], world["ava"].id) == [
        [f"Note {n:02d}" for n in range(14, 4, -1)], [f"Note {n:02d}" for n in range(4, -1, -1)]]


def test_a_break_glass_grant_on_the_sealed_person_shows_their_notes_again(session):
    """The rule is the policy's own (sealed rule widened by live break-glass grants), not a copy of part of it."""
    world = _world(session)
    reader, ava, sealed = world["reader"], world["ava"], world["sealed"]
    policy.break_glass_person(session, reader, sealed.id, "Police called about an immediate risk to Ava")
    session.flush()
    assert get_visible_person(session, reader, sealed.id).id == sealed.id
    assert _pages(session, reader, ava.id) == [
        [f"Note {n:02d}" for n in range(14, 4, -1)], [f"Note {n:02d}" for n in range(4, -1, -1)]]


def test_filters_and_paging_agree_with_the_sealed_rule_on_own_notes_too(session):
    """Own notes of the person are counted with the linked ones: a mixed page is still full and in one order."""
    world = _world(session)
    author, reader, ava = world["author"], world["reader"], world["ava"]
    newest = utcnow() - timedelta(hours=1)
    notes.create_note(session, author, ava, {"note_type": "home_visit", "subject": "Own note", "body": "x",
                                             "occurred_at": newest, "significant": True}, complete=True)
    session.flush()
    assert _pages(session, reader, ava.id) == [
        ["Own note"] + [f"Note {n:02d}" for n in range(11, 2, -1)], ["Note 02", "Note 01", "Note 00"]]
    significant, more = notes.notes_for_person(session, reader, ava.id, significant=True, limit=PAGE)
    assert [n.subject for n in significant] == ["Own note"] and more is False
