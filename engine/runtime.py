"""The workflow engine: publish, start, complete, cancel/suspend/resume, views.

Every operation takes a SQLAlchemy ``Connection`` inside a transaction the caller owns and never commits.
Timers, messages, incidents, assignment and migration live in sibling modules and are exposed here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select, update

from engine import assignment, incidents, migration
from engine.calendar import WorkingDayCalendar
from engine.config import ConnectorRegistry, EngineConfig, Hooks, utc_now
from engine.errors import Conflict, Forbidden, Invalid
from engine.execution import InstanceRun, OperationResult
from engine.history import data_diff, instance_history
from engine.hotsql import Hot
from engine.messages import MessageService
from engine.projection import Projector, task_bpmn_id
from engine.schema import incident, message_subscription, process_definition, timer, work_item
from engine.scripting import build_script_engine
from engine.spiff_support import use_clock
from engine.store import (
    SpecCache,
    busy_is_conflict,
    get_definition,
    list_definitions,
    load_instance_row,
    load_item_and_instance,
    store_definition,
)
from engine.timers import TimerService
from engine.worklist import WorklistQueries

ACTIVE = ("running", "error")
_CLOSE_ITEM = Hot(update(work_item).where(work_item.c.id == bindparam("wid"), work_item.c.status == "open")
                  .values(status="closed", completed_by=bindparam("completed_by"),
                          completed_at=bindparam("completed_at")))


def _check_data(data) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Invalid("task data must be a JSON object")
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"task data is not JSON-serializable: {exc}") from None
    bad = [k for k in data if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")]
    if bad:
        raise Invalid(f"invalid field names: {', '.join(map(str, bad))}")
    return data


class WorkflowEngine(WorklistQueries):
    """Configured once per process; thread-safe (no per-operation state on the object)."""

    def __init__(self, *, clock=None, calendar=None, connectors: ConnectorRegistry | None = None,
                 hooks: Hooks | None = None, known_roles=(), unmatched_messages: str = "keep",
                 late_timer_seconds: int = 60, helpers: dict | None = None):
        if unmatched_messages not in ("keep", "reject"):
            raise ValueError("unmatched_messages must be 'keep' or 'reject'")
        self.config = EngineConfig(clock=clock or utc_now, calendar=calendar or WorkingDayCalendar(),
                                   connectors=connectors or ConnectorRegistry(), hooks=hooks or Hooks(),
                                   known_roles=tuple(known_roles), unmatched_messages=unmatched_messages,
                                   late_timer_seconds=late_timer_seconds)
        self.calendar = self.config.calendar
        self.script_engine = build_script_engine(helpers or {}, self.now, self.calendar, self.config.connectors)
        self.specs = SpecCache()
        self.projector = Projector(self)
        self.messages = MessageService(self)
        self.timers = TimerService(self)

    # ----------------------------------------------------------------------------------------- clock
    def now(self) -> datetime:
        value = self.config.clock()
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # ----------------------------------------------------------------------------------- definitions
    @busy_is_conflict
    def publish(self, conn, bundle, actor: str) -> dict:
        """Validate a :class:`engine.definitions.ProcessBundle` and store it as the next immutable version of
        its main process; returns the definition row. Identical content again returns the latest version.
        Raises Invalid (with ``problems``) if validation reports any error."""
        from engine.definitions import validate_bundle
        from engine.problems import errors

        problems = errors(validate_bundle(bundle, known_roles=set(self.config.known_roles),
                                          connectors=self.config.connectors.names()))
        if problems or bundle.spec is None:
            raise Invalid(f"{bundle.process_key or 'bundle'}: {len(problems)} problem(s); not published",
                          problems=problems)
        now = self.now()
        text = bundle.as_text()
        forms = {name: {"schema": f.schema, "uischema": f.uischema} for name, f in bundle.forms.items()}
        definition = store_definition(
            conn, process_key=bundle.process_key, name=bundle.name, bpmn=text["bpmn"], dmn=text["dmn"],
            forms=forms, digest=bundle.content_hash, spec=bundle.spec,
            subprocess_specs=bundle.main_subprocess_specs, actor=actor, now=now)
        self.messages.register_start_events(conn, definition, bundle.spec, now)
        return definition

    def definitions(self, conn, process_key: str | None = None) -> list[dict]:
        return list_definitions(conn, process_key)

    def definition(self, conn, process_key: str, version: int | None = None) -> dict:
        return get_definition(conn, process_key, version)

    # ------------------------------------------------------------------------------------- instances
    @busy_is_conflict
    def start(self, conn, process_key: str, business_key: str | None = None, data: dict | None = None,
              actor: str | None = None, version: int | None = None) -> OperationResult:
        data = _check_data(data)
        definition = get_definition(conn, process_key, version)
        return self._start_definition(conn, definition, business_key, data, actor)

    def _start_definition(self, conn, definition, business_key, data, actor) -> OperationResult:
        spec, subs = self.specs.get(conn, definition["content_hash"])
        now = self.now()
        with use_clock(lambda: now):
            workflow = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data)
        row = {"id": None, "business_key": business_key, "status": "running", "version": 1,
               "ended_at": None, "content_hash": definition["content_hash"],
               "definition_id": definition["id"], "definition_version": definition["version"],
               "process_key": definition["process_key"]}
        run = InstanceRun(self, conn, row, workflow, actor, fresh=True)
        run.definition = definition
        run.event("instance_started", data={"process_key": definition["process_key"],
                                            "version": definition["version"], "data": data})
        run.run()
        return run.save()

    def load(self, conn, instance_id: int, actor: str | None = None, *, lock: bool = True) -> InstanceRun:
        return InstanceRun.load(self, conn, instance_id, actor, lock=lock)

    @busy_is_conflict
    def complete_task(self, conn, work_item_id: int, data: dict | None, actor: str,
                      expected_version: int | None = None) -> OperationResult:
        """Complete a READY human task. Concurrent or stale completions get Conflict (never applied twice)."""
        data = _check_data(data)
        item, row = load_item_and_instance(conn, work_item_id)
        if item["status"] != "open":
            raise Conflict(f"work item {work_item_id} is {item['status']}, not open")
        if item["assignee"] is not None and item["assignee"] != actor:
            raise Forbidden(f"task {work_item_id} is assigned to someone else")
        if item["assignee"] is None:
            assignment.check_candidate(item, actor)
        self._check_active(row)
        run = InstanceRun.load(self, conn, row["id"], actor, row=row)
        if expected_version is not None and run.row["version"] != expected_version:
            raise Conflict(f"process instance {run.row['id']} has changed (version {run.row['version']}, "
                           f"expected {expected_version}); reload and try again")
        task = run.workflow.tasks.get(UUID(item["task_id"])) or next(
            (sp.tasks[UUID(item["task_id"])] for sp in run.workflow.subprocesses.values()
             if UUID(item["task_id"]) in sp.tasks), None)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict(f"task {work_item_id} is not ready to be completed")
        assignment.check_four_eyes(conn, run.row["id"], task.task_spec, actor)
        before = dict(task.data)
        task.set_data(**data)
        closed = _CLOSE_ITEM.rowcount(conn, {"wid": work_item_id, "completed_by": actor, "completed_at": run.now})
        if closed != 1:
            raise Conflict(f"task {work_item_id} was completed by someone else")
        run.closed[item["task_id"]] = actor
        run.event("task_completed", task, data={"work_item_id": work_item_id, "diff": data_diff(before, task.data)})
        with run.clocked():
            try:
                task.run()
            except Exception as exc:  # noqa: BLE001 - a failing post-script becomes an incident
                run._incident_from(exc)
        run.run()
        return run.save()

    @staticmethod
    def _check_active(row) -> None:
        if row["status"] == "suspended":
            raise Conflict(f"process instance {row['id']} is suspended")
        if row["status"] not in ACTIVE:
            raise Conflict(f"process instance {row['id']} is {row['status']}")

    @busy_is_conflict
    def cancel(self, conn, instance_id: int, actor: str, reason: str | None = None) -> OperationResult:
        run = self.load(conn, instance_id, actor)
        if run.row["status"] in ("completed", "cancelled"):
            raise Conflict(f"process instance {instance_id} is already {run.row['status']}")
        with run.clocked():
            run.workflow.cancel()
        run.row["status"] = "cancelled"
        run.event("instance_cancelled", data={"reason": reason} if reason else None)
        conn.execute(update(incident).where(incident.c.instance_id == instance_id, incident.c.status == "open")
                     .values(status="cancelled", resolved_at=run.now, resolved_by=actor))
        return run.save()

    @busy_is_conflict
    def suspend(self, conn, instance_id: int, actor: str) -> OperationResult:
        run = self.load(conn, instance_id, actor)
        self._check_active(run.row)
        run.row["status"] = "suspended"
        run.event("instance_suspended")
        return run.save()

    @busy_is_conflict
    def resume(self, conn, instance_id: int, actor: str) -> OperationResult:
        run = self.load(conn, instance_id, actor)
        if run.row["status"] != "suspended":
            raise Conflict(f"process instance {instance_id} is not suspended")
        run.row["status"] = "running"
        run.drain_all = True
        run.event("instance_resumed")
        return run.save()

    # ------------------------------------------------------------------------------------------ views
    def get_instance(self, conn, instance_id: int) -> dict:
        run = self.load(conn, instance_id, lock=False)
        wf = run.workflow
        live = [t for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
        data = dict(wf.data) if wf.is_completed() else (dict(live[-1].data) if live else dict(wf.data))
        row = run.row
        return {
            "id": row["id"], "process_key": row["process_key"], "definition_id": row["definition_id"],
            "definition_version": row["definition_version"], "business_key": row["business_key"],
            "status": row["status"], "version": row["version"], "started_at": row["started_at"],
            "ended_at": row["ended_at"], "started_by": row["started_by"], "data": data,
            "waiting": [{"task_id": str(t.id), "task_spec": task_bpmn_id(t.task_spec),
                         "state": TaskState.get_name(t.state)} for t in live],
        }

    def current_steps(self, conn, instance_id: int) -> dict:
        """Open work items, waiting timers, message subscriptions and open incidents (no deserialize)."""
        load_instance_row(conn, instance_id)
        rows = {}
        for name, table, cond in (
                ("work_items", work_item, work_item.c.status == "open"),
                ("timers", timer, timer.c.status == "waiting"),
                ("messages", message_subscription, message_subscription.c.kind == "catch"),
                ("incidents", incident, incident.c.status == "open")):
            rows[name] = [dict(r) for r in conn.execute(
                select(table).where(table.c.instance_id == instance_id, cond).order_by(table.c.id)).mappings()]
        return rows

    def history(self, conn, instance_id: int) -> list[dict]:
        load_instance_row(conn, instance_id)
        return instance_history(conn, instance_id)

    # ------------------------------------------------------------------------------- delegated parts
    @busy_is_conflict
    def claim(self, conn, work_item_id: int, actor: str) -> dict:
        return assignment.claim(self, conn, work_item_id, actor)

    @busy_is_conflict
    def unclaim(self, conn, work_item_id: int, actor: str) -> dict:
        return assignment.unclaim(self, conn, work_item_id, actor)

    @busy_is_conflict
    def reassign(self, conn, work_item_id: int, to_user: str, actor: str) -> dict:
        return assignment.reassign(self, conn, work_item_id, to_user, actor)

    @busy_is_conflict
    def delegate(self, conn, work_item_id: int, to_user: str, actor: str) -> dict:
        return assignment.delegate(self, conn, work_item_id, to_user, actor)

    def fire_due_timers(self, db, *, now: datetime | None = None, limit: int = 1000,
                        worker_id: str = "worker") -> int:
        return self.timers.fire_due(db, now=now, limit=limit, worker_id=worker_id)

    @busy_is_conflict
    def deliver_message(self, conn, name: str, correlation_key: str | None, payload: dict | None = None,
                        actor: str | None = None) -> list[OperationResult]:
        return self.messages.deliver(conn, name, correlation_key or "", _check_data(payload), actor)

    @busy_is_conflict
    def retry_incident(self, conn, incident_id: int, actor: str) -> OperationResult:
        return incidents.retry(self, conn, incident_id, actor)

    @busy_is_conflict
    def skip_incident(self, conn, incident_id: int, actor: str, data: dict | None = None) -> OperationResult:
        return incidents.skip(self, conn, incident_id, actor, _check_data(data))

    def retry_due_incidents(self, db, *, now: datetime | None = None, limit: int = 100) -> int:
        return incidents.retry_due(self, db, now=now, limit=limit)

    def check_migration(self, conn, instance_id: int, to_version: int) -> list[str]:
        return migration.check(self, conn, instance_id, to_version)

    @busy_is_conflict
    def migrate(self, conn, instance_id: int, to_version: int, actor: str) -> OperationResult:
        return migration.migrate(self, conn, instance_id, to_version, actor)


__all__ = ["WorkflowEngine", "OperationResult", "ConnectorRegistry", "Hooks", "process_definition"]
