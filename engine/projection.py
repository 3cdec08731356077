"""Keep work_item, timer and message_subscription exactly in step with an instance after every operation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, update

from engine.hotsql import Hot
from engine.schema import message_subscription, timer, work_item

_INSERT_ITEMS = Hot(insert(work_item).returning(work_item.c.id, sort_by_parameter_order=True))
_INSERT_TIMERS = Hot(insert(timer).inline())

# spiffworkflow:properties names (see docs/engine.md "BPMN conventions")
PROP_FORM = "formJsonSchemaFilename"
PROP_DUE = "dueDate"
PROP_PRIORITY = "priority"
PROP_FOUR_EYES = "fourEyesExcludeTask"
PROP_ROLE = "role"
PROP_CORRELATION = "correlationKey"
PROP_CANDIDATES = "candidateUsers"


def task_properties(task_spec) -> dict:
    ext = getattr(task_spec, "extensions", None) or {}
    return ext.get("properties") or {}


def form_name(value: str | None) -> str | None:
    """``referral``, ``referral.schema.json`` or ``forms/referral.schema.json`` -> ``referral``."""
    if not value:
        return None
    name = value.strip().rsplit("/", 1)[-1]
    for suffix in (".schema.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def task_title(task_spec) -> str:
    return getattr(task_spec, "bpmn_name", None) or getattr(task_spec, "bpmn_id", None) or task_spec.name


def task_bpmn_id(task_spec) -> str:
    return getattr(task_spec, "bpmn_id", None) or task_spec.name


def four_eyes_tasks(task_spec) -> list[str]:
    raw = task_properties(task_spec).get(PROP_FOUR_EYES) or ""
    return [p.strip() for p in raw.split(",") if p.strip()]


def to_utc(value) -> datetime | None:
    """Due dates: datetime (naive = UTC), date (end of that day, 23:59:59 UTC) or ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), UTC)
    raise ValueError(f"not a date: {value!r}")


def ready_human_tasks(workflow) -> list:
    return [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)]


def waiting_catches(workflow):
    return list(workflow.event_manager.tasks.values())


