"""Cases with allocation history, notes (draft -> complete -> corrections), chronology, relationships."""

from datetime import UTC, date, datetime, timedelta

import pytest

from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from casework.records import service_case as cases
from casework.records import service_chronology as chrono
from casework.records import service_note as notes
from casework.records import service_relationship as rels
from casework.records.service_summary import person_summary
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person, practitioner


def test_case_open_allocate_close_keeps_history(session):
    team = create_team(session)
    worker = create_user(session, teams=[team])
    other = create_user(session, teams=[team])
    manager = actor_for(create_user(session, roles=["team_manager"], manages=[team], teams=[team]))
    person = create_person(session, manager)
    case = cases.open_case(session, manager, person, {"service_area": "children", "open_reason": "referral",
                                                      "team_id": team.id, "worker_id": worker.id})
    assert case.reference == f"CH-{case.id:07d}" and case.worker_id == worker.id
    with pytest.raises(Conflict):
        cases.open_case(session, manager, person, {"service_area": "children", "open_reason": "referral"})
    cases.allocate(session, manager, case, team_id=team.id, worker_id=other.id, reason="Leave",
                   expected_version=1)
    assert [(a.worker_id, a.ended_at is None) for a in case.allocations] == [(worker.id, False), (other.id, True)]
    with pytest.raises(Conflict):
        cases.allocate(session, manager, case, team_id=team.id, worker_id=worker.id, reason=None,
                       expected_version=1)
    with pytest.raises(Forbidden):
        cases.allocate(session, actor_for(worker), case, team_id=team.id, worker_id=other.id, reason=None,
                       expected_version=case.version)
    with pytest.raises(Invalid):
        cases.close_case(session, manager, case, closed_on=None, close_reason="bored", expected_version=case.version)
    cases.close_case(session, manager, case, closed_on=None, close_reason="needs_met", expected_version=case.version)
    assert case.status == "closed" and all(a.ended_at for a in case.allocations)
    assert cases.case_by_reference(session, manager, case.reference) is case
    link = cases.attach_process(session, case, instance_id=77, process_key="cin_referral")
    assert cases.attach_process(session, case, instance_id=77, process_key="cin_referral") is link
    kinds = [e.kind for e in chrono.chronology(session, manager, person.id)]
    assert kinds == ["case_closed", "case_opened"]


def test_worker_in_other_team_cannot_be_allocated(session):
    team, elsewhere = create_team(session), create_team(session)
    outsider = create_user(session, teams=[elsewhere])
    manager = actor_for(create_user(session, roles=["team_manager"], manages=[team]))
    person = create_person(session, manager)
    with pytest.raises(Invalid) as exc:
        cases.open_case(session, manager, person, {"service_area": "adults", "open_reason": "referral",
                                                   "team_id": team.id, "worker_id": outsider.id})
    assert "worker_id" in exc.value.details


def test_note_lifecycle_and_corrections(session):
    actor = practitioner(session)
    person = create_person(session, actor)
    sibling = create_person(session, actor)
    note = notes.create_note(session, actor, person, {"note_type": "home_visit", "subject": "Visit",
                                                      "body": "Seen at home.", "significant": True,
                                                      "linked_person_ids": [sibling.id]})
    assert note.status == "draft"
    notes.update_draft(session, actor, note, {"body": "Seen at home with sibling."}, expected_version=1)
    other = practitioner(session)
    with pytest.raises(Forbidden):
        notes.update_draft(session, other, note, {"body": "mine now"}, expected_version=2)
    notes.complete_note(session, actor, note, expected_version=2)
    with pytest.raises(Conflict):
        notes.update_draft(session, actor, note, {"body": "changed"}, expected_version=note.version)
    correction = notes.add_correction(session, actor, note, body="The visit was on Tuesday.", reason="Wrong day")
    assert note.body == "Seen at home with sibling." and note.corrections == [correction]
    # significant: on both people's chronologies
    for pid in (person.id, sibling.id):
        assert [e.kind for e in chrono.chronology(session, actor, pid)] == ["significant_event"]
    listed, _ = notes.notes_for_person(session, actor, sibling.id)
    assert [n.id for n in listed] == [note.id]
    with pytest.raises(Invalid):
        notes.create_note(session, actor, person, {"note_type": "gossip", "subject": "x", "body": "y"})


def test_others_drafts_are_not_listed(session):
    author, reader = practitioner(session), practitioner(session)
    person = create_person(session, author)
    notes.create_note(session, author, person, {"note_type": "case_note", "subject": "Draft", "body": "..."})
    assert notes.notes_for_person(session, reader, person.id)[0] == []
    assert len(notes.notes_for_person(session, author, person.id)[0]) == 1


