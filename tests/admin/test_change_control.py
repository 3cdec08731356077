"""Change control: draft -> review -> approval by someone else -> publish; conflicts; roll back; retire."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.configuration import changes, drafts, library, review
from casework.configuration.models import APPROVED, DRAFT, IN_REVIEW, PUBLISHED
from casework.errors import Conflict, Forbidden, Invalid
from engine.schema import process_definition
from tests.admin.conftest import publish_via_review
from tests.admin.samples import triage_bpmn, triage_files


def _draft(session, files=None):
    return drafts.create_draft(session, process_key="triage", title="Referral triage",
                               files=files or triage_files(), actor="alice", reason="new process")


def test_full_cycle_records_every_step(session, wf):
    definition = publish_via_review(session, wf)
    assert definition["version"] == 1 and definition["published_by"] == "bob"
    draft = drafts.get_draft(session, 1) if False else drafts.open_draft(session, "triage")
    assert draft is None  # published drafts are closed
    log = changes.history(session, "triage")
    assert [c.action for c in reversed(log)] == ["created", "submitted", "approved", "published"]
    assert {c.actor for c in log} == {"alice", "bob"}
    assert all(c.reason for c in log)
    assert log[0].definition_version == 1


def test_same_person_cannot_approve_or_publish(session, wf):
    draft = _draft(session)
    review.submit(session, draft, actor="alice", reason="ready", engine=wf)
    with pytest.raises(Forbidden, match="different configurator must approve"):
        review.approve(session, draft, actor="alice", reason="self", engine=wf)
    review.approve(session, draft, actor="bob", reason="ok", engine=wf)
    with pytest.raises(Forbidden, match="different configurator must publish"):
        review.publish(session, draft, actor="alice", reason="self", engine=wf)
    assert draft.status == APPROVED


def test_reason_required(session, wf):
    draft = _draft(session)
    with pytest.raises(Invalid) as exc:
        review.submit(session, draft, actor="alice", reason="  ", engine=wf)
    assert "reason" in exc.value.details


def test_submit_refused_with_problems_listing_elements(session, wf):
    draft = _draft(session, triage_files(form=None))
    with pytest.raises(review.ProblemsFound) as exc:
        review.submit(session, draft, actor="alice", reason="ready", engine=wf)
    problems = exc.value.details["problems"]
    assert any(p["element_id"] == "Task_triage" and "names no form" in p["message"] for p in problems)
    assert draft.status == DRAFT


def test_second_save_of_same_draft_gets_conflict(session, wf):
    draft = _draft(session)
    opened_by_alice = opened_by_bob = draft.version
    drafts.save_files(session, draft, changes={"bpmn": {"triage.bpmn": triage_bpmn(task_name="Alice's name")}},
                      actor="alice", expected_version=opened_by_alice)
    with pytest.raises(Conflict, match="Someone else \\(alice\\) saved this draft"):
        drafts.save_files(session, draft, changes={"bpmn": {"triage.bpmn": triage_bpmn(task_name="Bob's")}},
                          actor="bob", expected_version=opened_by_bob)
    assert "Alice's name" in drafts.files_of(draft)["bpmn"]["triage.bpmn"]


def test_content_frozen_in_review_and_send_back(session, wf):
    draft = _draft(session)
    review.submit(session, draft, actor="alice", reason="ready", engine=wf)
    assert draft.status == IN_REVIEW
    with pytest.raises(Conflict, match="cannot be changed now"):
        drafts.save_files(session, draft, changes={"bpmn": {"triage.bpmn": triage_bpmn(task_name="x")}},
                          actor="alice", expected_version=None)
    review.send_back(session, draft, actor="bob", reason="rename the task")
    assert draft.status == DRAFT


def test_hostile_xml_refused_on_save(session, wf):
    draft = _draft(session)
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(Invalid, match="DOCTYPE"):
        drafts.save_files(session, draft, changes={"bpmn": {"triage.bpmn": evil}}, actor="alice",
                          expected_version=draft.version)


def test_invalid_json_schema_refused(session, wf):
    draft = _draft(session)
    with pytest.raises(Invalid, match="not a valid JSON Schema"):
        drafts.save_files(session, draft, changes={"forms": {"triage.schema.json": '{"type": "banana"}'}},
                          actor="alice", expected_version=draft.version)


def test_one_open_draft_per_process(session, wf):
    _draft(session)
    with pytest.raises(Conflict, match="already an open draft"):
        _draft(session)


def test_rollback_republishes_earlier_version_as_new_version(session, wf):
    publish_via_review(session, wf)
    v2 = publish_via_review(session, wf, triage_files(task_name="Triage it quickly"))
    assert v2["version"] == 2
    draft = review.start_rollback(session, session.connection(), process_key="triage", version=1, actor="alice",
                                  reason="v2 confuses staff")
    assert draft.based_on_version == 1
    assert library.diff_draft(session.connection(), draft) == ["No differences"]
    review.submit(session, draft, actor="alice", reason="roll back", engine=wf)
    review.approve(session, draft, actor="bob", reason="agreed", engine=wf)
    v3 = review.publish(session, draft, actor="bob", reason="roll back", engine=wf)
    assert v3["version"] == 3 and draft.status == PUBLISHED
    assert library.diff_versions(session.connection(), "triage", 1, 3) == ["No differences"]
    assert any("Renamed user task Task_triage" in line
               for line in library.diff_versions(session.connection(), "triage", 1, 2))


def test_instances_keep_their_version(session, wf):
    publish_via_review(session, wf)
    conn = session.connection()
    first = wf.start(conn, "triage", "case-1", actor="alice")
    publish_via_review(session, wf, triage_files(task_name="Second"))
    entry = library.process_entry(session, "triage")
    counts = {v.version: v.running for v in entry.versions}
    assert counts == {1: 1, 2: 0}
    assert wf.get_instance(conn, first.instance_id)["definition_version"] == 1


def test_retire_needs_another_published_version(session, wf):
    publish_via_review(session, wf)
    with pytest.raises(Conflict, match="only published version"):
        review.set_version_status(session, process_key="triage", version=1, status="retired", actor="bob",
                                  reason="old")
    publish_via_review(session, wf, triage_files(task_name="Second"))
    review.set_version_status(session, process_key="triage", version=1, status="retired", actor="bob",
                              reason="old")
    status = session.connection().execute(select(process_definition.c.status).where(
        process_definition.c.version == 1)).scalar_one()
    assert status == "retired"
