"""Claim, unclaim, reassign, delegate and the four-eyes rule (enforced by the engine)."""

import json

import pytest

from engine.errors import Conflict, Forbidden
from tests.engine.conftest import complete, open_items


@pytest.fixture
def approval(wf_engine, connection, publish):
    publish("approval.bpmn")
    return wf_engine.start(connection, "approval", "case-1", {"urgent": False}, "ann")


def test_claim_unclaim_reassign_delegate(wf_engine, connection, approval):
    item = open_items(wf_engine, connection, approval.instance_id)["assess"]
    assert wf_engine.claim(connection, item["id"], "ann")["assignee"] == "ann"
    assert wf_engine.claim(connection, item["id"], "ann")["assignee"] == "ann"  # idempotent
    with pytest.raises(Conflict):
        wf_engine.claim(connection, item["id"], "bob")
    with pytest.raises(Forbidden):
        wf_engine.complete_task(connection, item["id"], {}, "bob")  # not yours
    with pytest.raises(Forbidden):
        wf_engine.unclaim(connection, item["id"], "bob")
    wf_engine.unclaim(connection, item["id"], "ann")
    assert wf_engine.work_item(connection, item["id"])["assignee"] is None
    wf_engine.reassign(connection, item["id"], "cat", "manager")
    with pytest.raises(Forbidden):
        wf_engine.delegate(connection, item["id"], "dan", "ann")  # only the assignee delegates
    row = wf_engine.delegate(connection, item["id"], "dan", "cat")
    assert row["assignee"] == "dan" and row["delegated_by"] == "cat"
    assert [w["id"] for w in wf_engine.inbox(connection, "dan")] == [item["id"]]
    complete(wf_engine, connection, approval.instance_id, "assess", {"summary": "x"}, actor="dan")
    types = [e["event_type"] for e in wf_engine.history(connection, approval.instance_id)]
    assert ["task_claimed", "task_unclaimed", "task_reassigned", "task_delegated", "task_completed"] == [
        t for t in types if t.startswith("task_")]


def test_four_eyes_rule(wf_engine, connection, approval):
    complete(wf_engine, connection, approval.instance_id, "assess", {"summary": "x"}, actor="ann")
    approve = open_items(wf_engine, connection, approval.instance_id)["approve"]
    with pytest.raises(Forbidden, match="four-eyes"):
        wf_engine.complete_task(connection, approve["id"], {"approved": True}, "ann")
    with pytest.raises(Forbidden, match="four-eyes"):
        wf_engine.claim(connection, approve["id"], "ann")
    with pytest.raises(Forbidden, match="four-eyes"):
        wf_engine.reassign(connection, approve["id"], "ann", "manager")
    assert wf_engine.work_item(connection, approve["id"])["status"] == "open"  # nothing half-written
    res = wf_engine.complete_task(connection, approve["id"], {"approved": True}, "bob")
    assert res.status == "completed"


def test_four_eyes_applies_to_every_earlier_completion(wf_engine, connection, approval):
    complete(wf_engine, connection, approval.instance_id, "assess", {}, actor="ann")
    complete(wf_engine, connection, approval.instance_id, "approve", {"approved": False}, actor="bob")
    complete(wf_engine, connection, approval.instance_id, "file", {}, actor="cat")
    complete(wf_engine, connection, approval.instance_id, "assess", {}, actor="cat")  # rework by someone else
    approve = open_items(wf_engine, connection, approval.instance_id)["approve"]
    for who in ("ann", "cat"):
        with pytest.raises(Forbidden):
            wf_engine.complete_task(connection, approve["id"], {"approved": True}, who)
    assert wf_engine.complete_task(connection, approve["id"], {"approved": True}, "bob").status == "completed"


def test_candidate_users_are_projected_and_enforced(wf_engine, connection, publish):
    publish("candidates.bpmn")
    r = wf_engine.start(connection, "candidates", "case-c", {"reviewers": ["bob", "ann"], "deputy": "dee"}, "x")
    item = open_items(wf_engine, connection, r.instance_id)["review"]
    assert json.loads(item["candidates"]) == ["ann", "bob"]
    with pytest.raises(Forbidden):
        wf_engine.claim(connection, item["id"], "carol")
    with pytest.raises(Forbidden):
        wf_engine.complete_task(connection, item["id"], {}, "carol")  # unassigned, but carol is no candidate
    with pytest.raises(Forbidden):
        wf_engine.reassign(connection, item["id"], "carol", "manager")
    wf_engine.claim(connection, item["id"], "bob")
    with pytest.raises(Forbidden):
        wf_engine.delegate(connection, item["id"], "carol", "bob")
    assert wf_engine.delegate(connection, item["id"], "ann", "bob")["assignee"] == "ann"
    complete(wf_engine, connection, r.instance_id, "review", actor="ann")

    sign = open_items(wf_engine, connection, r.instance_id)["sign"]
    assert json.loads(sign["candidates"]) == ["dee", "head_of_service"]  # comma-separated text
    wf_engine.complete_task(connection, sign["id"], {}, "dee")

    # a failing expression does not block the step: no candidates (role/team rules apply), history says why
    filing = open_items(wf_engine, connection, r.instance_id)["file"]
    assert filing["candidates"] is None
    failed = [e for e in wf_engine.history(connection, r.instance_id) if e["event_type"] == "work_item_property_failed"]
    assert [e["data"]["property"] for e in failed] == ["candidateUsers"]
    wf_engine.complete_task(connection, filing["id"], {}, "carol")
    assert wf_engine.get_instance(connection, r.instance_id)["status"] == "completed"
