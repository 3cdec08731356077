"""Process bundles: loading, validation problems (element id + message), hostile input, diff."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions import ProcessBundle, diff_bundles, load_bundle, load_bundle_from_files, validate_bundle
from engine.errors import Invalid
from engine.problems import ERROR, WARNING, Problem, errors
from engine.sandbox import SandboxedScriptEngine

HERE = Path(__file__).parent / "bpmn_defs"
ROLES = {"social_worker", "team_manager"}
CONNECTORS = {"nhs.pds_lookup"}
REFERRAL = (HERE / "referral.bpmn").read_text()
DMN = (HERE / "band.dmn").read_text()
FORMS = {p.name: p.read_bytes() for p in (HERE / "forms").iterdir()}


def bundle(bpmn: str = REFERRAL, forms: dict | None = None, dmn: str | None = DMN, **extra) -> ProcessBundle:
    files = {"referral.bpmn": bpmn, **extra}
    return load_bundle(files, FORMS if forms is None else forms, {"band.dmn": dmn} if dmn else None)


def problems(b: ProcessBundle, roles=ROLES, connectors=CONNECTORS) -> list[Problem]:
    return validate_bundle(b, known_roles=roles, connectors=connectors)


def only_error(b: ProcessBundle, **kw) -> Problem:
    found = errors(problems(b, **kw))
    assert len(found) == 1, found
    return found[0]


def edit(old: str, new: str, text: str = REFERRAL) -> str:
    assert old in text, old
    return text.replace(old, new)


# ------------------------------------------------------------------------------------------------ loading
def test_good_bundle_loads_and_validates_cleanly():
    b = load_bundle([HERE / "referral.bpmn"], HERE / "forms", [HERE / "band.dmn"])
    assert b.process_keys == ["referral"]
    assert b.process_key == "referral"
    assert b.name == "Adult social care referral"
    assert sorted(b.forms) == ["approval", "referral"]
    assert b.forms["referral"].uischema["ui:order"][0] == "urgent"
    assert b.forms["approval"].uischema is None
    assert b.spec is not None and "triage" in b.spec.task_specs
    assert problems(b) == []
    assert b.resolve_form("referral.schema.json") == "referral"
    assert b.resolve_form("forms/approval.schema.json") == "approval"
    assert b.resolve_form("approval") == "approval"
    assert b.resolve_form("missing.schema.json") is None


def test_shared_forms_directory_contributes_only_the_forms_the_model_uses(tmp_path):
    for name, data in FORMS.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "other_process.schema.json").write_text('{"type": "object"}')
    b = load_bundle([HERE / "referral.bpmn"], tmp_path, [HERE / "band.dmn"])
    assert sorted(b.forms) == ["approval", "referral"]
    (tmp_path / "other_process.schema.json").write_text('{"type": "string"}')
    assert load_bundle([HERE / "referral.bpmn"], tmp_path, [HERE / "band.dmn"]).content_hash == b.content_hash
    # given as a dict (e.g. an admin draft), every form is part of the bundle
    assert "other_process" in bundle(forms={**FORMS, "other_process.schema.json": b"{}"}).forms


def test_lane_role_property_reaches_the_task_spec():
    b = bundle()
    assert b.spec.task_specs["approve"].extensions["properties"]["role"] == "team_manager"
    assert b.spec.task_specs["approve"].lane == "Managers"
    assert "role" not in b.spec.task_specs["triage"].extensions.get("properties", {})


def test_content_hash_is_stable_and_covers_every_file():
    a, b = bundle(), bundle()
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    assert bundle(REFERRAL.replace("Triage the referral", "Triage")).content_hash != a.content_hash
    assert bundle(dmn=DMN.replace('"low"', '"lowest"')).content_hash != a.content_hash
    forms = dict(FORMS, **{"approval.schema.json": FORMS["approval.schema.json"] + b" "})
    assert bundle(forms=forms).content_hash != a.content_hash


def test_round_trips_through_files_and_text():
    a = bundle()
    assert load_bundle_from_files(a.files()).content_hash == a.content_hash
    text = a.as_text()
    json.dumps(text)  # storable in JSON/Text columns
    assert load_bundle(text["bpmn"], text["forms"], text["dmn"]).content_hash == a.content_hash


def test_loaded_spec_runs_with_the_sandboxed_engine():
    b = bundle()
    engine = SandboxedScriptEngine(clock=lambda: datetime(2026, 12, 23, 9, tzinfo=timezone.utc),
                                   call_service=lambda name, params, data: {"ok": True})
    workflow = BpmnWorkflow(b.spec, b.main_subprocess_specs, script_engine=engine)
    workflow.do_engine_steps()
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update({"urgent": True, "concerns": ["a", "b"], "nhs_number": "9434765919", "case_id": "C"})
    task.run()
    workflow.do_engine_steps()
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert [t.task_spec.bpmn_id for t in ready] == ["approve"]  # urgent + band "high" (score 9)
    assert ready[0].data["band"] == "high"


# ------------------------------------------------------------------------------------------------ hostile files
def test_hostile_bpmn_is_refused_at_load():
    evil = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + \
           REFERRAL.split("?>", 1)[1]
    with pytest.raises(Invalid, match="DOCTYPE"):
        bundle(evil)


def test_oversized_file_is_refused():
    with pytest.raises(Invalid, match="too large"):
        load_bundle({"referral.bpmn": REFERRAL}, FORMS, {"band.dmn": DMN}, max_bytes=1000)


@pytest.mark.parametrize("text, match", [
    ("this is not xml", "not well-formed"),
    ('<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not a BPMN 2.0 file"),
    ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x"/>', "not a BPMN 2.0 file"),
])
def test_not_bpmn_is_refused(text, match):
    with pytest.raises(Invalid, match=match):
        bundle(text)


def test_bpmn_passed_as_dmn_is_refused():
    with pytest.raises(Invalid, match="not a DMN file"):
        bundle(dmn=REFERRAL)


def test_form_file_not_json_or_badly_named_is_refused():
    with pytest.raises(Invalid, match="not valid JSON"):
        bundle(forms=dict(FORMS, **{"approval.schema.json": b"{not json"}))
    with pytest.raises(Invalid, match="must be named"):
        bundle(forms=dict(FORMS, **{"approval.json": b"{}"}))
    with pytest.raises(Invalid, match="has no"):
        bundle(forms={"orphan.uischema.json": b"{}"})


def test_no_bpmn_at_all_is_refused():
    with pytest.raises(Invalid, match="no BPMN"):
        load_bundle({}, FORMS)


# ------------------------------------------------------------------------------------------------ problems
def test_missing_form_file():
    forms = {k: v for k, v in FORMS.items() if not k.startswith("approval")}
    p = only_error(bundle(forms=forms))
    assert (p.element_id, p.element_name) == ("approve", "Approve the plan")
    assert "does not exist" in p.message and "approval" in p.message


def test_user_task_without_form():
    text = edit('<spiffworkflow:property name="formJsonSchemaFilename" value="approval"/>', "")
    p = only_error(bundle(text))
    assert p.element_id == "approve" and "names no form" in p.message


def test_invalid_json_schema():
    bad = json.dumps({"type": "object", "properties": {"approved": {"type": "yes-please"}}}).encode()
    found = errors(problems(bundle(forms=dict(FORMS, **{"approval.schema.json": bad}))))
    assert {p.element_id for p in found} == {None, "approve"}
    assert all("not a valid JSON Schema" in p.message for p in found)
    assert any(p.file == "approval.schema.json" for p in found)


def test_lane_with_unknown_role():
    p = only_error(bundle(), roles={"social_worker"})
    assert (p.element_id, p.element_name) == ("lane_mgr", "Managers")
    assert "'team_manager'" in p.message and "not a known role" in p.message


def test_lane_name_is_the_role_without_a_role_property():
    p = only_error(bundle(), roles={"team_manager"})
    assert p.element_id == "lane_sw" and "'social_worker'" in p.message


def test_task_outside_any_lane_is_a_warning():
    text = edit("<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>", "")
    found = problems(bundle(text))
    assert [(p.element_id, p.severity) for p in found] == [("approve", WARNING)]


def test_script_escaping_the_sandbox_is_rejected_at_publish():
    text = edit("risk_score = len(concerns) * 2 + (5 if urgent else 0)",
                "risk_score = ().__class__.__bases__[0].__subclasses__()")
    p = only_error(bundle(text))
    assert (p.element_id, p.element_name) == ("score", "Work out the risk score")
    assert "does not compile in the sandbox" in p.message and "__class__" in p.message


def test_import_in_a_post_script_is_rejected():
    text = edit("triaged_on = today()", "import os")
    p = only_error(bundle(text))
    assert p.element_id == "triage" and "postScript" in p.message and "Imports are not allowed" in p.message


def test_loop_forever_script_compiles_but_is_stopped_at_run_time():
    # an endless loop cannot be detected statically; it is stopped by the step budget when it runs
    text = edit("risk_score = len(concerns) * 2 + (5 if urgent else 0)", "while True:\n    pass")
    b = bundle(text)
    assert errors(problems(b)) == []
    engine = SandboxedScriptEngine(call_service=lambda *a: {})
    workflow = BpmnWorkflow(b.spec, b.main_subprocess_specs, script_engine=engine)
    workflow.do_engine_steps()
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update({"urgent": True, "concerns": [], "case_id": "C"})
    task.run()
    from engine.errors import ScriptError

    with pytest.raises(ScriptError, match="endless loop") as info:
        workflow.do_engine_steps()
    assert info.value.element_id == "score"


def test_bad_gateway_condition():
    text = edit('urgent and band in ("high", "medium")', "urgent = = yes")
    p = only_error(bundle(text))
    assert (p.element_id, p.element_name) == ("f_urgent", "Yes") and "SyntaxError" in p.message


def test_timer_written_as_raw_iso_duration():
    text = edit("iso(working_days_after(now(), 3))", "P3D")
    p = only_error(bundle(text))
    assert p.element_id == "overdue" and "\"P3D\"" in p.message


@pytest.mark.parametrize("value", ["'P3D'", "PT_deadline", "iso(working_days_after(now(), 3))",
                                   "\"R3/\" + iso(now()) + \"/P1D\""])
def test_timer_expressions_that_are_fine(value):
    assert errors(problems(bundle(edit("iso(working_days_after(now(), 3))", value)))) == []


@pytest.mark.parametrize("value", ["PT1H", "2026-12-24", "2026-12-24T09:00:00Z", "R6/P1D"])
def test_raw_iso_timer_values_are_reported(value):
    assert "write it in quotes" in only_error(bundle(edit("iso(working_days_after(now(), 3))", value))).message


def test_checks_module_imports_on_its_own():
    import subprocess
    import sys

    code = "import engine.definitions_checks as c; print(c.validate_bundle.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "engine.definitions_checks"


def test_bad_due_date_and_priority_expressions():
    text = edit('value="working_days_after(today(), 3)"', 'value="today(+)"')
    text = edit('value="1 if urgent else 3"', 'value="x.__dict__"', text)
    found = errors(problems(bundle(text)))
    assert sorted(p.message.split(" does not")[0] for p in found) == ["the dueDate expression",
                                                                      "the priority expression"]
    assert {p.element_id for p in found} == {"triage"}


def test_unknown_connector():
    p = only_error(bundle(), connectors={"finance.export_payment"})
    assert p.element_id == "lookup" and "'nhs.pds_lookup'" in p.message and "not registered" in p.message


def test_service_task_parameter_expression_is_checked():
    text = edit('value="nhs_number"', 'value="nhs_number.__len__()"')
    p = only_error(bundle(text))
    assert p.element_id == "lookup" and "parameter 'nhs_number'" in p.message


def test_four_eyes_reference_must_be_a_human_task():
    text = edit('name="fourEyesExcludeTask" value="triage"', 'name="fourEyesExcludeTask" value="score"')
    p = only_error(bundle(text))
    assert p.element_id == "approve" and "fourEyesExcludeTask" in p.message


def test_bad_correlation_expression():
    text = edit("<bpmn:formalExpression>case_id</bpmn:formalExpression>",
                "<bpmn:formalExpression>case_id.__class__</bpmn:formalExpression>")
    found = errors(problems(bundle(text)))
    assert found and all("correlation expression" in p.message for p in found)


def test_bad_correlation_key_property():
    text = edit('<bpmn:intermediateCatchEvent id="wait_gp" name="GP reply">',
                '<bpmn:intermediateCatchEvent id="wait_gp" name="GP reply"><bpmn:extensionElements>'
                '<spiffworkflow:properties><spiffworkflow:property name="correlationKey" value="case_id +"/>'
                '</spiffworkflow:properties></bpmn:extensionElements>')
    p = only_error(bundle(text))
    assert p.element_id == "wait_gp" and "correlationKey" in p.message


def test_xsd_violation_names_the_element():
    text = edit('<bpmn:exclusiveGateway id="urgent_gw" name="Urgent?" default="f_not_urgent"/>',
                '<bpmn:exclusiveGateway id="urgent_gw" name="Urgent?" default="f_not_urgent" colour="red"/>')
    p = only_error(bundle(text))
    assert p.element_id == "urgent_gw" and p.message.startswith("XML schema") and "colour" in p.message


def test_unknown_spiffworkflow_extension_element_is_a_warning():
    text = edit("<spiffworkflow:postScript>", "<spiffworkflow:postScrpt>").replace(
        "</spiffworkflow:postScript>", "</spiffworkflow:postScrpt>")
    found = problems(bundle(text))
    assert [(p.element_id, p.severity) for p in found] == [("triage", WARNING)]
    assert "spiffworkflow:postScrpt" in found[0].message


def test_spiffworkflow_parser_errors_are_mapped_to_elements():
    text = edit('<bpmn:sequenceFlow id="f7" sourceRef="approve" targetRef="end"/>',
                '<bpmn:sequenceFlow id="f7" sourceRef="approve" targetRef="nowhere"/>')
    found = errors(problems(bundle(text)))
    assert found, "a flow to a missing element must be reported"
    assert any(p.element_id in ("approve", "f7") for p in found)


def test_missing_decision_table_is_a_problem():
    found = errors(problems(bundle(dmn=None)))
    assert any(p.element_id == "band" and "risk_band" in p.message for p in found)


def test_dmn_xsd_violation():
    p = only_error(bundle(dmn=DMN.replace('<rule id="rule_low">', '<rule id="rule_low" weight="3">')))
    assert p.element_id == "rule_low" and p.file == "band.dmn" and p.message.startswith("XML schema")
    assert "weight" in p.message


def test_bad_dmn_cell():
    p = only_error(bundle(dmn=DMN.replace("&gt;= 8", "&gt;= __import__('os')")))
    assert p.element_id == "rule_high_in" and p.file == "band.dmn"


def test_service_task_without_operator():
    text = edit('<spiffworkflow:serviceTaskOperator id="nhs.pds_lookup" resultVariable="pds">',
                "<spiffworkflow:ignored>").replace("</spiffworkflow:serviceTaskOperator>",
                                                   "</spiffworkflow:ignored>")
    text = text.replace("<spiffworkflow:parameters>", "").replace("</spiffworkflow:parameters>", "")
    text = text.replace('<spiffworkflow:parameter id="nhs_number" type="str" value="nhs_number"/>', "")
    found = errors(problems(bundle(text)))
    assert any(p.element_id == "lookup" and "operator" in p.message for p in found)


def test_non_executable_process_is_reported_with_the_reason():
    text = edit('isExecutable="true"', 'isExecutable="false"')
    b = bundle(text)
    assert b.process_keys == [] and b.spec is None
    p = only_error(b)
    assert p.element_id == "referral" and p.message.startswith("not executable")
    assert 'isExecutable="false"' in p.message


def test_very_long_model_is_a_problem_not_a_crash():
    steps = 1500
    body = ['<bpmn:startEvent id="s"/>']
    prev = "s"
    for i in range(steps):
        body.append(f'<bpmn:task id="t{i}"/><bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="t{i}"/>')
        prev = f"t{i}"
    body.append(f'<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="fe" sourceRef="{prev}" targetRef="e"/>')
    text = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
            'targetNamespace="t"><bpmn:process id="long" isExecutable="true">' + "".join(body) +
            "</bpmn:process></bpmn:definitions>")
    b = load_bundle({"long.bpmn": text})
    found = errors(problems(b))
    assert any("too long" in p.message for p in found)


def test_problem_names_are_tidy():
    p = Problem("x", "Approve\n  the plan", "line one\n  line two")
    assert p.element_name == "Approve the plan" and p.message == "line one line two"
    assert str(p) == "error: x (Approve the plan): line one line two"
    assert p.to_dict()["severity"] == ERROR


# ------------------------------------------------------------------------------------------------ diff
def test_diff_in_plain_words():
    old = bundle()
    new_text = edit('<bpmn:userTask id="approve" name="Approve the plan">',
                    '<bpmn:userTask id="approve" name="Sign off the plan">')
    new_text = edit('risk_score = len(concerns) * 2', 'risk_score = len(concerns) * 3', new_text)
    new_text = edit('<bpmn:endEvent id="end_overdue"/>', '<bpmn:endEvent id="end_late" name="Late"/>', new_text)
    new_text = new_text.replace('targetRef="end_overdue"', 'targetRef="end_late"')
    forms = dict(FORMS, **{"approval.schema.json": json.dumps({"type": "object"}).encode()})
    lines = diff_bundles(old, bundle(new_text, forms=forms))
    assert "Renamed user task approve from 'Approve the plan' to 'Sign off the plan'" in lines
    assert "Changed the settings of script task 'Work out the risk score' (score)" in lines
    assert "Added end event 'Late' (end_late)" in lines
    assert "Removed end event end_overdue" in lines
    assert "Changed the settings of sequence flow f_overdue" in lines
    assert "Changed form 'approval'" in lines
    assert diff_bundles(old, bundle()) == []


def test_diff_of_layout_only_change():
    old = bundle()
    new = bundle(REFERRAL.replace("\n    ", "\n        "))
    assert diff_bundles(old, new) == ["Only the diagram layout or formatting changed"]


# ------------------------------------------------------------------------------------------------ robustness
def _mutate(rnd, data: bytes) -> bytes:
    from lxml import etree

    root = etree.fromstring(data)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for _ in range(rnd.randint(1, 4)):
        el = rnd.choice(elements)
        roll = rnd.random()
        if roll < 0.35 and el.getparent() is not None:
            el.getparent().remove(el)
        elif roll < 0.6 and el.attrib:
            del el.attrib[rnd.choice(list(el.attrib))]
        elif roll < 0.8 and el.attrib:
            el.set(rnd.choice(list(el.attrib)), rnd.choice(["", "x", "nowhere", "0", "true", "false", "FIRST"]))
        else:
            el.text = rnd.choice(["", "1/0", "x.__class__", "P3D", "?", "-", "while True: pass", None])
    return etree.tostring(root)


def test_mutated_models_never_crash_the_loader_or_validator():
    import random

    rnd = random.Random(2026)
    miwg = sorted((Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bpmn-miwg").glob("*.bpmn"))
    sources = [REFERRAL.encode()] + [p.read_bytes() for p in miwg[:10]]
    for _ in range(120):
        bpmn = _mutate(rnd, rnd.choice(sources))
        dmn = _mutate(rnd, DMN.encode()) if rnd.random() < 0.5 else DMN.encode()
        try:
            b = load_bundle({"m.bpmn": bpmn}, FORMS, {"band.dmn": dmn})
        except Invalid:
            continue
        found = problems(b)
        assert all(isinstance(p, Problem) for p in found)


def test_bad_candidate_users_expression():
    text = edit('name="fourEyesExcludeTask" value="triage"/>',
                'name="fourEyesExcludeTask" value="triage"/><spiffworkflow:property name="candidateUsers" '
                'value="managers +"/>')
    p = only_error(bundle(text))
    assert p.element_id == "approve" and "the candidateUsers expression" in p.message
