"""Two timers due at the same moment in sibling subprocesses both fire in one pass (SpiffWorkflow's
refresh_timers() readies the second without running it; the engine runs it)."""

from datetime import UTC, datetime

from sqlalchemy import select

from engine.schema import timer
from tests.engine.conftest import open_items


def test_both_escalations_appear_when_two_timers_fall_due_together(wf_engine, connection, publish, db, clock):
    publish("twin_timers.bpmn")
    started = wf_engine.start(connection, "twin_timers", "CASE-1", {}, "ann")
    assert set(open_items(wf_engine, connection, started.instance_id)) == {"a_task", "b_task"}
    at = datetime(2026, 3, 10, 0, 1, tzinfo=UTC)
    clock.value = at
    wf_engine.fire_due_timers(db, now=at)
    items = set(open_items(wf_engine, connection, started.instance_id))
    assert {"a_escalate", "b_escalate"} <= items
    statuses = connection.execute(select(timer.c.status).where(timer.c.instance_id == started.instance_id)).scalars()
    assert sorted(statuses) == ["fired", "fired"]
