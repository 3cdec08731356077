from tests.engine.conftest import complete, open_items


def test_loop_runs(wf_engine, connection, publish):
    d = publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "case-1", {}, "ann")
    assert r.status == "running"
    for i in range(3):
        r = complete(wf_engine, connection, r.instance_id, "review", {"done": i == 2})
    assert r.status == "completed", open_items(wf_engine, connection, r.instance_id)
    assert d["version"] == 1
