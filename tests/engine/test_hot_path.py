"""The hot path's statements (engine.hotsql): same transaction, same errors, same order on both databases;
work lists match the partial open-item indexes even in a generic (cached) plan."""

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from engine import schema
from engine.hotsql import Hot
from engine.worklist import _INBOX

_EVENTS = Hot(insert(schema.history_event).inline())
_ITEMS = Hot(insert(schema.work_item).returning(schema.work_item.c.id, sort_by_parameter_order=True))


def _count(conn, table, **where):
    q = select(func.count()).select_from(table)
    for key, value in where.items():
        q = q.where(table.c[key] == value)
    return conn.execute(q).scalar_one()


def test_operations_join_the_callers_savepoint(wf_engine, connection, publish):
    publish("approval.bpmn")
    nested = connection.begin_nested()
    r = wf_engine.start(connection, "approval", "sp-case", {}, "ann")
    assert _count(connection, schema.process_instance, business_key="sp-case") == 1
    assert _count(connection, schema.work_item, instance_id=r.instance_id) == 1
    nested.rollback()
    assert _count(connection, schema.process_instance, business_key="sp-case") == 0
    assert _count(connection, schema.history_event, business_key="sp-case") == 0
    # the outer transaction is still usable
    again = wf_engine.start(connection, "approval", "sp-case", {}, "ann")
    assert _count(connection, schema.work_item, instance_id=again.instance_id) == 1


def test_driver_errors_are_sqlalchemy_errors(connection):
    row = {"instance_id": 1, "business_key": None, "event_type": None, "task_id": None, "task_spec": None,
           "task_title": None, "actor": None, "at": None, "data": None}  # NOT NULL columns left empty
    nested = connection.begin_nested()
    with pytest.raises(IntegrityError):
        _EVENTS.insert_many(connection, [row, row])
    nested.rollback()
    assert connection.execute(text("select 1")).scalar() == 1  # the transaction survived the savepoint


def test_many_rows_keep_their_order(wf_engine, connection, publish):
    publish("approval.bpmn")
    r = wf_engine.start(connection, "approval", "order-case", {}, "ann")
    now = wf_engine.now()
    items = [{"instance_id": r.instance_id, "business_key": "order-case", "task_id": f"t{i}", "task_spec": "x",
              "title": f"item {i}", "status": "open", "priority": 0, "created_at": now} for i in range(3)]
    ids = _ITEMS.insert_many(connection, items, returning=True)
    assert len(set(ids)) == 3
    got = dict(connection.execute(select(schema.work_item.c.id, schema.work_item.c.task_id)
                                  .where(schema.work_item.c.id.in_(ids))).all())
    assert [got[i] for i in ids] == ["t0", "t1", "t2"]

    events = [{"instance_id": r.instance_id, "business_key": "order-case", "event_type": f"e{i}", "task_id": None,
               "task_spec": None, "task_title": None, "actor": "ann", "at": now, "data": None} for i in range(120)]
    _EVENTS.insert_many(connection, events)  # more than one multi-row chunk
    written = connection.execute(select(schema.history_event.c.event_type)
                                 .where(schema.history_event.c.instance_id == r.instance_id,
                                        schema.history_event.c.event_type.like("e%"))
                                 .order_by(schema.history_event.c.id)).scalars().all()
    assert written == [f"e{i}" for i in range(120)]


def _plan(connection, sql: str) -> str:
    return "\n".join(str(r[0]) for r in connection.execute(text(sql)))


def test_inbox_uses_the_open_items_index_in_a_generic_plan(connection):
    if connection.dialect.name == "postgresql":
        compiled = _INBOX.stmt.compile(dialect=connection.dialect)
        sql = str(compiled).replace("%(key)s", "$1").replace("%(limit)s", "$2").replace("%(offset)s", "$3")
        connection.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.exec_driver_sql(f"PREPARE hot_inbox(text, int, int) AS {sql}")
        plan = _plan(connection, "EXPLAIN EXECUTE hot_inbox('ann', 50, 0)")
        # control: with the status as a parameter a generic plan cannot use the partial index
        bound = sql.replace("'open'", "$4")
        connection.exec_driver_sql(f"PREPARE bound_inbox(text, int, int, text) AS {bound}")
        control = _plan(connection, "EXPLAIN EXECUTE bound_inbox('ann', 50, 0, 'open')")
        connection.exec_driver_sql("DEALLOCATE hot_inbox")
        connection.exec_driver_sql("DEALLOCATE bound_inbox")
        assert "ix_work_item_inbox" not in control
    else:
        compiled = _INBOX.stmt.compile(dialect=connection.dialect)
        params = compiled.construct_params({"key": "ann", "limit": 50, "offset": 0})
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                          tuple(params[name] for name in compiled.positiontup))
        plan = "\n".join(str(r[3]) for r in rows)
    assert "ix_work_item_inbox" in plan
