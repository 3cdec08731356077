"""The application's configured WorkflowEngine: clock, England calendar + council closure days, connectors,
hooks into the case record, and the bundled process definitions.

Engine operations run on the request's own connection (`db_session().connection()`), so the engine's writes
and the case record's writes commit or roll back together: one transaction per use case.
Engine "actor" strings are casework usernames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from casework.auth.permissions import Role
from casework.config import Settings
from engine.calendar import WorkingDayCalendar
from engine.config import ConnectorRegistry, Hooks
from engine.errors import Invalid
from engine.runtime import WorkflowEngine

EXTENSION_KEY = "casework_engine"
_lock = threading.Lock()
# Connectors registered by casework modules at import time: name -> (func, params_schema).
_connectors: dict[str, tuple[Callable[[dict], Any], dict | None]] = {}
# Hooks registered by casework modules (e.g. the case record resolves a work item's team).
_team_resolvers: list[Callable[[str | None, str | None], str | None]] = []
_event_listeners: list[Callable[[dict], None]] = []


# The ORM session of the engine operation in progress, for connectors and hooks (they get only dicts).
_operation_session: ContextVar[Session | None] = ContextVar("casework_operation_session", default=None)


@contextmanager
def operation_session(session: Session) -> Iterator[Session]:
    """Run engine operations outside a request (CLI, demo, worker) with `session` visible to hooks."""
    token = _operation_session.set(session)
    try:
        yield session
    finally:
        _operation_session.reset(token)


def current_session() -> Session:
    """The session whose connection the current engine operation writes on: hooks and connectors write
    through it, so their rows commit or roll back with the engine's."""
    if has_request_context() and "db_session" in g:
        return g.db_session  # the request's unit of work
    session = _operation_session.get()
    if session is not None:
        return session
    raise RuntimeError("no engine operation in progress: run the engine on db_session().connection() in a "
                       "request, or inside casework.engine_host.operation_session(session)")


class SessionPerTransaction:
    """Stands in for an Engine where the engine opens its own transactions (timer firing, incident retries):
    each `begin()` also opens an ORM session on that connection for the hooks and connectors."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
            try:
                with operation_session(session):
                    yield conn
                session.commit()  # releases the savepoint; the outer transaction commits on exit
            finally:
                session.close()


def register_connector(name: str, func: Callable[[dict], Any], params_schema: dict | None = None) -> None:
    _connectors[name] = (func, params_schema)


def register_team_resolver(func: Callable[[str | None, str | None], str | None]) -> None:
    if func not in _team_resolvers:
        _team_resolvers.append(func)


def register_event_listener(func: Callable[[dict], None]) -> None:
    if func not in _event_listeners:
        _event_listeners.append(func)


def system_clock() -> datetime:
    return datetime.now(UTC)


def _resolve_team(business_key: str | None, role: str | None) -> str | None:
    for resolver in _team_resolvers:
        team = resolver(business_key, role)
        if team:
            return team
    return None


def _on_event(event: dict) -> None:
    for listener in _event_listeners:
        listener(event)


class CouncilCalendar(WorkingDayCalendar):
    """England bank holidays + CASEWORK_CLOSURE_DAYS + the closure days configurators keep in the admin
    (council settings), re-read at most every REFRESH_SECONDS so every web and timer worker picks up a change
    within a minute without a restart; `refresh()` makes this process see it at once."""

    REFRESH_SECONDS = 60.0

    def __init__(self, fixed_days: Any, load_days: Callable[[], Any] | None):
        self._load_days = load_days
        self._loaded: frozenset = frozenset()
        self._loaded_at = float("-inf")
        super().__init__(closure_days=fixed_days)  # sets self.closure_days (the fixed part) via the setter

    @property
    def closure_days(self) -> frozenset:  # type: ignore[override]
        if self._load_days is not None and time.monotonic() - self._loaded_at > self.REFRESH_SECONDS:
            self.refresh()
        return self._fixed | self._loaded

    @closure_days.setter
    def closure_days(self, days: frozenset) -> None:
        self._fixed = frozenset(days)

    def refresh(self) -> None:
        try:
            self._loaded = frozenset(self._load_days()) if self._load_days else frozenset()
        except SQLAlchemyError:  # e.g. before `casework init` created the table: bank holidays still apply
            self._loaded = frozenset()
        self._loaded_at = time.monotonic()


def _council_closure_days() -> list:
    from casework.configuration.settings import closure_days
    from casework.extensions import database

    with database.session_scope() as session:
        return closure_days(session)


def build_engine(settings: Settings, clock: Callable[[], datetime] | None = None, *,
                 council_days: bool = True) -> WorkflowEngine:
    registry = ConnectorRegistry()
    for name, (func, schema) in sorted(_connectors.items()):
        registry.register(name, func, schema)
    return WorkflowEngine(
        clock=clock or system_clock,
        calendar=CouncilCalendar(settings.closure_days, _council_closure_days if council_days else None),
        connectors=registry,
        hooks=Hooks(resolve_team=_resolve_team, on_event=_on_event),
        known_roles=[r.value for r in Role],
    )


def get_engine(app: Flask | None = None) -> WorkflowEngine:
    """The app's engine, built once. Tests set app.config['CLOCK'] to a controllable clock first."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get(EXTENSION_KEY)
    if engine is None:
        with _lock:
            engine = app.extensions.get(EXTENSION_KEY)
            if engine is None:
                engine = build_engine(app.config["SETTINGS"], app.config.get("CLOCK"))
                app.extensions[EXTENSION_KEY] = engine
    return engine


def bundle_paths(settings: Settings) -> list[tuple[Path, list[Path]]]:
    """Each top-level BPMN file in processes/ with the DMN files beside it (shared by all processes)."""
    root = Path(settings.processes_dir)
    if not root.is_dir():
        return []
    dmn = sorted(root.glob("*.dmn"))
    return [(path, dmn) for path in sorted(root.glob("*.bpmn"))]


def publish_directory(session: Session, settings: Settings, *, actor: str, engine: WorkflowEngine | None = None
                      ) -> list[str]:
    """Publish every bundled process whose content changed. A model with problems is reported, not published."""
    paths = bundle_paths(settings)
    if not paths:
        return [f"No BPMN files found in {settings.processes_dir}"]
    from engine.definitions import load_bundle

    engine = engine or build_engine(settings, council_days=False)
    conn = session.connection()
    report: list[str] = []
    for bpmn_path, dmn_paths in paths:
        try:
            bundle = load_bundle([bpmn_path], Path(settings.forms_dir), dmn_paths=dmn_paths)
            with session.begin_nested():
                definition = engine.publish(conn, bundle, actor)
        except Invalid as exc:
            problems = exc.problems
            report.append(f"NOT published {bpmn_path.name}: {exc}")
            report.extend(f"    - {p}" for p in problems)
            continue
        report.append(f"Published {definition['process_key']} version {definition['version']} "
                      f"({definition['content_hash'][:12]})")
    return report


def fire_due_timers(app: Flask, *, limit: int) -> int:
    from casework.extensions import database

    assert database.engine is not None
    db = SessionPerTransaction(database.engine)
    engine = get_engine(app)
    fired = engine.fire_due_timers(db, limit=limit, worker_id=f"worker-{threading.get_ident()}")
    engine.retry_due_incidents(db, limit=limit)  # service tasks whose back-off has passed
    return fired
