"""Start, complete, views, lifecycle and bad input."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, Invalid, NotFound
from engine.schema import history_event, process_instance, work_item
from tests.engine.conftest import bundle, complete, open_items


def test_publish_versions_and_idempotence(wf_engine, connection, publish):
    d1 = publish("loop.bpmn")
    again = publish("loop.bpmn")
    assert again["id"] == d1["id"] and again["version"] == 1
    assert d1["published_by"] == "admin" and len(d1["content_hash"]) == 64
    b = bundle("loop.bpmn")
    b.bpmn["loop.bpmn"] = b.bpmn["loop.bpmn"].replace(b"Review the plan", b"Review the child plan")
    from engine.definitions import load_bundle

    d2 = wf_engine.publish(connection, load_bundle(b.bpmn, b.form_files), "admin")
    assert d2["version"] == 2 and d2["content_hash"] != d1["content_hash"]
    assert [d["version"] for d in wf_engine.definitions(connection, "loop")] == [1, 2]


def test_publish_rejects_problems(wf_engine, connection):
    from engine.definitions import load_bundle

    b = bundle("approval.bpmn")
    broken = load_bundle(b.bpmn, {})  # forms missing
    with pytest.raises(Invalid) as err:
        wf_engine.publish(connection, broken, "admin")
    assert any("assess" == p.element_id for p in err.value.problems)
    assert connection.execute(select(func.count()).select_from(process_instance)).scalar() == 0


def test_start_complete_script_and_exclusive_gateway(wf_engine, connection, publish):
    publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "case-7", {"who": "x"}, "ann")
    items = open_items(wf_engine, connection, r.instance_id)
    assert list(items) == ["review"]
    item = items["review"]
    assert item["title"] == "Review the plan" and item["business_key"] == "case-7" and item["form"] == "generic"
    r2 = wf_engine.complete_task(connection, item["id"], {"done": False}, "ann", expected_version=r.version)
    assert r2.version == r.version + 1 and r2.status == "running"
    assert connection.execute(select(work_item.c.status, work_item.c.completed_by)
                              .where(work_item.c.id == item["id"])).one() == ("closed", "ann")
    r3 = complete(wf_engine, connection, r.instance_id, "review", {"done": True})
    assert r3.status == "completed" and r3.completed
    inst = wf_engine.get_instance(connection, r.instance_id)
    assert inst["status"] == "completed" and inst["data"]["count"] == 2 and inst["ended_at"] is not None
    assert open_items(wf_engine, connection, r.instance_id) == {}
    types = [e["event_type"] for e in wf_engine.history(connection, r.instance_id)]
    assert types[0] == "instance_started" and types[-1] == "instance_completed"
    assert types.count("task_completed") == 2
    completed = [e for e in wf_engine.history(connection, r.instance_id) if e["event_type"] == "task_completed"]
    assert completed[0]["actor"] == "ann" and completed[0]["data"]["diff"]["set"] == {"done": False}
    scripts = [e for e in wf_engine.history(connection, r.instance_id) if e["task_spec"] == "bump"]
    assert len(scripts) == 2 and scripts[-1]["data"]["diff"]["changed"]["count"] == [1, 2]


def test_lanes_roles_teams_due_dates_priority_manual_task(wf_engine, connection, publish, clock, events):
    publish("approval.bpmn")
    r = wf_engine.start(connection, "approval", "case-1", {}, "ann")
    assess = open_items(wf_engine, connection, r.instance_id)["assess"]
    assert assess["lane"] == "social_worker" and assess["role"] == "social_worker"
    assert assess["team"] == "team-social_worker" and assess["form"] == "assessment"
    assert assess["priority"] == 2
    # Monday 2 March 2026 + 10 working days = Monday 16 March (the start day does not count)
    due = assess["due_at"].replace(tzinfo=UTC) if assess["due_at"].tzinfo is None else assess["due_at"]
    assert due.date() == datetime(2026, 3, 16).date()
    complete(wf_engine, connection, r.instance_id, "assess", {"summary": "ok", "urgent": True}, actor="ann")
    approve = open_items(wf_engine, connection, r.instance_id)["approve"]
    assert approve["role"] == "team_manager" and approve["priority"] == 1 and approve["due_at"] is None
    complete(wf_engine, connection, r.instance_id, "approve", {"approved": False}, actor="bob")
    manual = open_items(wf_engine, connection, r.instance_id)["file"]
    assert manual["title"] == "File the paper copy" and manual["form"] is None
    complete(wf_engine, connection, r.instance_id, "file", {}, actor="ann")
    assert list(open_items(wf_engine, connection, r.instance_id)) == ["assess"]
    assert any(e["event_type"] == "task_completed" for e in events)


def test_failing_work_item_property_is_recorded_not_fatal(wf_engine, connection, publish):
    publish("approval.bpmn")
    r = wf_engine.start(connection, "approval", "case-1", {}, "ann")
    complete(wf_engine, connection, r.instance_id, "assess", {"summary": "no urgent field"})
    approve = open_items(wf_engine, connection, r.instance_id)["approve"]
    assert approve["priority"] == 0
    [problem] = [e for e in wf_engine.history(connection, r.instance_id)
                 if e["event_type"] == "work_item_property_failed"]
    assert problem["data"]["property"] == "priority" and "urgent" in problem["data"]["message"]


def test_cancel_suspend_resume(wf_engine, connection, publish):
    publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "case-1", {}, "ann")
    item = open_items(wf_engine, connection, r.instance_id)["review"]
    wf_engine.suspend(connection, r.instance_id, "mgr")
    with pytest.raises(Conflict):
        wf_engine.complete_task(connection, item["id"], {"done": True}, "ann")
    with pytest.raises(Conflict):
        wf_engine.suspend(connection, r.instance_id, "mgr")
    wf_engine.resume(connection, r.instance_id, "mgr")
    assert wf_engine.get_instance(connection, r.instance_id)["status"] == "running"
    res = wf_engine.cancel(connection, r.instance_id, "mgr", reason="duplicate")
    assert res.status == "cancelled"
    row = wf_engine.work_item(connection, item["id"])
    assert row["status"] == "cancelled"
    with pytest.raises(Conflict):
        wf_engine.cancel(connection, r.instance_id, "mgr")
    types = [e["event_type"] for e in wf_engine.history(connection, r.instance_id)]
    assert {"instance_suspended", "instance_resumed", "instance_cancelled"} <= set(types)


def test_bad_input_gets_specific_errors_and_instance_stays_usable(wf_engine, connection, publish):
    publish("loop.bpmn")
    with pytest.raises(NotFound):
        wf_engine.start(connection, "nope", "c", {}, "ann")
    with pytest.raises(NotFound):
        wf_engine.start(connection, "loop", "c", {}, "ann", version=9)
    r = wf_engine.start(connection, "loop", "case-1", {}, "ann")
    item = open_items(wf_engine, connection, r.instance_id)["review"]
    with pytest.raises(NotFound):
        wf_engine.complete_task(connection, 999999, {}, "ann")
    with pytest.raises(Invalid):
        wf_engine.complete_task(connection, item["id"], ["not", "a", "dict"], "ann")
    with pytest.raises(Invalid):
        wf_engine.complete_task(connection, item["id"], {"__class__": 1}, "ann")
    with pytest.raises(Conflict):
        wf_engine.complete_task(connection, item["id"], {"done": False}, "ann", expected_version=r.version - 1)
    with pytest.raises(NotFound):
        wf_engine.get_instance(connection, 424242)
    before = connection.execute(select(func.count()).select_from(history_event)).scalar()
    wf_engine.complete_task(connection, item["id"], {"done": False}, "ann", expected_version=r.version)
    with pytest.raises(Conflict):  # the same work item again: already closed
        wf_engine.complete_task(connection, item["id"], {"done": False}, "ann")
    assert connection.execute(select(func.count()).select_from(history_event)).scalar() > before
    assert "review" in open_items(wf_engine, connection, r.instance_id)


def test_current_steps_and_worklists(wf_engine, connection, publish):
    publish("approval.bpmn")
    ids = [wf_engine.start(connection, "approval", f"case-{i}", {}, "ann").instance_id for i in range(3)]
    steps = wf_engine.current_steps(connection, ids[0])
    assert [w["task_spec"] for w in steps["work_items"]] == ["assess"] and steps["incidents"] == []
    queue = wf_engine.team_queue(connection, "team-social_worker")
    assert {w["instance_id"] for w in queue} >= set(ids)
    wf_engine.claim(connection, queue[0]["id"], "ann")
    inbox = wf_engine.inbox(connection, "ann")
    assert [w["id"] for w in inbox] == [queue[0]["id"]] and inbox[0]["instance_version"] >= 1
    assert queue[0]["id"] not in [w["id"] for w in wf_engine.team_queue(connection, "team-social_worker",
                                                                         unassigned_only=True)]
