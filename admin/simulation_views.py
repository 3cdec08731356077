"""Simulate a draft with a simulated clock, and keep simulations as regression scenarios."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for

from admin.common import actor_name, engine
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import drafts, simulation
from casework.configuration.settings import closure_days
from casework.errors import DomainError
from casework.web.context import db_session


def _json_object(text: str, field: str, errors: dict) -> dict:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        errors[field] = f"Not valid JSON: {exc.msg} (line {exc.lineno})"
        return {}
    if not isinstance(value, dict):
        errors[field] = "Enter a JSON object, for example {\"urgent\": true}"
        return {}
    return value


@blueprint.route("/drafts/<int:draft_id>/simulate", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def simulate(draft_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    errors: dict[str, str] = {}
    form = request.form
    start_text = form.get("start_data", "")
    start_data = _json_object(start_text, "start_data", errors)
    try:
        steps = simulation.parse_steps(form.get("steps"))
    except DomainError as exc:
        steps, errors["steps"] = [], exc.message
    status = 200
    if request.method == "POST" and not errors:
        if form.get("complete"):
            task = form["complete"]
            data = _json_object(form.get(f"data-{task}", ""), f"data-{task}", errors)
            if not errors:
                steps.append({"action": "complete", "task": task, "data": data,
                              **({"actor": form["actor"].strip()} if form.get("actor", "").strip() else {})})
        elif form.get("action") == "advance":
            days, hours = form.get("days", "0").strip() or "0", form.get("hours", "0").strip() or "0"
            if not (days.isdigit() and hours.isdigit()) or (days == "0" and hours == "0"):
                errors["days"] = "Enter a whole number of days (and hours) to move the clock forward"
            else:
                steps.append({"action": "advance", "days": int(days), "hours": int(hours)})
        elif form.get("action") == "undo" and steps:
            steps.pop()
        elif form.get("action") == "reset":
            steps = []
    outcome = simulation.run(drafts.files_of(draft), steps, engine=engine(), start_data=start_data,
                             closure_days=closure_days(session))
    if outcome.failed_step is not None and form.get("action") != "save":
        errors["steps"] = outcome.error or "the last step failed"
        steps = steps[: outcome.failed_step - 1]  # keep the steps that worked; the failed one is explained
        outcome = simulation.run(drafts.files_of(draft), steps, engine=engine(), start_data=start_data,
                                 closure_days=closure_days(session))
    elif not outcome.ok:
        errors["steps"] = outcome.error or "the simulation failed"
    if request.method == "POST" and form.get("action") == "save" and not errors:
        try:
            simulation.save_scenario(session, process_key=draft.process_key, name=form.get("scenario_name", ""),
                                     steps=steps, start_data=start_data, outcome=outcome, actor=actor_name())
        except DomainError as exc:
            details = {k: v for k, v in exc.details.items() if isinstance(v, str)}
            errors.update(details or {"scenario_name": exc.message})
        else:
            session.commit()
            flash("Saved the regression scenario: every later version must reach the same outcome")
            return redirect(url_for("admin.simulate", draft_id=draft_id))
    if errors:
        status = 422
    saved = []
    for scenario in simulation.scenarios(session, draft.process_key):
        saved.append({"scenario": scenario, "steps": len(json.loads(scenario.steps_json)),
                      "expected": json.loads(scenario.expected_json)})
    return render_template("admin/simulate.html", title=f"Simulate {draft.title}", draft=draft, steps=steps,
                           steps_json=json.dumps(steps), start_text=start_text, outcome=outcome, errors=errors,
                           saved=saved), status


@blueprint.post("/drafts/<int:draft_id>/scenarios/check")
@requires(Permission.CONFIGURE)
def check_scenarios(draft_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    failures = simulation.check_scenarios(session, draft.process_key, drafts.files_of(draft), engine())
    flash("All regression scenarios pass" if not failures else "; ".join(failures))
    return redirect(url_for("admin.simulate", draft_id=draft_id))


@blueprint.post("/scenarios/<int:scenario_id>/delete")
@requires(Permission.CONFIGURE)
def delete_scenario(scenario_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    draft_id = request.form.get("draft_id", "")
    try:
        simulation.delete_scenario(session, scenario_id, actor=actor_name(), reason=request.form.get("reason"))
    except DomainError:
        session.rollback()
        raise
    session.commit()
    flash("Deleted the regression scenario")
    if draft_id.isdigit():
        return redirect(url_for("admin.simulate", draft_id=int(draft_id)))
    return redirect(url_for("admin.processes"))
