"""Recurring timer start events (``timeCycle`` R<n>/<start>/<period>): each period opens one new path in the
started instance, exactly once; R/... repeats until cancelled and the stored state does not grow."""

from sqlalchemy import func, select

from engine import schema


def _state_len(conn, instance_id):
    return conn.execute(select(func.length(schema.process_instance.c.state))
                        .where(schema.process_instance.c.id == instance_id)).scalar_one()


def _timers(conn, instance_id, status):
    return conn.execute(select(func.count()).select_from(schema.timer).where(
        schema.timer.c.instance_id == instance_id, schema.timer.c.status == status)).scalar_one()


def test_a_bounded_cycle_fires_once_per_period_and_stops(wf_engine, connection, publish, clock, db):
    publish("recurring_start.bpmn")
    r = wf_engine.start(connection, "recurring", "case-1", {"every": "R3/PT1H"}, "ann")
    assert wf_engine.work_items_for(connection, r.instance_id) == []  # nothing before the first period
    opened = []
    for _ in range(5):
        clock.advance(minutes=61)
        wf_engine.fire_due_timers(db)
        wf_engine.fire_due_timers(db)  # a second worker pass finds nothing more to fire
        items = wf_engine.work_items_for(connection, r.instance_id)
        opened.append(len(items))
        for item in items:
            wf_engine.complete_task(connection, item["id"], {}, "ann")
    assert opened == [1, 1, 1, 0, 0]
    assert _timers(connection, r.instance_id, "fired") == 3
    assert _timers(connection, r.instance_id, "waiting") == 0
    fired = [e for e in wf_engine.history(connection, r.instance_id) if e["event_type"].startswith("timer_fired")]
    assert len(fired) == 3


def test_an_unbounded_cycle_keeps_the_state_flat(wf_engine, connection, publish, clock, db):
    publish("recurring_start.bpmn")
    r = wf_engine.start(connection, "recurring", "case-2", {"every": "R/PT1H"}, "ann")
    sizes = []
    for _ in range(120):
        clock.advance(hours=1)
        assert wf_engine.fire_due_timers(db) == 1
        [item] = wf_engine.work_items_for(connection, r.instance_id)
        wf_engine.complete_task(connection, item["id"], {"seen": True}, "ann")
        sizes.append(_state_len(connection, r.instance_id))
    assert _timers(connection, r.instance_id, "fired") == 120
    assert _timers(connection, r.instance_id, "waiting") == 1  # still recurring
    assert max(sizes[-10:]) <= sizes[0] + 100, sizes[::20]  # not ~1 KB more per firing
    closed = wf_engine.work_items_for(connection, r.instance_id, status="closed")
    assert len(closed) == 120
    wf_engine.cancel(connection, r.instance_id, "ann")
    assert _timers(connection, r.instance_id, "waiting") == 0
