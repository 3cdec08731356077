"""The modeller's JSON endpoints and the server-side save path: round trips keep every file unchanged,
the casework panel writes spiffworkflow properties the engine reads, and a stale save gets 409."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from casework.configuration import bundles, drafts, properties
from casework.errors import Invalid
from tests.admin.samples import triage_bpmn, triage_files
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpora" / "bpmn-miwg"
ROUND_TRIP = sorted(ROOT.glob("processes/*.bpmn")) + sorted(CORPUS.glob("*.bpmn")) + sorted(
    (ROOT / "tests" / "engine" / "bpmn").glob("*.bpmn"))


def _c14n(xml: str) -> bytes:
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method="c14n2", strip_text=True)


def _json(client, url, token, body):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRF-Token": token, "Accept": "application/json"})


@pytest.fixture
def triage_draft(session):
    return drafts.create_draft(session, process_key="triage", title="Referral triage", files=triage_files(),
                               actor="alice", reason=None)


def test_round_trip_corpus_is_not_empty():
    assert len(ROUND_TRIP) >= 25


@pytest.mark.parametrize("path", ROUND_TRIP, ids=[f"{p.parent.name}/{p.name}" for p in ROUND_TRIP])
def test_server_side_save_path_round_trip_is_unchanged(client, session, wf, alice, path):
    text = path.read_text("utf-8-sig")
    draft = drafts.create_draft(session, process_key="rt", title="rt", files={"bpmn": {path.name: text}},
                                actor="alice", reason=None)
    token = sign_in(client, alice)
    loaded = client.get(f"/admin/drafts/{draft.id}/bpmn?file={path.name}").get_json()
    assert loaded["xml"] == text
    response = _json(client, f"/admin/drafts/{draft.id}/bpmn", token,
                     {"file": path.name, "xml": loaded["xml"], "version": loaded["version"]})
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["problems"], list)
    again = client.get(f"/admin/drafts/{draft.id}/bpmn?file={path.name}").get_json()
    assert again["xml"] == text


def test_stale_save_gets_409_and_nothing_is_lost(client, session, wf, alice, bob, triage_draft):
    token_a = sign_in(client, alice)
    loaded = client.get(f"/admin/drafts/{triage_draft.id}/bpmn").get_json()
    first = _json(client, f"/admin/drafts/{triage_draft.id}/bpmn", token_a,
                  {"file": "triage.bpmn", "xml": triage_bpmn(task_name="Alice"), "version": loaded["version"]})
    assert first.status_code == 200 and first.get_json()["version"] == loaded["version"] + 1
    token_b = sign_in(client, bob)
    second = _json(client, f"/admin/drafts/{triage_draft.id}/bpmn", token_b,
                   {"file": "triage.bpmn", "xml": triage_bpmn(task_name="Bob"), "version": loaded["version"]})
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["code"] == "conflict" and "Someone else (alice) saved this draft" in error["message"]
    assert "Alice" in client.get(f"/admin/drafts/{triage_draft.id}/bpmn").get_json()["xml"]


def test_save_answers_with_problems_linking_to_elements(client, session, wf, alice, triage_draft):
    token = sign_in(client, alice)
    response = _json(client, f"/admin/drafts/{triage_draft.id}/bpmn", token,
                     {"file": "triage.bpmn", "xml": triage_bpmn(form=None), "version": triage_draft.version})
    problems = response.get_json()["problems"]
    problem = next(p for p in problems if p["element_id"] == "Task_triage")
    assert "names no form" in problem["message"]
    assert "select=Task_triage" in problem["link"]
    assert response.get_json()["can_run"] is False


def test_save_refuses_hostile_xml_and_csrf_missing(client, session, wf, alice, triage_draft):
    token = sign_in(client, alice)
    response = _json(client, f"/admin/drafts/{triage_draft.id}/bpmn", token,
                     {"file": "triage.bpmn", "xml": '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "version": None})
    assert response.status_code == 422 and "DOCTYPE" in response.get_json()["error"]["message"]
    response = client.post(f"/admin/drafts/{triage_draft.id}/bpmn", json={"file": "triage.bpmn", "xml": "<x/>"})
    assert response.status_code == 400


def test_panel_describes_and_writes_properties(client, session, wf, alice, triage_draft):
    token = sign_in(client, alice)
    xml = triage_bpmn()
    described = _json(client, f"/admin/drafts/{triage_draft.id}/element", token,
                      {"xml": xml, "element_id": "Task_triage"}).get_json()
    assert described["kind"] == "userTask" and described["fields"]["form"] == "triage"
    values = {"form": "triage", "role": "team_manager", "due_date": "working_days_after(today(), 10)",
              "priority": "1 if urgent else 3", "four_eyes": ""}
    response = _json(client, f"/admin/drafts/{triage_draft.id}/element/properties", token,
                     {"file": "triage.bpmn", "xml": xml, "version": triage_draft.version,
                      "element_id": "Task_triage", "values": values})
    assert response.status_code == 200, response.get_json()
    saved = client.get(f"/admin/drafts/{triage_draft.id}/bpmn").get_json()["xml"]
    bundle = bundles.bundle_from_files(bundles.normalise({"bpmn": {"triage.bpmn": saved},
                                                          "forms": triage_files()["forms"]}))
    task = bundle.spec.task_specs["Task_triage"]
    props = task.extensions["properties"]
    assert props["formJsonSchemaFilename"] == "triage.schema.json"
    assert props["dueDate"] == "working_days_after(today(), 10)" and props["role"] == "team_manager"
    assert props["priority"] == "1 if urgent else 3"
    assert "acme:audit" in saved and "kept as it is" in saved  # unknown extension kept


def test_panel_refuses_bad_values(client, session, wf, alice, triage_draft):
    token = sign_in(client, alice)
    response = _json(client, f"/admin/drafts/{triage_draft.id}/element/properties", token,
                     {"file": "triage.bpmn", "xml": triage_bpmn(), "version": triage_draft.version,
                      "element_id": "Task_triage", "values": {"form": "nope", "due_date": "import os",
                                                              "role": "wizard"}})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert "no form called 'nope'" in details["form"] and "does not compile" in details["due_date"]
    assert "'wizard' is not a role" in details["role"]


def test_apply_touches_only_the_element():
    xml = triage_bpmn()
    new = properties.apply(xml, "Task_triage", {"form": "triage", "four_eyes": "Task_other"})
    old_root, new_root = etree.fromstring(xml.encode()), etree.fromstring(new.encode())
    for root in (old_root, new_root):
        task = root.find(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
        task.getparent().remove(task)
    assert etree.tostring(old_root, method="c14n2") == etree.tostring(new_root, method="c14n2")
    assert 'name="fourEyesExcludeTask" value="Task_other"' in new


def test_lane_role_and_service_task_connector():
    xml = triage_bpmn(extra="""
    <bpmn:serviceTask id="Task_lookup" name="Look up NHS number" />""")
    xml = properties.apply(xml, "Lane_1", {"role": "practitioner"}, roles={"practitioner"})
    assert properties.describe(xml, "Lane_1")["fields"] == {"role": "practitioner"}
    xml = properties.apply(xml, "Task_lookup", {"connector": "nhs.pds_lookup", "result_variable": "pds",
                                                "parameters": "nhs_number = person_nhs\nstrict = True"},
                           connectors={"nhs.pds_lookup"})
    fields = properties.describe(xml, "Task_lookup")["fields"]
    assert fields == {"connector": "nhs.pds_lookup", "result_variable": "pds",
                      "parameters": "nhs_number = person_nhs\nstrict = True"}
    assert 'spiffworkflow:serviceTaskOperator id="nhs.pds_lookup" resultVariable="pds"' in xml
    with pytest.raises(Invalid, match="Check the parameters"):
        properties.apply(xml, "Task_lookup", {"connector": "nhs.pds_lookup", "parameters": "no equals sign"})
    with pytest.raises(Invalid, match="no settings for a startEvent"):
        properties.apply(xml, "StartEvent_1", {})
    cleared = properties.apply(xml, "Lane_1", {"role": ""})
    assert "spiffworkflow:property name=\"role\"" not in cleared.split("Lane_1")[1].split("</bpmn:lane>")[0]


@pytest.mark.parametrize("name", ["C.1.0.bpmn", "C.3.0.bpmn", "C.8.0.bpmn"])
def test_panel_edit_and_undo_keeps_miwg_file_identical(name):
    """Every user task of a file with other tools' extensions: set a due date, clear it: same document."""
    text = (CORPUS / name).read_text("utf-8-sig")
    root = etree.fromstring(text.encode())
    tasks = [el.get("id") for el in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")]
    assert tasks
    new = text
    for task_id in tasks:
        new = properties.apply(new, task_id, {"due_date": "working_days_after(today(), 5)"})
        assert properties.describe(new, task_id)["fields"]["due_date"] == "working_days_after(today(), 5)"
    for task_id in tasks:
        new = properties.apply(new, task_id, {"due_date": ""})
    assert _c14n(new) == _c14n(text)
