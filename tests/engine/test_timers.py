"""Timers: working-day expressions, boundary (interrupting / non-interrupting), timer start, exactly once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.schema import timer
from tests.engine.conftest import complete, open_items


def _timers(conn, instance_id, status="waiting"):
    return conn.execute(select(timer).where(timer.c.instance_id == instance_id, timer.c.status == status)
                        .order_by(timer.c.id)).mappings().all()


def _utc(value):
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def test_intermediate_timer_on_working_days_then_boundaries(wf_engine, connection, publish, clock, db):
    publish("timers.bpmn")
    r = wf_engine.start(connection, "timers", "c", {}, "ann")
    [t] = _timers(connection, r.instance_id)
    # Mon 2 March 2026 + 5 working days = Mon 9 March, midnight London (= UTC in winter)
    assert _utc(t["due_at"]) == datetime(2026, 3, 9, tzinfo=UTC)
    assert open_items(wf_engine, connection, r.instance_id) == {}
    assert wf_engine.fire_due_timers(db, worker_id="w1") == 0  # not due yet
    clock.value = datetime(2026, 3, 9, 0, 0, 30, tzinfo=UTC)
    assert wf_engine.fire_due_timers(db, worker_id="w1") == 1
    assert wf_engine.fire_due_timers(db, worker_id="w1") == 0  # never twice
    fired = _timers(connection, r.instance_id, "fired")
    assert len(fired) == 1 and fired[0]["claimed_by"] == "w1" and fired[0]["late_ms"] == 30000
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"visit"}
    # boundary timers on the visit: reminder after 2 days (non-interrupting), overdue after 10 (interrupting)
    waiting = {row["task_spec"]: _utc(row["due_at"]) for row in _timers(connection, r.instance_id)}
    assert waiting == {"remind": clock.value + timedelta(days=2), "overdue": clock.value + timedelta(days=10)}
    clock.advance(days=3)
    assert wf_engine.fire_due_timers(db) == 1
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"visit", "chase"}
    complete(wf_engine, connection, r.instance_id, "chase")
    clock.advance(days=8)
    assert wf_engine.fire_due_timers(db) == 1
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"escalate"}  # visit was interrupted
    assert _timers(connection, r.instance_id) == []
    res = complete(wf_engine, connection, r.instance_id, "escalate")
    assert res.status == "completed"
    types = [e["event_type"] for e in wf_engine.history(connection, r.instance_id)]
    assert len([t for t in types if t.startswith("timer_fired")]) == 3 and types.count("timer_fired") == 1


def test_completing_the_task_cancels_its_boundary_timers(wf_engine, connection, publish, clock, db):
    publish("timers.bpmn")
    r = wf_engine.start(connection, "timers", "c", {}, "ann")
    clock.value = datetime(2026, 3, 10, tzinfo=UTC)
    wf_engine.fire_due_timers(db)
    assert len(_timers(connection, r.instance_id)) == 2
    assert complete(wf_engine, connection, r.instance_id, "visit").status == "completed"
    assert _timers(connection, r.instance_id) == []
    assert len(_timers(connection, r.instance_id, "cancelled")) == 2


def test_late_firing_is_recorded(wf_engine, connection, publish, clock, db):
    publish("timer_start.bpmn")
    r = wf_engine.start(connection, "timer_start", "c", {}, "ann")
    assert open_items(wf_engine, connection, r.instance_id) == {}
    [t] = _timers(connection, r.instance_id)
    assert _utc(t["due_at"]) == clock.value + timedelta(hours=1)
    clock.advance(hours=5)  # the worker was down
    assert wf_engine.fire_due_timers(db) == 1
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"review"}
    [event] = [e for e in wf_engine.history(connection, r.instance_id) if e["event_type"].startswith("timer")]
    assert event["event_type"] == "timer_fired_late" and event["data"]["late_ms"] == 4 * 3600 * 1000


def test_suspended_instances_do_not_fire(wf_engine, connection, publish, clock, db):
    publish("timer_start.bpmn")
    r = wf_engine.start(connection, "timer_start", "c", {}, "ann")
    wf_engine.suspend(connection, r.instance_id, "mgr")
    clock.advance(hours=2)
    assert wf_engine.fire_due_timers(db) == 0
    wf_engine.resume(connection, r.instance_id, "mgr")
    assert wf_engine.fire_due_timers(db) == 1


def test_failing_timer_expression_is_an_incident(wf_engine, connection, publish, clock, db):
    publish("timer_bad.bpmn")
    bad = wf_engine.start(connection, "timer_bad", "c1", {}, "ann")
    assert bad.status == "error" and len(bad.incidents) == 1
    [inc] = wf_engine.current_steps(connection, bad.instance_id)["incidents"]
    assert inc["task_spec"] == "wait" and "days" in inc["message"]
    # the operator fixes nothing: retrying fails again with a new incident, the instance stays usable
    again = wf_engine.retry_incident(connection, inc["id"], "ops")
    assert again.status == "error" and len(again.incidents) == 1
    good = wf_engine.start(connection, "timer_bad", "c2", {"days": 3}, "ann")
    [t] = _timers(connection, good.instance_id)
    assert _utc(t["due_at"]) == clock.value + timedelta(days=3)


def test_a_crash_while_firing_leaves_the_timer_to_fire_once_later(wf_engine, connection, publish, clock, db,
                                                                   monkeypatch):
    from engine import execution

    publish("timer_start.bpmn")
    r = wf_engine.start(connection, "timer_start", "c", {}, "ann")
    clock.advance(hours=2)

    def killed(self, **kw):
        raise RuntimeError("worker killed mid-way")

    with monkeypatch.context() as m:
        m.setattr(execution.InstanceRun, "save", killed)
        with pytest.raises(RuntimeError):
            wf_engine.fire_due_timers(db, worker_id="w1")
    assert len(_timers(connection, r.instance_id)) == 1  # rolled back: still waiting
    assert open_items(wf_engine, connection, r.instance_id) == {}
    assert wf_engine.fire_due_timers(db, worker_id="w2") == 1
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"review"}
    fired = [e for e in wf_engine.history(connection, r.instance_id) if e["event_type"].startswith("timer_fired")]
    assert len(fired) == 1 and fired[0]["data"]["worker"] == "w2"


def test_two_timers_of_one_instance_in_one_batch(wf_engine, connection, publish, clock, db):
    """The reminder (non-interrupting) and the overdue timer (interrupting) are both due: they fire in due
    order (SpiffWorkflow fires the second while running the first; it is recorded as fired all the same)."""
    publish("timers.bpmn")
    r = wf_engine.start(connection, "timers", "c", {}, "ann")
    clock.value = datetime(2026, 3, 9, 1, tzinfo=UTC)
    assert wf_engine.fire_due_timers(db) == 1
    clock.advance(days=11)
    assert wf_engine.fire_due_timers(db) in (1, 2)
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"chase", "escalate"}
    assert _timers(connection, r.instance_id) == []
    assert len(_timers(connection, r.instance_id, "fired")) == 3
    fired = [e["task_spec"] for e in wf_engine.history(connection, r.instance_id)
             if e["event_type"].startswith("timer_fired")]
    assert fired == ["wait", "remind", "overdue"]
