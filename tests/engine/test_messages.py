"""Messages: intermediate, boundary, event-based gateway, message start, unmatched policy."""

import pytest
from sqlalchemy import select

from engine.errors import NotFound
from engine.runtime import WorkflowEngine
from engine.schema import message_subscription, pending_message
from tests.engine.conftest import bundle, complete, open_items


def _subs(conn, instance_id):
    return sorted((r.message_name, r.correlation_key) for r in conn.execute(
        select(message_subscription).where(message_subscription.c.instance_id == instance_id)))


def test_intermediate_message_and_event_based_gateway(wf_engine, connection, publish):
    publish("messages.bpmn")
    r = wf_engine.start(connection, "messages", "case-9", {}, "ann")
    other = wf_engine.start(connection, "messages", "case-10", {}, "ann")
    assert _subs(connection, r.instance_id) == [("lab_result", "case-9")]
    results = wf_engine.deliver_message(connection, "lab_result", "case-9", {"result": "negative"})
    assert [x.instance_id for x in results] == [r.instance_id]  # only the correlated instance
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"review"}
    assert open_items(wf_engine, connection, other.instance_id) == {}
    assert wf_engine.get_instance(connection, r.instance_id)["data"]["result"] == "negative"
    assert ("consent_withdrawn", "case-9") in _subs(connection, r.instance_id)  # boundary message waits
    complete(wf_engine, connection, r.instance_id, "review")
    # event-based gateway: the GP reply and a 14-day timer race; the message wins
    assert _subs(connection, r.instance_id) == [("gp_reply", "case-9")]
    steps = wf_engine.current_steps(connection, r.instance_id)
    assert [t["task_spec"] for t in steps["timers"]] == ["race"]  # the gateway waits for both
    [res] = wf_engine.deliver_message(connection, "gp_reply", "case-9", {})
    assert res.status == "completed"
    assert wf_engine.current_steps(connection, r.instance_id)["timers"] == []
    assert _subs(connection, r.instance_id) == []


def test_event_based_gateway_timer_wins(wf_engine, connection, publish, clock, db):
    publish("messages.bpmn")
    r = wf_engine.start(connection, "messages", "c1", {}, "ann")
    wf_engine.deliver_message(connection, "lab_result", "c1", {})
    complete(wf_engine, connection, r.instance_id, "review")
    clock.advance(days=15)
    assert wf_engine.fire_due_timers(db) == 1
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"chase"}
    assert _subs(connection, r.instance_id) == []


def test_boundary_message_interrupts(wf_engine, connection, publish):
    publish("messages.bpmn")
    r = wf_engine.start(connection, "messages", "c2", {}, "ann")
    wf_engine.deliver_message(connection, "lab_result", "c2", {})
    wf_engine.deliver_message(connection, "consent_withdrawn", "c2", {"reason": "moved"})
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"closed"}
    assert complete(wf_engine, connection, r.instance_id, "closed").status == "completed"


def test_message_start_event(wf_engine, connection, publish):
    publish("message_start.bpmn")
    [res] = wf_engine.deliver_message(connection, "new_referral", "ref-1", {"source": "school"})
    inst = wf_engine.get_instance(connection, res.instance_id)
    assert inst["business_key"] == "ref-1" and inst["data"]["source"] == "school"
    assert set(open_items(wf_engine, connection, res.instance_id)) == {"triage"}


def test_unmatched_message_is_kept_then_delivered(wf_engine, connection, publish):
    publish("messages.bpmn")
    assert wf_engine.deliver_message(connection, "lab_result", "case-early", {"result": "early"}) == []
    [pending] = connection.execute(select(pending_message)).mappings().all()
    assert pending["status"] == "pending"
    r = wf_engine.start(connection, "messages", "case-early", {}, "ann")
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"review"}
    assert wf_engine.get_instance(connection, r.instance_id)["data"]["result"] == "early"
    row = connection.execute(select(pending_message)).mappings().one()
    assert row["status"] == "delivered" and row["delivered_to"] == r.instance_id


def test_unmatched_message_rejected_by_policy(connection, clock):
    eng = WorkflowEngine(clock=clock, unmatched_messages="reject")
    eng.publish(connection, bundle("messages.bpmn"), "admin")
    with pytest.raises(NotFound):
        eng.deliver_message(connection, "lab_result", "nobody", {})
    assert connection.execute(select(pending_message)).first() is None


def test_message_for_a_suspended_instance_waits_for_resume(wf_engine, connection, publish):
    publish("messages.bpmn")
    r = wf_engine.start(connection, "messages", "c5", {}, "ann")
    wf_engine.suspend(connection, r.instance_id, "mgr")
    assert wf_engine.deliver_message(connection, "lab_result", "c5", {"result": "late"}) == []
    assert open_items(wf_engine, connection, r.instance_id) == {}
    wf_engine.resume(connection, r.instance_id, "mgr")
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"review"}
    assert wf_engine.get_instance(connection, r.instance_id)["data"]["result"] == "late"