def test_workflow_entries_are_idempotent_and_filterable(session):
    actor = practitioner(session)
    person = create_person(session, actor)
    at = datetime(2025, 3, 1, 10, tzinfo=UTC)
    first = chrono.add_workflow_entry(session, person.id, "referral_received", "Referral received", at, "history:1")
    again = chrono.add_workflow_entry(session, person.id, "referral_received", "Referral received", at, "history:1")
    assert first.id == again.id
    chrono.add_workflow_entry(session, person.id, "unknown_kind", "Something", at + timedelta(days=40), "history:2")
    chrono.add_manual_entry(session, actor, person, kind="manual", title="School exclusion",
                            occurred_at=at + timedelta(days=5))
    with pytest.raises(Invalid):
        chrono.add_manual_entry(session, actor, person, kind="manual", title="x",
                                occurred_at=utcnow() + timedelta(days=1))
    assert [e.kind for e in chrono.chronology(session, actor, person.id, sources=["workflow"])] == \
        ["workflow", "referral_received"]
    march = chrono.chronology(session, actor, person.id, date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))
    assert [e.title for e in march] == ["School exclusion", "Referral received"]
    csv_text = chrono.export_csv(march)
    assert csv_text.splitlines()[0].startswith("occurred_at,kind") and "School exclusion" in csv_text
    assert chrono.export_pdf(person, march).startswith(b"%PDF")


def test_csv_export_neutralises_formulas(session):
    actor = practitioner(session)
    person = create_person(session, actor)
    entry = chrono.add_manual_entry(session, actor, person, kind="manual", title="=HYPERLINK(\"http://x\")",
                                    occurred_at=utcnow())
    assert "'=HYPERLINK" in chrono.export_csv([entry])


def test_relationships_household_and_involvements(session):
    actor = practitioner(session)
    mum = create_person(session, actor, forename="Mum")
    child = create_person(session, actor, forename="Child")
    neighbour = create_person(session, actor, forename="Neighbour")
    rels.add_relationship(session, actor, mum, {"related_person_id": child.id, "rel_type": "parent",
                                                "same_household": True, "parental_responsibility": True})
    with pytest.raises(Conflict):
        rels.add_relationship(session, actor, child, {"related_person_id": mum.id, "rel_type": "child"})
    with pytest.raises(Invalid):
        rels.add_relationship(session, actor, mum, {"related_person_id": mum.id, "rel_type": "parent"})
    from_child = rels.relationships_of(session, actor, child)
    assert [(r["person"].id, r["other_is"]) for r in from_child] == [(mum.id, "parent")]
    assert [(r["person"].id, r["other_is"]) for r in rels.relationships_of(session, actor, mum)] == \
        [(child.id, "child")]
    house = rels.household(session, actor, child)
    assert [m["person"].id for m in house] == [mum.id] and neighbour.id not in [m["person"].id for m in house]
    inv = rels.add_involvement(session, actor, child, {"role": "gp", "organisation": "Eastbridge Surgery"})
    rels.update_involvement(session, actor, child, inv.id, {"end_date": date.today()}, expected_version=1)
    with pytest.raises(Conflict):
        rels.update_involvement(session, actor, child, inv.id, {"contact": "x"}, expected_version=1)


def test_summary_and_hidden_person(session):
    actor = practitioner(session)
    person = create_person(session, actor, restricted=True)
    outsider = practitioner(session)
    with pytest.raises(NotFound):
        person_summary(session, outsider, person.id)
    with pytest.raises(NotFound):
        chrono.chronology(session, outsider, person.id)
    summary = person_summary(session, actor, person.id)
    assert summary["person"]["id"] == person.id and summary["chronology"] == []


def test_significant_workflow_events_go_on_the_chronology(session):
    from casework.records.chronology_workflow import workflow_event_entry

    actor = practitioner(session)
    person = create_person(session, actor)
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    started = {"instance_id": 7, "event_type": "instance_started", "at": at, "task_id": None,
               "data": '{"process_key": "child_protection", "version": 1}'}
    strategy = {"instance_id": 7, "event_type": "task_completed", "task_spec": "strategy_discussion",
                "task_id": "abc", "task_title": "Record the strategy discussion", "at": at + timedelta(days=1)}
    routine = {"instance_id": 7, "event_type": "task_completed", "task_spec": "review_overdue_icpc",
               "task_id": "def", "at": at + timedelta(days=2)}
    assert workflow_event_entry(session, person.id, started).kind == "strategy_discussion"
    entry = workflow_event_entry(session, person.id, strategy)
    assert entry.kind == "strategy_discussion" and entry.title == "Strategy discussion held"
    assert workflow_event_entry(session, person.id, routine) is None
    assert workflow_event_entry(session, person.id, strategy).id == entry.id  # idempotent
    assert len(chrono.chronology(session, actor, person.id)) == 2


def test_engine_listener_uses_the_case_reference_business_key(app, session):
    from casework.engine_host import _event_listeners
    from casework.records.chronology_workflow import on_engine_event
    from casework.web.context import db_session

    assert on_engine_event in _event_listeners
    with app.test_request_context():
        s = db_session()
        actor = practitioner(s)
        person = create_person(s, actor)
        case = cases.open_case(s, actor, person, {"service_area": "children", "open_reason": "referral"})
        event = {"instance_id": 9, "event_type": "task_completed", "task_spec": "record_icpc", "task_id": "x",
                 "business_key": case.reference, "at": datetime(2026, 11, 20, tzinfo=UTC)}
        on_engine_event(event)
        on_engine_event({**event, "business_key": "not-a-case"})
        kinds = [e.kind for e in chrono.chronology(s, actor, person.id, sources=["workflow"])]
        assert kinds == ["conference"]