def event_definitions(task) -> list:
    """The event definitions a waiting task listens for (an event-based gateway listens for several)."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def timer_due(task) -> datetime | None:
    timers = [d for d in event_definitions(task) if isinstance(d, TimerEventDefinition)]
    if not timers:
        return None
    definition = timers[0]
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition) or isinstance(value, dict):
        if value.get("cycles") == 0:
            return None
        return to_utc(value["next"])
    try:
        return to_utc(TimerEventDefinition.parse_time_or_duration(value))
    except Exception:  # noqa: BLE001 - a duration value is resolved by Spiff into an ISO datetime
        return None


@dataclass
class Snapshot:
    ready: dict = field(default_factory=dict)  # task id -> READY human task
    timers: dict = field(default_factory=dict)  # task id -> (due_at, task spec)
    subs: set = field(default_factory=set)  # (message name, correlation key, task id)


class Projector:
    """Computes work item fields (sandboxed expressions) and syncs the projection tables."""

    def __init__(self, engine):
        self.engine = engine

    # --------------------------------------------------------------------------------- work items
    def _eval_prop(self, task, expression):
        return task.workflow.script_engine.evaluate(task, expression)

    def _safe(self, task, prop, expression, convert, problems):
        try:
            return convert(self._eval_prop(task, expression))
        except Exception as exc:  # noqa: BLE001 - a bad property must not block the step; it is recorded
            problems.append({"task_id": str(task.id), "task_spec": task_bpmn_id(task.task_spec),
                             "property": prop, "message": str(exc)[:500]})
            return None

    def work_item_values(self, task, row, problems: list) -> dict:
        spec = task.task_spec
        props = task_properties(spec)
        role = props.get(PROP_ROLE) or getattr(spec, "lane", None)
        team = None
        hooks = self.engine.config.hooks
        if hooks.resolve_team is not None:
            team = hooks.resolve_team(row["business_key"], role)
        due = props.get(PROP_DUE)
        priority = props.get(PROP_PRIORITY)
        due_at = self._safe(task, PROP_DUE, due, to_utc, problems) if due else None
        if priority in (None, ""):
            prio = 0
        elif str(priority).lstrip("-").isdigit():
            prio = int(priority)
        else:
            prio = self._safe(task, PROP_PRIORITY, priority, int, problems) or 0
        users = props.get(PROP_CANDIDATES)
        candidates = self._safe(task, PROP_CANDIDATES, users, user_list, problems) if users else None
        return {
            "instance_id": row["id"], "business_key": row["business_key"], "task_id": str(task.id),
            "task_spec": task_bpmn_id(spec), "title": task_title(spec)[:300], "form": form_name(props.get(PROP_FORM)),
            "lane": getattr(spec, "lane", None), "role": role, "team": team, "assignee": None,
            "candidates": candidates_json(candidates), "due_at": due_at, "priority": prio, "status": "open",
        }

    # ------------------------------------------------------------------------------------ snapshots
    def correlation_key(self, task, row) -> str:
        expr = task_properties(task.task_spec).get(PROP_CORRELATION)
        if expr:
            return str(self._eval_prop(task, expr))
        return row["business_key"] or ""

    def snapshot(self, row: dict, workflow) -> Snapshot:
        """What the projection tables hold for ``workflow`` (they are kept exactly in step with it)."""
        snap = Snapshot()
        if workflow is None or workflow.is_completed():
            return snap
        snap.ready = {str(t.id): t for t in ready_human_tasks(workflow)}
        for task in waiting_catches(workflow):
            tid = str(task.id)
            due = timer_due(task)
            if due is not None:
                snap.timers[tid] = (due, task_bpmn_id(task.task_spec))
            for definition in event_definitions(task):
                if isinstance(definition, MessageEventDefinition):
                    snap.subs.add((definition.name, self.correlation_key(task, row), tid))
        return snap

    # ----------------------------------------------------------------------------------------- sync
    def sync(self, conn, row: dict, before: Snapshot, workflow, now, *, closed: dict | None = None,
             problems: list | None = None) -> list[dict]:
        """Write the difference between ``before`` (what the tables hold) and ``workflow`` now.

        No reads: the projection rows correspond exactly to the snapshot of the state they were written
        with. ``closed``: task ids this operation completed (their work items are already closed).
        Returns the new work item rows (with ids)."""
        instance_id = row["id"]
        closed = closed or {}
        after = self.snapshot(row, workflow)
        gone = [tid for tid in before.ready if tid not in after.ready and tid not in closed]
        if gone:
            conn.execute(update(work_item).where(work_item.c.instance_id == instance_id,
                                                 work_item.c.task_id.in_(gone), work_item.c.status == "open")
                         .values(status="cancelled", completed_at=now))
        new_rows = []
        for tid, task in after.ready.items():
            if tid not in before.ready:
                values = self.work_item_values(task, row, problems if problems is not None else [])
                values["created_at"] = now
                new_rows.append(values)
        if new_rows:
            ids = _INSERT_ITEMS.insert_many(conn, new_rows, returning=True)
            for values, wid in zip(new_rows, ids, strict=True):
                values["id"] = wid
        self._sync_timers(conn, instance_id, before.timers, after.timers)
        self._sync_subscriptions(conn, instance_id, before.subs, after.subs, now)
        return new_rows

    @staticmethod
    def _sync_timers(conn, instance_id, before: dict, after: dict) -> None:
        cancelled = [tid for tid in before if tid not in after]
        if cancelled:
            conn.execute(update(timer).where(timer.c.instance_id == instance_id, timer.c.task_id.in_(cancelled),
                                             timer.c.status == "waiting").values(status="cancelled"))
        for tid, (due, _spec) in after.items():
            if tid in before and before[tid][0] != due:
                conn.execute(update(timer).where(timer.c.instance_id == instance_id, timer.c.task_id == tid,
                                                 timer.c.status == "waiting").values(due_at=due))
        new = [{"instance_id": instance_id, "task_id": tid, "task_spec": spec, "due_at": due, "status": "waiting"}
               for tid, (due, spec) in after.items() if tid not in before]
        _INSERT_TIMERS.insert_many(conn, new)

    @staticmethod
    def _sync_subscriptions(conn, instance_id, before: set, after: set, now) -> None:
        for name, key, tid in before - after:
            conn.execute(delete(message_subscription).where(
                message_subscription.c.instance_id == instance_id, message_subscription.c.message_name == name,
                message_subscription.c.correlation_key == key, message_subscription.c.task_id == tid))
        new = after - before
        if new:
            conn.execute(insert(message_subscription), [
                {"instance_id": instance_id, "message_name": name, "correlation_key": key, "task_id": tid,
                 "kind": "catch", "created_at": now} for (name, key, tid) in sorted(new)])


def user_list(value) -> list[str] | None:
    """``candidateUsers`` value: a username, comma-separated usernames or a list of them; empty -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        names = list(value)
    else:
        raise ValueError(f"candidateUsers must be a username or a list of usernames, not {type(value).__name__}")
    out = sorted({str(n).strip() for n in names if n is not None and str(n).strip()})
    return out or None


def candidates_json(values) -> str | None:
    return json.dumps(sorted(values)) if values else None


def candidate_users(item: dict) -> list[str] | None:
    """The work item's candidate users (None: anyone with its role/team may take it)."""
    raw = item.get("candidates")
    return json.loads(raw) if raw else None
