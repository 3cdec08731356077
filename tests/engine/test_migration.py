"""Migrating waiting instances to a newer version: blockers listed, migration recorded in history."""

import pytest

from engine.definitions import load_bundle
from engine.errors import Invalid
from tests.engine.conftest import FORMS, bundle, complete, open_items

SIGN = ('<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="sign"/>'
        '<bpmn:userTask id="sign" name="Sign off"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="generic.schema.json"/>'
        '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>'
        '<bpmn:sequenceFlow id="f3b" sourceRef="sign" targetRef="bump"/>')


def _variant(old: str, new: str):
    xml = bundle("loop.bpmn").bpmn["loop.bpmn"].decode()
    assert old in xml
    return load_bundle({"loop.bpmn": xml.replace(old, new)}, FORMS)


def test_migrate_waiting_instance_to_new_version(wf_engine, connection, publish):
    publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "c", {}, "ann")
    complete(wf_engine, connection, r.instance_id, "review", {"done": False})
    v2 = wf_engine.publish(connection, _variant('<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="bump"/>',
                                                SIGN), "admin")
    assert v2["version"] == 2
    assert wf_engine.check_migration(connection, r.instance_id, 2) == []
    res = wf_engine.migrate(connection, r.instance_id, 2, "admin")
    inst = wf_engine.get_instance(connection, r.instance_id)
    assert inst["definition_version"] == 2 and res.status == "running" and inst["data"]["count"] == 1
    complete(wf_engine, connection, r.instance_id, "review", {"done": True})
    assert set(open_items(wf_engine, connection, r.instance_id)) == {"sign"}  # the new step of v2
    assert complete(wf_engine, connection, r.instance_id, "sign").status == "completed"
    [event] = [e for e in wf_engine.history(connection, r.instance_id) if e["event_type"] == "instance_migrated"]
    assert event["data"] == {"from_version": 1, "to_version": 2} and event["actor"] == "admin"


def test_migration_blockers_are_listed(wf_engine, connection, publish):
    publish("loop.bpmn")
    r = wf_engine.start(connection, "loop", "c", {}, "ann")
    v2 = _variant('id="review" name="Review the plan"', 'id="review2" name="Review the plan"')
    xml = v2.bpmn["loop.bpmn"].decode().replace('targetRef="review"', 'targetRef="review2"').replace(
        'sourceRef="review"', 'sourceRef="review2"')
    wf_engine.publish(connection, load_bundle({"loop.bpmn": xml}, FORMS), "admin")
    blockers = wf_engine.check_migration(connection, r.instance_id, 2)
    assert any("review" in b and "does not exist in version 2" in b for b in blockers)
    assert wf_engine.check_migration(connection, r.instance_id, 1) == ["the instance already runs version 1"]
    assert "not published" in wf_engine.check_migration(connection, r.instance_id, 7)[0]
    with pytest.raises(Invalid) as err:
        wf_engine.migrate(connection, r.instance_id, 2, "admin")
    assert err.value.problems == blockers
    assert wf_engine.get_instance(connection, r.instance_id)["definition_version"] == 1
