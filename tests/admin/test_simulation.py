"""Simulation in a sandbox with a simulated clock, and regression scenarios guarding later versions."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from casework.configuration import drafts, review, simulation
from engine.schema import process_instance
from tests.admin.conftest import soup
from tests.admin.samples import waiting_bpmn, waiting_files
from tests.conftest import sign_in

ACCEPT = {"decision": "accept"}


def test_run_fires_timer_when_clock_moves(session, wf):
    steps = [{"action": "complete", "task": "Task_triage", "data": ACCEPT}, {"action": "advance", "days": 1}]
    out = simulation.run(waiting_files(), steps, engine=wf)
    assert out.ok and [t["task"] for t in out.waiting_timers] == ["Timer_wait"]
    assert out.open_tasks == []
    out = simulation.run(waiting_files(), steps + [{"action": "advance", "days": 2}], engine=wf)
    assert [t["task"] for t in out.open_tasks] == ["Task_review"] and out.waiting_timers == []
    out = simulation.run(waiting_files(), steps + [{"action": "advance", "days": 2},
                                                   {"action": "complete", "task": "Task_review", "data": ACCEPT}],
                         engine=wf)
    assert out.status == "completed"
    # nothing reached the real database
    assert session.execute(select(func.count()).select_from(process_instance)).scalar_one() == 0


def test_bad_steps_say_what_is_wrong(wf):
    out = simulation.run(waiting_files(), [{"action": "complete", "task": "Task_triage", "data": {"decision": 3}}],
                         engine=wf)
    assert not out.ok and out.failed_step == 1 and "do not fit the form" in out.error
    out = simulation.run(waiting_files(), [{"action": "complete", "task": "Task_review"}], engine=wf)
    assert "no open task 'Task_review'" in out.error


def test_scenario_blocks_a_version_that_ends_differently(session, wf):
    steps = [{"action": "complete", "task": "Task_triage", "data": ACCEPT}, {"action": "advance", "days": 3}]
    outcome = simulation.run(waiting_files(), steps, engine=wf)
    simulation.save_scenario(session, process_key="followup", name="review after two days", steps=steps,
                             start_data={}, outcome=outcome, actor="alice")
    draft = drafts.create_draft(session, process_key="followup", title="Follow-up",
                                files=waiting_files(wait='"P5D"'), actor="alice", reason=None)
    with pytest.raises(review.ProblemsFound) as exc:
        review.submit(session, draft, actor="alice", reason="wait longer", engine=wf)
    message = exc.value.details["problems"][0]["message"]
    assert "regression scenario 'review after two days' ends differently" in message
    assert "expected instance running with Task_review" in message
    drafts.save_files(session, draft, changes={"bpmn": {"followup.bpmn": waiting_bpmn(wait='"P1D"')}},
                      actor="alice", expected_version=draft.version)
    review.submit(session, draft, actor="alice", reason="wait a day", engine=wf)  # same outcome: passes


def test_simulation_page_steps_and_save(client, session, wf, alice):
    draft = drafts.create_draft(session, process_key="followup", title="Follow-up", files=waiting_files(),
                                actor="alice", reason=None)
    token = sign_in(client, alice)
    page = soup(client.get(f"/admin/drafts/{draft.id}/simulate"))
    assert page.select_one('[data-task="Task_triage"]') is not None
    assert "Monday 05 January 2026" in page.select_one("#sim-now").text
    response = client.post(f"/admin/drafts/{draft.id}/simulate", data={
        "csrf_token": token, "steps": "[]", "start_data": "", "complete": "Task_triage",
        "data-Task_triage": json.dumps({"decision": "maybe"})})
    assert response.status_code == 422
    assert "do not fit the form" in soup(response).select_one(".govuk-error-summary").text
    response = client.post(f"/admin/drafts/{draft.id}/simulate", data={
        "csrf_token": token, "steps": "[]", "start_data": "", "complete": "Task_triage",
        "data-Task_triage": json.dumps(ACCEPT)})
    page = soup(response)
    steps = page.select_one("input[name=steps]")["value"]
    assert "Timer Timer_wait due" in page.select_one("#timers").text
    response = client.post(f"/admin/drafts/{draft.id}/simulate", data={
        "csrf_token": token, "steps": steps, "start_data": "", "action": "advance", "days": "2", "hours": "1"})
    page = soup(response)
    assert page.select_one('[data-task="Task_review"]') is not None
    assert "Wednesday 07 January 2026" in page.select_one("#sim-now").text
    steps = page.select_one("input[name=steps]")["value"]
    response = client.post(f"/admin/drafts/{draft.id}/simulate", data={
        "csrf_token": token, "steps": steps, "start_data": "", "action": "save", "scenario_name": "happy path"})
    assert response.status_code == 302
    page = soup(client.get(f"/admin/drafts/{draft.id}/simulate"))
    assert "happy path" in page.select_one("#scenarios").text
    assert [s.name for s in simulation.scenarios(session, "followup")] == ["happy path"]
