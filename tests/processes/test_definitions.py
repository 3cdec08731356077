"""Every process in processes/ publishes cleanly; every form is a valid Draft 2020-12 schema with a UI schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from casework.finance.connectors import FUNCTIONS
from casework.processes import START_PROCESS
from engine.definitions import validate_bundle
from tests.processes.conftest import FORMS, PROCESSES, ROLES, bundle_for, form_errors
from tests.processes.samples import SAMPLES

PROCESS_KEYS = sorted(p.stem for p in PROCESSES.glob("*.bpmn"))
FORM_NAMES = sorted(p.name[: -len(".schema.json")] for p in FORMS.glob("*.schema.json"))


def test_the_five_processes_are_there():
    assert PROCESS_KEYS == ["care_and_support_plan", "child_protection", "childrens_assessment",
                            "payment_authorisation", "referral"]
    for key in PROCESS_KEYS:
        assert (PROCESSES / f"{key}.md").is_file(), f"{key}.md (plain-English description) is missing"


@pytest.mark.parametrize("process_key", PROCESS_KEYS)
def test_process_validates_with_zero_problems(process_key):
    bundle = bundle_for(process_key)
    assert bundle.process_key == process_key
    problems = validate_bundle(bundle, known_roles=ROLES, connectors={*FUNCTIONS, START_PROCESS})
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("process_key", PROCESS_KEYS)
def test_every_user_task_names_an_existing_form_and_ui_schema(process_key):
    bundle = bundle_for(process_key)
    specs = [bundle.spec, *bundle.main_subprocess_specs.values()]
    seen = 0
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if type(task_spec).__name__ != "UserTask":
                continue
            props = task_spec.extensions["properties"]
            form = props["formJsonSchemaFilename"].removesuffix(".schema.json")
            assert (FORMS / f"{form}.schema.json").is_file()
            assert props["formUiSchemaFilename"] == f"{form}.uischema.json"
            assert (FORMS / f"{form}.uischema.json").is_file()
            assert props.get("role") in ROLES, f"{task_spec.bpmn_id} has no role"
            seen += 1
    assert seen >= 4


@pytest.mark.parametrize("form", FORM_NAMES)
def test_form_is_a_valid_schema_with_ui_order_and_routing_fields(form):
    schema = json.loads((FORMS / f"{form}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and schema["description"]
    ui = json.loads((FORMS / f"{form}.uischema.json").read_text())
    assert sorted(ui["ui:order"]) == sorted(schema["properties"]), "ui:order must list every field once"
    for name, prop in schema["properties"].items():
        assert prop.get("title"), f"{form}.{name} has no title"
    assert set(schema["x-routing-fields"]) <= set(schema["properties"])
    assert form_errors(form, SAMPLES[form]) == {}


def test_samples_cover_every_form():
    assert sorted(SAMPLES) == FORM_NAMES


def test_casework_init_publishes_all_five(session, settings):
    """What `casework init` does: every processes/*.bpmn published with the app's engine and connectors."""
    from casework.engine_host import publish_directory

    report = publish_directory(session, settings, actor="configurator")
    published = [line for line in report if line.startswith("Published")]
    assert len(published) == 5, "\n".join(report)


@pytest.mark.parametrize("form", FORM_NAMES)
def test_form_renders_with_the_workspace_renderer(form):
    from workspace.forms.model import FormModel
    from workspace.forms.render import render_fields

    schema = json.loads((FORMS / f"{form}.schema.json").read_text())
    ui = json.loads((FORMS / f"{form}.uischema.json").read_text())
    html = str(render_fields(FormModel(schema, ui), SAMPLES[form]))
    for name in ui["ui:order"]:
        assert f'name="{name}' in html or f'id="{name}' in html, f"{form}: {name} is not rendered"


@pytest.mark.parametrize("process_key", PROCESS_KEYS)
def test_assignee_properties_are_valid_expressions(process_key):
    """The engine does not check the `assignee` property casework reads (casework/work_routing.py): do it."""
    from engine.sandbox import check_expression

    bundle = bundle_for(process_key)
    for spec in [bundle.spec, *bundle.main_subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("assignee")
            if value is not None:
                assert type(task_spec).__name__ == "UserTask", task_spec.bpmn_id
                assert check_expression(value) is None, (task_spec.bpmn_id, value)


def test_child_seen_and_the_assessment_name_the_allocated_worker():
    bundle = bundle_for("childrens_assessment")
    props = {t.bpmn_id: t.extensions.get("properties", {}) for s in bundle.main_subprocess_specs.values()
             for t in s.task_specs.values() if type(t).__name__ == "UserTask"}
    assert props["record_child_seen"]["assignee"] == "allocated_worker"
    assert props["complete_assessment"]["assignee"] == "allocated_worker"
    assert "assignee" not in props["authorise_assessment"]
