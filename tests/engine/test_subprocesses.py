"""Call activities, embedded subprocesses, error and escalation events, multi-instance, DMN."""

from tests.engine.conftest import complete, open_items


def test_call_activity_and_embedded_subprocess(wf_engine, connection, publish):
    publish("call_parent.bpmn", "call_child.bpmn")
    r = wf_engine.start(connection, "call_parent", "c", {}, "ann")
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"meet"}
    complete(wf_engine, connection, r.instance_id, "meet", {"rating": 4})
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"summary"}
    res = complete(wf_engine, connection, r.instance_id, "summary", {"notes": "done"})
    assert res.status == "completed"
    data = wf_engine.get_instance(connection, r.instance_id)["data"]
    assert data["score"] == 8 and data["notes"] == "done"
    specs = [e["task_spec"] for e in wf_engine.history(connection, r.instance_id)]
    assert "score" in specs and "review" in specs  # history of subprocess steps survives pruning


def test_error_end_event_caught_by_boundary(wf_engine, connection, publish):
    publish("errors.bpmn")
    r = wf_engine.start(connection, "errors", "c", {}, "ann")
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"decide"}
    complete(wf_engine, connection, r.instance_id, "decide", {"eligible": False})
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"letter"}
    assert complete(wf_engine, connection, r.instance_id, "letter").status == "completed"


def test_escalation_non_interrupting(wf_engine, connection, publish):
    publish("errors.bpmn")
    r = wf_engine.start(connection, "errors", "c", {}, "ann")
    complete(wf_engine, connection, r.instance_id, "decide", {"eligible": True, "risk": True})
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"confirm", "safeguard"}
    complete(wf_engine, connection, r.instance_id, "safeguard")
    assert complete(wf_engine, connection, r.instance_id, "confirm").status == "completed"


def test_no_escalation_path(wf_engine, connection, publish):
    publish("errors.bpmn")
    r = wf_engine.start(connection, "errors", "c", {}, "ann")
    complete(wf_engine, connection, r.instance_id, "decide", {"eligible": True, "risk": False})
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"confirm"}
    assert complete(wf_engine, connection, r.instance_id, "confirm").status == "completed"


def test_parallel_and_sequential_multi_instance(wf_engine, connection, publish):
    publish("multi.bpmn")
    r = wf_engine.start(connection, "multi", "c", {"members": ["Ann", "Bo", "Cy"]}, "ann")
    items = wf_engine.work_items_for(connection, r.instance_id)
    assert len(items) == 3 and {i["task_spec"] for i in items} == {"visit_each"}
    assert len({i["task_id"] for i in items}) == 3
    for n, item in enumerate(items):
        res = wf_engine.complete_task(connection, item["id"], {"visit": f"seen {n}"}, "ann")
    assert res.status == "completed"
    data = wf_engine.get_instance(connection, r.instance_id)["data"]
    assert data["visits"] == ["seen 0", "seen 1", "seen 2"]
    assert data["letters_out"] == ["Dear Ann", "Dear Bo", "Dear Cy"]


def test_business_rule_task_dmn(wf_engine, connection, publish):
    publish("decision.bpmn", dmn=("band.dmn",))
    low = wf_engine.start(connection, "decision", "c1", {"score": 3}, "ann")
    high = wf_engine.start(connection, "decision", "c2", {"score": 12}, "ann")
    assert wf_engine.get_instance(connection, low.instance_id)["data"]["band"] == "low"
    assert wf_engine.get_instance(connection, high.instance_id)["data"]["band"] == "high"
    assert set(open_items(wf_engine, connection, low.instance_id)) == {"confirm"}
