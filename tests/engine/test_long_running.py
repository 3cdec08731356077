"""Long-lived cases: no deep-loop stall, flat state size and flat step cost."""

import time

from sqlalchemy import select

from engine.schema import process_instance
from tests.engine.conftest import complete, open_items


def _state_len(conn, instance_id):
    return len(conn.execute(select(process_instance.c.state).where(process_instance.c.id == instance_id)).scalar())


def test_loop_1000_times_no_stall_flat_cost(wf_engine, connection, publish):
    publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "case", {}, "ann")
    timings, sizes = [], []
    for i in range(1000):
        items = wf_engine.work_items_for(connection, r.instance_id)
        assert len(items) == 1 and items[0]["task_spec"] == "review", f"stalled at pass {i}"
        t0 = time.thread_time()
        res = wf_engine.complete_task(connection, items[0]["id"], {"done": i == 999}, "ann")
        timings.append(time.thread_time() - t0)
        if i < 999:
            assert res.status == "running", f"reported {res.status} at pass {i}"
        if i in (10, 999):
            sizes.append(_state_len(connection, r.instance_id))
    assert res.status == "completed"
    assert wf_engine.get_instance(connection, r.instance_id)["data"]["count"] == 1000
    assert sizes[1] <= sizes[0] * 1.1 + 200, sizes  # the stored state does not grow with the loop
    # step cost in CPU time of this thread (robust against a busy machine), lower quartiles
    early = sorted(timings[10:210])[50]
    late = sorted(timings[-200:])[50]
    assert late < early * 1.5 + 0.003, (early, late)
    assert len([e for e in wf_engine.history(connection, r.instance_id) if e["event_type"] == "task_completed"]
               ) == 1000


def test_state_stays_small_in_a_loop(wf_engine, connection, publish):
    publish("parallel_loop.bpmn")
    r = wf_engine.start(connection, "parallel_loop", "c", {}, "ann")
    sizes = []
    for p in range(150):
        complete(wf_engine, connection, r.instance_id, "visit", {})
        complete(wf_engine, connection, r.instance_id, "report", {"finished": False})
        if p in (5, 149):
            sizes.append(_state_len(connection, r.instance_id))
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"visit", "report"}
    assert sizes[1] < sizes[0] * 1.2 + 500, sizes
