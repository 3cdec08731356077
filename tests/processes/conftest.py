"""Fixtures for the process journeys: the real engine on the test database, a clock the tests move, and a
``Journey`` that drives one instance the way the application does (validate the whole form against its JSON
Schema, then hand the engine only the routing fields the form lists in ``x-routing-fields``)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from casework import processes as casework_processes
from casework import work_routing
from casework.auth.permissions import Role
from casework.engine_host import operation_session
from casework.finance import connectors as finance_connectors
from engine.calendar import WorkingDayCalendar
from engine.config import ConnectorRegistry, Hooks
from engine.definitions import load_bundle
from engine.runtime import WorkflowEngine

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
ROLES = {r.value for r in Role}
TEAM_OF_ROLE = {"practitioner": "cin-east", "team_manager": "cin-east", "head_of_service": "cin-east",
                "finance_officer": "finance"}


def london(y, m, d, hh=9, mm=0) -> datetime:
    """Winter dates only in these tests, so London time is UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime):
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def set(self, value: datetime) -> datetime:
        assert value >= self.value, "the clock only moves forward"
        self.value = value
        return value

    def advance(self, **kw) -> datetime:
        return self.set(self.value + timedelta(**kw))


class SavepointDB:
    """Stands in for an Engine inside the per-test transaction: each ``begin()`` is a SAVEPOINT."""

    def __init__(self, conn):
        self.conn = conn

    @contextlib.contextmanager
    def begin(self):
        with self.conn.begin_nested():
            yield self.conn


def bundle_for(process_key: str):
    """The bundle exactly as ``casework init`` builds it: one BPMN, all DMN files, the whole forms folder."""
    return load_bundle([PROCESSES / f"{process_key}.bpmn"], FORMS, sorted(PROCESSES.glob("*.dmn")))


def form_schema(name: str) -> dict:
    return json.loads((FORMS / f"{name}.schema.json").read_text())


def form_errors(form: str, data: dict) -> dict[str, str]:
    """Field path -> message for every JSON Schema error (what the form page shows)."""
    validator = jsonschema.Draft202012Validator(form_schema(form), format_checker=jsonschema.FormatChecker())
    out = {}
    for err in validator.iter_errors(data):
        path = "/".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            path = "/".join([*map(str, err.absolute_path), err.message.split("'")[1]])
        out.setdefault(path or "(form)", err.message)
    return out


def routing_fields(form: str, data: dict) -> dict:
    """Every field in ``x-routing-fields``, null when not answered (so models can test optional answers)."""
    return {k: data.get(k) for k in form_schema(form).get("x-routing-fields", [])}


class Journey:
    """One process instance driven through the engine's public API."""

    def __init__(self, wf, conn, clock, instance_id: int):
        self.wf, self.conn, self.clock, self.id = wf, conn, clock, instance_id
        self.last = None

    # ------------------------------------------------------------------------------- reading
    def items(self) -> dict[str, dict]:
        return {w["task_spec"]: w for w in self.wf.work_items_for(self.conn, self.id)}

    def open_tasks(self) -> list[str]:
        return sorted(self.items())

    def item(self, task_spec: str) -> dict:
        items = self.items()
        assert task_spec in items, f"no open work item {task_spec!r}; open: {sorted(items)}"
        return items[task_spec]

    def data(self) -> dict:
        return self.wf.get_instance(self.conn, self.id)["data"]

    def status(self) -> str:
        return self.wf.get_instance(self.conn, self.id)["status"]

    def incidents(self) -> list[dict]:
        return self.wf.current_steps(self.conn, self.id)["incidents"]

    def timers(self) -> list[dict]:
        return self.wf.current_steps(self.conn, self.id)["timers"]

    def due(self, task_spec: str):
        value = self.item(task_spec)["due_at"]
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    # ------------------------------------------------------------------------------- acting
    def submit(self, task_spec: str, form_data: dict, actor: str):
        """Validate the whole form (as the web layer does), then complete with the routing fields only."""
        item = self.item(task_spec)
        form = item["form"]
        assert form, f"{task_spec} has no form"
        errors = form_errors(form, form_data)
        assert not errors, f"{task_spec}: invalid test data: {errors}"
        self.last = self.wf.complete_task(self.conn, item["id"], routing_fields(form, form_data), actor,
                                          expected_version=self.wf.work_item(self.conn, item["id"])["instance_version"])
        assert not self.incidents(), [i["message"] for i in self.incidents()]
        return self.last

    def fire_timers(self, at: datetime) -> int:
        self.clock.set(at)
        return self.wf.fire_due_timers(SavepointDB(self.conn), now=at)


@pytest.fixture
def clock() -> Clock:
    return Clock(london(2026, 11, 2))  # a Monday


def connector_registry() -> ConnectorRegistry:
    """The connectors the processes call: casework's finance connectors and casework.start_process (as the
    app registers them)."""
    registry = ConnectorRegistry()
    for name, func in finance_connectors.FUNCTIONS.items():
        registry.register(name, func, finance_connectors.SCHEMAS[name])
    registry.register(casework_processes.START_PROCESS, casework_processes.start_process,
                      casework_processes.START_PROCESS_SCHEMA)
    return registry


def event_listeners(engine: WorkflowEngine) -> list:
    """The casework event listeners the processes rely on (the app registers them at import): agreements
    linked to their payment authorisation, tasks given to the person their ``assignee`` property names."""
    return [finance_connectors.link_requested_agreements,
            lambda event: work_routing.assign_from_model(engine, event),
            lambda event: casework_processes.start_requested_processes(engine, event)]


@pytest.fixture
def wf(clock) -> WorkflowEngine:
    listeners: list = []

    def on_event(event: dict) -> None:
        for listener in listeners:
            listener(event)

    hooks = Hooks(resolve_team=lambda business_key, role: TEAM_OF_ROLE.get(role or ""), on_event=on_event)
    engine = WorkflowEngine(clock=clock, calendar=WorkingDayCalendar(), hooks=hooks, known_roles=ROLES,
                            connectors=connector_registry())
    listeners.extend(event_listeners(engine))
    return engine


@pytest.fixture
def finance_session(session):
    """Connectors and listeners write through the ORM session on the test's connection (the engine's
    transaction), as the app's operation session."""
    with finance_connectors.bound_session(session), operation_session(session):
        yield session


@pytest.fixture
def publish(wf, connection):
    """publish(*process_keys): publish bundled processes (e.g. the ones a referral hands over to)."""

    def _publish(*process_keys: str) -> None:
        for key in process_keys:
            wf.publish(connection, bundle_for(key), "configurator")

    return _publish


@pytest.fixture
def start(wf, connection, clock, finance_session):
    """start(process_key, business_key, **data) -> Journey (publishes the process first)."""

    def _start(process_key: str, business_key: str, **data) -> Journey:
        wf.publish(connection, bundle_for(process_key), "configurator")
        result = wf.start(connection, process_key, business_key, data, "practitioner.one")
        journey = Journey(wf, connection, clock, result.instance_id)
        assert not journey.incidents(), journey.incidents()
        return journey

    return _start
