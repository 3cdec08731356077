"""Simulation before publishing: run a draft in a throw-away in-memory database with a simulated clock.

A simulation is a list of steps replayed from the start every time (stateless, deterministic):
``{"action": "complete", "task": "<task id>", "data": {...}, "actor": "<optional name>"}`` or
``{"action": "advance", "days": n, "hours": h}`` (time moves one day at a time; due timers fire on the way).
Nothing touches the real database: no cases, no work items, no history. Connectors are replaced by stubs that
record their calls and return ``{}``. Saved as a **regression scenario** (``process_scenario``) with the outcome
it reached, a simulation must still reach that outcome before a later version can be submitted or published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import jsonschema
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from casework.configuration import bundles
from casework.configuration.changes import record
from casework.configuration.models import ProcessScenario
from casework.db import utcnow
from casework.errors import Invalid, NotFound
from engine.calendar import WorkingDayCalendar
from engine.config import ConnectorRegistry
from engine.errors import EngineError
from engine.runtime import WorkflowEngine
from engine.schema import history_event, metadata, process_instance, timer, work_item

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
MAX_STEPS = 200
MAX_DAYS = 3660


@dataclass
class Outcome:
    """Where a simulation got to; ``summary()`` is what a regression scenario compares."""

    ok: bool = True
    error: str | None = None
    now: datetime = START
    status: str | None = None
    open_tasks: list[dict] = field(default_factory=list)
    waiting_timers: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    connector_calls: list[dict] = field(default_factory=list)
    failed_step: int | None = None

    def summary(self) -> dict:
        return {"status": self.status, "open_tasks": sorted(t["task"] for t in self.open_tasks),
                "waiting_timers": sorted(t["task"] for t in self.waiting_timers)}


def parse_steps(text: str | None) -> list[dict]:
    if not text:
        return []
    try:
        steps = json.loads(text)
    except json.JSONDecodeError:
        raise Invalid("The simulation steps are not valid JSON") from None
    if not isinstance(steps, list) or len(steps) > MAX_STEPS or not all(isinstance(s, dict) for s in steps):
        raise Invalid(f"The simulation steps must be a list of at most {MAX_STEPS} steps")
    return steps


def _connectors(real_names: set[str], calls: list[dict]) -> ConnectorRegistry:
    registry = ConnectorRegistry()
    for name in sorted(real_names):
        def stub(params, _name=name):
            calls.append({"connector": _name, "params": params})
            return {}
        registry.register(name, stub, None)
    return registry


def _form_errors(bundle, form_value: str | None, data: dict) -> list[str]:
    name = bundle.resolve_form(form_value)
    if name is None:
        return []
    validator = jsonschema.Draft202012Validator(bundle.forms[name].schema)
    return [f"{'/'.join(str(p) for p in e.path) or 'form'}: {e.message}" for e in validator.iter_errors(data)][:10]


def run(files: bundles.Files, steps: list[dict], *, engine, start_data: dict | None = None,
        closure_days: list[date] = ()) -> Outcome:
    """Replay ``steps`` on a fresh sandbox; never raises for what the model or the steps do."""
    out = Outcome()
    check = bundles.check_files(files, engine)
    if not check.ok:
        out.ok, out.error = False, f"the draft has {len(check.errors)} problem(s); fix them before simulating"
        return out
    bundle = check.bundle
    clock = {"now": START}
    db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    metadata.create_all(db)
    wf = WorkflowEngine(clock=lambda: clock["now"], calendar=WorkingDayCalendar(closure_days=closure_days),
                        connectors=_connectors(engine.config.connectors.names(), out.connector_calls),
                        known_roles=engine.config.known_roles)
    try:
        with db.begin() as conn:
            wf.publish(conn, bundle, "simulation")
            wf.start(conn, bundle.process_key, "SIMULATION", data=start_data or {}, actor="simulation")
        for n, step in enumerate(steps, start=1):
            message = _step(wf, db, bundle, clock, step, n)
            if message:
                out.ok, out.error, out.failed_step = False, f"step {n}: {message}", n
                break
    except EngineError as exc:
        out.ok, out.error = False, f"the engine stopped: {exc}"
    _observe(db, out)
    out.now = clock["now"]
    db.dispose()
    return out


def _step(wf, db, bundle, clock, step: dict, n: int) -> str | None:
    action = step.get("action")
    if action == "advance":
        try:
            days, hours = int(step.get("days") or 0), int(step.get("hours") or 0)
        except (TypeError, ValueError):
            return "days and hours must be whole numbers"
        if days < 0 or hours < 0 or days > MAX_DAYS:
            return f"advance between 0 and {MAX_DAYS} days"
        target = clock["now"] + timedelta(days=days, hours=hours)
        while clock["now"] < target:
            clock["now"] = min(target, clock["now"] + timedelta(days=1))
            wf.fire_due_timers(db, now=clock["now"])
        return None
    if action == "complete":
        task = str(step.get("task") or "")
        data = step.get("data") or {}
        if not isinstance(data, dict):
            return "the answers must be a JSON object"
        with db.begin() as conn:
            item = conn.execute(select(work_item).where(work_item.c.task_spec == task, work_item.c.status == "open")
                                .order_by(work_item.c.id)).mappings().first()
            if item is None:
                return f"there is no open task {task!r} to complete"
            problems = _form_errors(bundle, item["form"], data)
            if problems:
                return f"the answers do not fit the form of {task}: " + "; ".join(problems)
            try:
                wf.complete_task(conn, item["id"], data, actor=str(step.get("actor") or f"person-{n}"))
            except EngineError as exc:
                return str(exc)
        return None
    return f"unknown action {action!r}"


def _observe(db, out: Outcome) -> None:
    with db.connect() as conn:
        main = conn.execute(select(process_instance.c.status).where(process_instance.c.parent_instance_id.is_(None))
                            .order_by(process_instance.c.id)).first()
        out.status = main.status if main else None
        out.open_tasks = [{"task": r.task_spec, "title": r.title, "role": r.role, "form": r.form,
                           "due_at": r.due_at} for r in conn.execute(
            select(work_item).where(work_item.c.status == "open").order_by(work_item.c.id))]
        out.waiting_timers = [{"task": r.task_spec, "due_at": r.due_at} for r in conn.execute(
            select(timer).where(timer.c.status == "waiting").order_by(timer.c.due_at))]
        out.events = [{"at": r.at, "event": r.event_type.replace("_", " "), "task": r.task_spec,
                       "title": r.task_title, "actor": r.actor} for r in conn.execute(
            select(history_event).order_by(history_event.c.id))]


# ------------------------------------------------------------------------------------------ regression scenarios
def save_scenario(session: Session, *, process_key: str, name: str, steps: list[dict], start_data: dict,
                  outcome: Outcome, actor: str) -> ProcessScenario:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise Invalid("Name the scenario", details={"scenario_name": "Enter a name of up to 200 characters"})
    if not outcome.ok:
        raise Invalid("Only a simulation that ran to the end can be saved",
                      details={"scenario_name": outcome.error or "the simulation failed"})
    scenario = ProcessScenario(process_key=process_key, name=name, steps_json=json.dumps(steps),
                               start_data_json=json.dumps(start_data), expected_json=json.dumps(outcome.summary()),
                               created_by=actor, created_at=utcnow())
    session.add(scenario)
    session.flush()
    record(session, process_key=process_key, action="scenario_saved", actor=actor, reason=name,
           details={"scenario": scenario.id, "expected": outcome.summary()})
    return scenario


def scenarios(session: Session, process_key: str) -> list[ProcessScenario]:
    return list(session.scalars(select(ProcessScenario).where(ProcessScenario.process_key == process_key)
                                .order_by(ProcessScenario.id)))


def delete_scenario(session: Session, scenario_id: int, *, actor: str, reason: str | None) -> None:
    scenario = session.get(ProcessScenario, scenario_id)
    if scenario is None:
        raise NotFound(f"Scenario {scenario_id} does not exist")
    record(session, process_key=scenario.process_key, action="scenario_deleted", actor=actor, reason=reason,
           details={"scenario": scenario.id, "name": scenario.name})
    session.delete(scenario)
    session.flush()


def check_scenarios(session: Session, process_key: str, files: bundles.Files, engine) -> list[str]:
    """One message per regression scenario that does not reach its saved outcome on ``files``."""
    from casework.configuration.settings import closure_days

    days = closure_days(session)
    failures = []
    for scenario in scenarios(session, process_key):
        outcome = run(files, json.loads(scenario.steps_json), engine=engine,
                      start_data=json.loads(scenario.start_data_json), closure_days=days)
        expected = json.loads(scenario.expected_json)
        if not outcome.ok:
            failures.append(f"regression scenario '{scenario.name}' no longer runs: {outcome.error}")
        elif outcome.summary() != expected:
            failures.append(f"regression scenario '{scenario.name}' ends differently: expected {_words(expected)}, "
                            f"got {_words(outcome.summary())}")
    return failures


def _words(summary: dict) -> str:
    tasks = ", ".join(summary["open_tasks"]) or "no open tasks"
    return f"instance {summary['status']} with {tasks}"
