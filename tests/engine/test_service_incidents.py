"""Service tasks through registered connectors; failures become incidents with retry/backoff and skip."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.schema import incident
from tests.engine.conftest import complete, open_items


def _incidents(conn, instance_id):
    return conn.execute(select(incident).where(incident.c.instance_id == instance_id).order_by(incident.c.id)
                        ).mappings().all()


def test_service_task_calls_connector(wf_engine, connection, publish):
    publish("service.bpmn")
    r = wf_engine.start(connection, "service", "c", {"nhs_number": "9434765919"}, "ann")
    assert r.status == "running" and r.incidents == []
    data = wf_engine.get_instance(connection, r.instance_id)["data"]
    assert data["person"] == {"nhs_number": "9434765919", "name": "Ada Lovelace"}


def test_invalid_parameters_become_an_incident(wf_engine, connection, publish):
    publish("service.bpmn")
    r = wf_engine.start(connection, "service", "c", {"nhs_number": "12"}, "ann")
    assert r.status == "error" and len(r.incidents) == 1
    [inc] = _incidents(connection, r.instance_id)
    assert inc["kind"] == "connector" and "invalid parameters" in inc["message"] and inc["task_spec"] == "lookup"
    assert open_items(wf_engine, connection, r.instance_id) == {}


def test_connector_failure_retries_with_backoff_then_succeeds(wf_engine, connection, publish, connectors, clock,
                                                              db):
    calls = []

    def flaky(params):
        calls.append(params)
        if len(calls) < 3:
            raise ConnectionError("PDS unavailable")
        return {"ok": True}

    connectors.register("nhs.pds_lookup", flaky, retries=3, backoff_seconds=60)
    publish("service.bpmn")
    r = wf_engine.start(connection, "service", "c", {"nhs_number": "9434765919"}, "ann")
    [inc] = _incidents(connection, r.instance_id)
    assert inc["auto_retry"] and inc["attempts"] == 1 and "PDS unavailable" in inc["message"]
    assert inc["next_retry_at"].replace(tzinfo=None) == (clock.value + timedelta(seconds=60)).replace(tzinfo=None)
    assert wf_engine.retry_due_incidents(db) == 0  # backoff not elapsed
    clock.advance(seconds=61)
    assert wf_engine.retry_due_incidents(db) == 1
    incs = _incidents(connection, r.instance_id)
    assert [i["status"] for i in incs] == ["retried", "open"] and incs[1]["attempts"] == 2
    assert incs[1]["next_retry_at"].replace(tzinfo=None) == (clock.value + timedelta(seconds=120)).replace(tzinfo=None)
    clock.advance(seconds=121)
    assert wf_engine.retry_due_incidents(db) == 1
    assert [i["status"] for i in _incidents(connection, r.instance_id)] == ["retried", "retried"]
    inst = wf_engine.get_instance(connection, r.instance_id)
    assert inst["status"] == "running" and inst["data"]["person"] == {"ok": True}
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"check"}
    assert len(calls) == 3


def test_script_failure_incident_then_skip(wf_engine, connection, publish):
    publish("script_fail.bpmn")
    r = wf_engine.start(connection, "script_fail", "c", {"divisor": 0}, "ann")
    res = complete(wf_engine, connection, r.instance_id, "first")
    assert res.status == "error" and len(res.incidents) == 1
    [inc] = _incidents(connection, r.instance_id)
    assert inc["kind"] == "script" and not inc["auto_retry"] and inc["task_spec"] == "calc"
    # the user's completion was kept: the first task is closed, nothing half-written
    assert open_items(wf_engine, connection, r.instance_id) == {}
    again = wf_engine.retry_incident(connection, inc["id"], "ops")  # still fails: a new incident
    assert again.status == "error" and _incidents(connection, r.instance_id)[-1]["attempts"] == 2
    last = _incidents(connection, r.instance_id)[-1]
    skipped = wf_engine.skip_incident(connection, last["id"], "ops", {"result": 0})
    assert skipped.status == "running"
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"after"}
    assert wf_engine.get_instance(connection, r.instance_id)["data"]["result"] == 0
    with pytest.raises(Conflict):
        wf_engine.skip_incident(connection, last["id"], "ops", {})
    types = [e["event_type"] for e in wf_engine.history(connection, r.instance_id)]
    assert types.count("incident_opened") == 2 and "incident_skipped" in types


def test_runaway_script_is_stopped_by_the_sandbox_and_becomes_an_incident(wf_engine, connection, publish):
    publish("script_forever.bpmn")
    r = wf_engine.start(connection, "script_forever", "c", {}, "ann")
    res = complete(wf_engine, connection, r.instance_id, "first")
    assert res.status == "error"
    [inc] = _incidents(connection, r.instance_id)
    assert inc["kind"] == "script" and inc["task_spec"] == "calc" and "limit" in inc["message"].lower()
    # the server keeps serving: the instance can still be read and cancelled
    assert wf_engine.get_instance(connection, r.instance_id)["status"] == "error"
    assert wf_engine.cancel(connection, r.instance_id, "ops").status == "cancelled"
