"""Form editor (preview by the workspace renderer, try it, invalid schemas) and instance migration pages."""

from __future__ import annotations

import json

from casework.configuration import drafts, instances
from tests.admin.conftest import publish_via_review, soup
from tests.admin.samples import FORM, triage_files
from tests.conftest import sign_in


def _draft(session):
    return drafts.create_draft(session, process_key="triage", title="Referral triage", files=triage_files(),
                               actor="alice", reason=None)


def test_form_editor_shows_preview_from_workspace_renderer(client, session, wf, alice):
    draft = _draft(session)
    sign_in(client, alice)
    response = client.get(f"/admin/drafts/{draft.id}/form?form=triage")
    assert response.status_code == 200
    preview = soup(response).select_one("#form-preview")
    assert preview.select("input[type=radio]") and "Decision" in preview.text


def test_invalid_json_schema_refused_with_clear_message(client, session, wf, alice):
    draft = _draft(session)
    token = sign_in(client, alice)
    response = client.post(f"/admin/drafts/{draft.id}/form", data={
        "csrf_token": token, "form": "triage", "schema": '{"type": "banana"}', "uischema": "",
        "action": "save", "version": draft.version})
    assert response.status_code == 422
    summary = soup(response).select_one(".govuk-error-summary").text
    assert "The schema is not a valid JSON Schema" in summary and "banana" in summary
    response = client.post(f"/admin/drafts/{draft.id}/form", data={
        "csrf_token": token, "form": "triage", "schema": '{"type": "object",', "uischema": "[]",
        "action": "preview"})
    summary = soup(response).select_one(".govuk-error-summary").text
    assert "not valid JSON" in summary and "UI schema must be a JSON object" in summary
    session.expire(draft)
    assert json.loads(drafts.files_of(draft)["forms"]["triage.schema.json"]) == FORM


def test_try_it_validates_sample_answers(client, session, wf, alice):
    draft = _draft(session)
    token = sign_in(client, alice)
    data = {"csrf_token": token, "form": "triage", "schema": json.dumps(FORM), "uischema": "",
            "action": "try", "sample": json.dumps({"notes": "x"})}
    page = soup(client.post(f"/admin/drafts/{draft.id}/form", data=data))
    assert "1 problem(s)" in page.select_one("#try-result").text
    data["sample"] = json.dumps({"decision": "accept"})
    page = soup(client.post(f"/admin/drafts/{draft.id}/form", data=data))
    assert "The answers are valid" in page.select_one("#try-result").text


def test_new_form_saved_into_draft(client, session, wf, alice):
    draft = _draft(session)
    token = sign_in(client, alice)
    schema = {"type": "object", "properties": {"seen": {"type": "boolean", "title": "Child seen?"}}}
    response = client.post(f"/admin/drafts/{draft.id}/form", data={
        "csrf_token": token, "form": "child-seen", "schema": json.dumps(schema), "uischema": '{"ui:order": ["*"]}',
        "action": "save", "version": draft.version})
    assert response.status_code == 302
    session.expire(draft)
    files = drafts.files_of(draft)["forms"]
    assert "child-seen.schema.json" in files and "child-seen.uischema.json" in files


def test_preview_endpoint_json(client, session, alice):
    token = sign_in(client, alice)
    response = client.post("/admin/forms/preview", json={"schema": json.dumps(FORM), "uischema": ""},
                           headers={"X-CSRF-Token": token})
    body = response.get_json()
    assert body["errors"] == {} and "Decision" in body["html"]
    response = client.post("/admin/forms/preview", json={"schema": '{"required": 5}'},
                           headers={"X-CSRF-Token": token})
    assert "not a valid JSON Schema" in response.get_json()["errors"]["schema"]


def test_migration_page_shows_blockers_then_moves(client, session, wf, alice, bob):
    publish_via_review(session, wf)
    conn = session.connection()
    waiting = wf.start(conn, "triage", "case-1", actor="alice").instance_id
    # version 2 renames the task (same id): instances can move
    publish_via_review(session, wf, triage_files(task_name="Triage (v2)"))
    token = sign_in(client, alice)
    page = soup(client.get("/admin/processes/triage/migrate?to=2"))
    row = page.select_one(f'tr[data-instance="{waiting}"]')
    assert "Can move" in row.text
    response = client.post("/admin/processes/triage/migrate", data={
        "csrf_token": token, "to": "2", "instances": [str(waiting)], "reason": ""})
    assert response.status_code == 422
    response = client.post("/admin/processes/triage/migrate", data={
        "csrf_token": token, "to": "2", "instances": [str(waiting)], "reason": "new wording"})
    assert response.status_code == 302
    assert wf.get_instance(conn, waiting)["definition_version"] == 2


def test_migration_blocked_when_waiting_step_is_gone(session, wf, alice, bob):
    from tests.admin.samples import triage_bpmn

    publish_via_review(session, wf)
    conn = session.connection()
    waiting = wf.start(conn, "triage", "case-2", actor="alice").instance_id
    renamed = triage_bpmn().replace("Task_triage", "Task_screen")
    publish_via_review(session, wf, {"bpmn": {"triage.bpmn": renamed}, "dmn": {},
                                     "forms": triage_files()["forms"]})
    rows = instances.candidates(session, wf, "triage", 2)
    blocked = next(r for r in rows if r.instance_id == waiting)
    assert any("Task_triage" in b and "does not exist in version 2" in b for b in blocked.blockers)
    moved, refused = instances.migrate(session, wf, process_key="triage", to_version=2, instance_ids=[waiting],
                                       actor="bob", reason="try")
    assert moved == [] and waiting in refused
