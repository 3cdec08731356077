"""Optimistic locking: a concurrent second completion of the same task gets Conflict, never applied twice."""

import threading

import pytest
from sqlalchemy import delete, select

from engine import schema
from engine.errors import Conflict
from tests.engine.conftest import bundle


def test_stale_version_is_rejected(wf_engine, connection, publish):
    publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "c", {}, "ann")
    [item] = wf_engine.work_items_for(connection, r.instance_id)
    wf_engine.complete_task(connection, item["id"], {"done": False}, "ann", expected_version=r.version)
    [item2] = wf_engine.work_items_for(connection, r.instance_id)
    with pytest.raises(Conflict):
        wf_engine.complete_task(connection, item2["id"], {"done": False}, "bob", expected_version=r.version)


def _cleanup(db_engine, instance_ids, definition_ids):
    with db_engine.begin() as conn:
        for table in (schema.history_event, schema.work_item, schema.timer, schema.incident,
                      schema.message_subscription):
            conn.execute(delete(table).where(table.c.instance_id.in_(instance_ids)))
        conn.execute(delete(schema.process_instance).where(schema.process_instance.c.id.in_(instance_ids)))
        conn.execute(delete(schema.message_subscription).where(
            schema.message_subscription.c.definition_id.in_(definition_ids)))
        conn.execute(delete(schema.process_definition).where(schema.process_definition.c.id.in_(definition_ids)))


def test_two_connections_complete_the_same_task(wf_engine, db_engine):
    from engine.schema import spec_cache

    with db_engine.begin() as conn:
        d = wf_engine.publish(conn, bundle("loop.bpmn"), "admin")
        r = wf_engine.start(conn, "loop", "race", {}, "ann")
        [item] = wf_engine.work_items_for(conn, r.instance_id)
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(user):
        try:
            with db_engine.begin() as conn:
                barrier.wait()
                wf_engine.complete_task(conn, item["id"], {"done": False}, user, expected_version=r.version)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    try:
        threads = [threading.Thread(target=worker, args=(u,)) for u in ("ann", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict", "ok"]
        with db_engine.connect() as conn:
            completed = conn.execute(select(schema.history_event.c.actor).where(
                schema.history_event.c.instance_id == r.instance_id,
                schema.history_event.c.event_type == "task_completed")).all()
            assert len(completed) == 1
            assert conn.execute(select(schema.process_instance.c.version).where(
                schema.process_instance.c.id == r.instance_id)).scalar() == r.version + 1
            assert len(wf_engine.work_items_for(conn, r.instance_id)) == 1  # the next review, once
    finally:
        _cleanup(db_engine, [r.instance_id], [d["id"]])
        with db_engine.begin() as conn:
            conn.execute(delete(spec_cache).where(spec_cache.c.content_hash == d["content_hash"]))


def test_two_workers_fire_each_timer_exactly_once(wf_engine, db_engine, clock):
    from datetime import timedelta

    with db_engine.begin() as conn:
        d = wf_engine.publish(conn, bundle("timer_start.bpmn"), "admin")
        ids = [wf_engine.start(conn, "timer_start", f"t{i}", {}, "ann").instance_id for i in range(40)]
    clock.advance(hours=2)
    counts = []

    def worker(name):
        counts.append(wf_engine.fire_due_timers(db_engine, worker_id=name))

    try:
        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(counts) == 40
        with db_engine.connect() as conn:
            rows = conn.execute(select(schema.timer.c.status).where(schema.timer.c.instance_id.in_(ids))).all()
            assert [r.status for r in rows] == ["fired"] * 40
            fired_events = conn.execute(select(schema.history_event.c.instance_id).where(
                schema.history_event.c.instance_id.in_(ids),
                schema.history_event.c.event_type.like("timer_fired%"))).all()
            assert sorted(r.instance_id for r in fired_events) == sorted(ids)
        assert timedelta(hours=2)
    finally:
        _cleanup(db_engine, ids, [d["id"]])
