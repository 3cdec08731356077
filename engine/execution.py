"""One operation on one instance: load -> change -> run until it waits -> prune -> save + projections.

Failures while running (script errors, sandbox violations, connector failures) do not abort the operation:
the failing task is left in ERROR, an incident row is written, the instance goes to status ``error`` and the
rest (the user's completion, other branches) is saved. Nothing is lost; the incident can be retried/skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update

from engine.errors import EngineError, ScriptError
from engine.history import EventBuffer, data_diff
from engine.projection import task_bpmn_id, task_title
from engine.pruning import prune
from engine.schema import incident, timer
from engine.scripting import ConnectorFailure
from engine.spiff_support import dump_state, load_state, use_clock
from engine.store import insert_instance, load_instance_row, save_instance

LIVE_STATUSES = ("running", "error", "suspended")
RECORDED_TYPES = ("ScriptTask", "ServiceTask", "BusinessRuleTask", "CallActivity", "SubWorkflowTask",
                  "TransactionSubprocess", "SendTask", "ReceiveTask", "StartEvent", "EndEvent",
                  "IntermediateCatchEvent", "IntermediateThrowEvent", "BoundaryEvent")
DATA_DIFF_TYPES = ("ScriptTask", "ServiceTask", "BusinessRuleTask")


@dataclass
class OperationResult:
    instance_id: int
    status: str
    version: int
    work_items: list[dict] = field(default_factory=list)  # work items opened by this operation
    incidents: list[int] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)  # history rows written (dispatch after commit)
    completed: bool = False


MAX_EXTRA_PASSES = 20


class InstanceRun:
    def __init__(self, engine, conn, row: dict, workflow: BpmnWorkflow | None, actor: str | None, *,
                 fresh: bool = False):
        self.engine = engine
        self.conn = conn
        self.row = row
        self.workflow = workflow
        self.actor = actor
        self.now = engine.now()
        self.spiff_now = self.now  # what SpiffWorkflow's timers see as "now" (timer firing moves it)
        self.attempts = 1  # attempt number of a failure incident opened by this run
        self.events = EventBuffer(engine.config.hooks)
        self.incidents: list[int] = []
        self.closed: dict[str, str] = {}
        self.definition: dict | None = None  # set for a new instance (inserted on save)
        self.drain_all = False  # resume: deliver kept messages to existing subscriptions too
        live = not fresh and row.get("status") in LIVE_STATUSES
        self.before = engine.projector.snapshot(row, workflow if live else None)

    # ------------------------------------------------------------------------------------- loading
    @classmethod
    def load(cls, engine, conn, instance_id: int, actor: str | None, *, lock: bool = True, row=None):
        if row is None:
            row = load_instance_row(conn, instance_id, lock=lock)
        spec, subs = engine.specs.get(conn, row["content_hash"])
        workflow = load_state(row["state"], spec, subs, engine.script_engine)
        return cls(engine, conn, row, workflow, actor)

    # ------------------------------------------------------------------------------------- history
    def event(self, event_type: str, task=None, data=None, actor=None, **kw) -> None:
        if task is not None:
            kw.setdefault("task_id", task.id)
            kw.setdefault("task_spec", task_bpmn_id(task.task_spec))
            kw.setdefault("task_title", task_title(task.task_spec)[:300])
        self.events.add(instance_id=self.row["id"], business_key=self.row["business_key"],
                        event_type=event_type, at=self.now, actor=actor if actor is not None else self.actor,
                        data=data, **kw)

    def clocked(self):
        """Context in which SpiffWorkflow's timers read this operation's clock."""
        return use_clock(lambda: self.spiff_now)

    # --------------------------------------------------------------------------------- run engine
    def run(self) -> None:
        """do_engine_steps with history of automatic steps and incident capture."""
        before: dict = {}

        def will_complete(task):
            if type(task.task_spec).__name__ in DATA_DIFF_TYPES:
                before[task.id] = dict(task.data)

        def did_complete(task):
            kind = type(task.task_spec).__name__
            if kind in RECORDED_TYPES and task.has_state(TaskState.COMPLETED):
                diff = data_diff(before.pop(task.id), task.data) if task.id in before else None
                self.event("step_completed", task, data={"type": kind, "diff": diff} if diff else
                           {"type": kind}, actor="engine")

        with use_clock(lambda: self.spiff_now):
            try:
                self.workflow.do_engine_steps(will_complete, did_complete)
                # do_engine_steps ends with refresh_timers(), which can make another due timer READY without
                # running it (e.g. two escalations due at once in sibling subprocesses): run those too.
                for _ in range(MAX_EXTRA_PASSES):
                    if not self._ready_automatic():
                        break
                    self.workflow.do_engine_steps(will_complete, did_complete)
            except Exception as exc:  # noqa: BLE001 - every failure becomes an incident
                self._incident_from(exc)

    def _ready_automatic(self) -> bool:
        return any(not t.task_spec.manual
                   for wf in (self.workflow, *self.workflow.subprocesses.values())
                   for t in wf.get_tasks(state=TaskState.READY))

    def _incident_from(self, exc: Exception) -> None:
        failed = [t for t in self.workflow.get_tasks(state=TaskState.ERROR)]
        task = failed[0] if failed else getattr(exc, "task", None)
        element = getattr(exc, "element_id", None)
        if task is None and element:  # e.g. a timer expression failing while the event is being set up
            task = next((t for t in self.workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK)
                         if task_bpmn_id(t.task_spec) == element), None)
        root = exc
        while getattr(root, "__cause__", None) is not None and not isinstance(root, ConnectorFailure | ScriptError):
            root = root.__cause__
        original = getattr(exc, "exception", None)
        if isinstance(original, ConnectorFailure | ScriptError):
            root = original
        kind = "connector" if isinstance(root, ConnectorFailure) else (
            "script" if isinstance(root, ScriptError) or "script" in type(exc).__name__.lower()
            or "Task" in type(exc).__name__ else "engine")
        message = str(exc) if not isinstance(root, ConnectorFailure | ScriptError) else str(root)
        if isinstance(exc, EngineError) and not message:
            message = exc.message
        retries, backoff = 0, 0
        if kind == "connector" and task is not None:
            connector = self.engine.config.connectors.get(getattr(task.task_spec, "operation_name", None))
            spec_retries = getattr(task.task_spec, "retries", None)
            spec_backoff = getattr(task.task_spec, "retry_backoff_base", None)
            retries = spec_retries if spec_retries is not None else (connector.retries if connector else 0)
            backoff = spec_backoff if spec_backoff is not None else (connector.backoff_seconds if connector else 30)
        self.open_incident(task, kind, message[:4000], retries=retries, backoff=backoff, attempts=self.attempts)

    def ensure_row(self) -> None:
        """A new instance is inserted when it is saved; insert it early when a row must point at it."""
        if self.row["id"] is None:
            self.row["id"] = insert_instance(self.conn, definition=self.definition,
                                             business_key=self.row["business_key"], state="{}", status="running",
                                             actor=self.actor, now=self.now)

    def open_incident(self, task, kind: str, message: str, *, retries: int = 0, backoff: int = 0,
                      attempts: int = 1) -> int:
        self.ensure_row()
        auto = attempts <= retries
        next_retry = self.now + timedelta(seconds=backoff * (2 ** (attempts - 1))) if auto else None
        inc_id = self.conn.execute(insert(incident).values(
            instance_id=self.row["id"], task_id=str(task.id) if task is not None else None,
            task_spec=task_bpmn_id(task.task_spec) if task is not None else None, kind=kind, message=message,
            attempts=attempts, status="open", auto_retry=auto, next_retry_at=next_retry, created_at=self.now,
        ).returning(incident.c.id)).scalar_one()
        self.incidents.append(inc_id)
        self.event("incident_opened", task, data={"incident_id": inc_id, "kind": kind, "message": message,
                                                  "attempts": attempts, "next_retry_at": next_retry})
        return inc_id

    def has_open_incidents(self) -> bool:
        if self.row["status"] not in ("error", "suspended"):  # open incidents put an instance in error
            return False
        return self.conn.execute(select(incident.c.id).where(incident.c.instance_id == self.row["id"],
                                                             incident.c.status == "open").limit(1)).first() \
            is not None

    # ---------------------------------------------------------------------------------------- save
    def status(self) -> str:
        if self.row["status"] in ("cancelled",):
            return self.row["status"]
        if self.workflow.is_completed():
            return "completed"
        if self.row["status"] == "suspended":
            return "suspended"
        if self.incidents or self.has_open_incidents():
            return "error"
        return "running"

    def save(self, *, definition_id: int | None = None) -> OperationResult:
        if self.row["status"] != "cancelled" and not self.workflow.is_completed():
            self.engine.messages.drain_pending(self)
        self._record_inline_timers()
        thrown = self.engine.messages.collect_thrown(self)  # sent to other instances once this one is saved
        prune(self.workflow)
        status = self.status()
        was_completed = self.row["status"] == "completed"
        if status == "completed" and not was_completed:
            self.event("instance_completed", data=None, actor="engine")
        state = dump_state(self.workflow)
        if self.row["id"] is None:  # a new instance: one INSERT with its first state
            self.row["id"] = insert_instance(self.conn, definition=self.definition,
                                             business_key=self.row["business_key"], state=state, status=status,
                                             actor=self.actor, now=self.now)
            version = 1
        else:
            version = save_instance(self.conn, self.row, state=state, status=status, now=self.now,
                                    definition_id=definition_id)
        result = self.finish(status, version)
        self.engine.messages.deliver_thrown(self, thrown)
        return result

    def _find(self, task_id: str):
        uid = UUID(task_id)
        for wf in (self.workflow, *self.workflow.subprocesses.values()):
            if uid in wf.tasks:
                return wf.tasks[uid]
        return None

    def _record_inline_timers(self) -> None:
        """SpiffWorkflow fires every due timer whenever it runs (``refresh_timers``), not only the one a
        worker claimed: record those firings (timer row ``fired``, history) instead of calling them cancelled."""
        late_limit = self.engine.config.late_timer_seconds * 1000
        for tid, (due, _spec) in list(self.before.timers.items()):
            task = self._find(tid)
            if task is None or not task.has_state(TaskState.COMPLETED | TaskState.READY):
                continue
            late_ms = max(0, int((self.spiff_now - due).total_seconds() * 1000))
            self.conn.execute(update(timer).where(timer.c.instance_id == self.row["id"], timer.c.task_id == tid,
                                                  timer.c.status == "waiting")
                              .values(status="fired", fired_at=self.now, late_ms=late_ms, claimed_by=self.actor,
                                      claimed_at=self.now))
            del self.before.timers[tid]
            self.event("timer_fired_late" if late_ms > late_limit else "timer_fired", task,
                       data={"due_at": due, "late_ms": late_ms, "worker": None}, actor="timer")

    def finish(self, status: str, version: int) -> OperationResult:
        problems: list[dict] = []
        new_items = self.engine.projector.sync(self.conn, self.row, self.before,
                                               self.workflow if status != "cancelled" else None, self.now,
                                               closed=self.closed, problems=problems)
        for problem in problems:  # e.g. a dueDate expression that failed: the work item exists without it
            self.event("work_item_property_failed", data=problem, actor="engine")
        events = self.events.flush(self.conn, self.row["id"])
        self.row["version"] = version
        self.row["status"] = status
        return OperationResult(instance_id=self.row["id"], status=status, version=version, work_items=new_items,
                               incidents=list(self.incidents), events=events, completed=status == "completed")
