"""Engine test fixtures: a controllable clock, an engine with connectors/hooks, publishing helpers.

Uses the root fixtures ``db_engine`` (schema at Alembic head) and ``connection`` (rolled back per test)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.config import ConnectorRegistry, Hooks
from engine.definitions import load_bundle
from engine.runtime import WorkflowEngine

HERE = Path(__file__).parent
BPMN = HERE / "bpmn"
FORMS = HERE / "forms"
ROLES = {"social_worker", "team_manager"}


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):  # a Monday
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **kw) -> datetime:
        self.value += timedelta(**kw)
        return self.value


class SavepointDB:
    """Stands in for an Engine inside the per-test transaction: each ``begin()`` is a SAVEPOINT."""

    def __init__(self, conn):
        self.conn = conn

    @contextlib.contextmanager
    def begin(self):
        with self.conn.begin_nested():
            yield self.conn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> list:
    return []


@pytest.fixture
def connectors() -> ConnectorRegistry:
    reg = ConnectorRegistry()
    reg.register("nhs.pds_lookup", lambda p: {"nhs_number": p["nhs_number"], "name": "Ada Lovelace"},
                 {"type": "object", "properties": {"nhs_number": {"type": "string", "pattern": "^[0-9]{10}$"}},
                  "required": ["nhs_number"]})
    return reg


@pytest.fixture
def wf_engine(clock, connectors, events) -> WorkflowEngine:
    hooks = Hooks(resolve_team=lambda business_key, role: f"team-{role}" if role else None,
                  on_event=events.append)
    return WorkflowEngine(clock=clock, connectors=connectors, hooks=hooks, known_roles=ROLES)


def bundle(*names: str, dmn: tuple[str, ...] = ()):
    return load_bundle([BPMN / n for n in names], FORMS, [BPMN / d for d in dmn])


@pytest.fixture
def publish(wf_engine, connection):
    def _publish(*names: str, dmn: tuple[str, ...] = (), actor: str = "admin"):
        return wf_engine.publish(connection, bundle(*names, dmn=dmn), actor)

    return _publish


@pytest.fixture
def db(connection) -> SavepointDB:
    return SavepointDB(connection)


def open_items(wf_engine, conn, instance_id):
    return {w["task_spec"]: w for w in wf_engine.work_items_for(conn, instance_id)}


def complete(wf_engine, conn, instance_id, task_spec, data=None, actor="ann"):
    items = [w for w in wf_engine.work_items_for(conn, instance_id) if w["task_spec"] == task_spec]
    assert items, f"no open work item {task_spec}; open: {list(open_items(wf_engine, conn, instance_id))}"
    return wf_engine.complete_task(conn, items[0]["id"], data or {}, actor)

