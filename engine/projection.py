"""Keep work_item, timer and message_subscription exactly in step with an instance after every operation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select, update

from engine.schema import message_subscription, timer, work_item

# spiffworkflow:properties names (see docs/engine.md "BPMN conventions")
PROP_FORM = "formJsonSchemaFilename"
PROP_DUE = "dueDate"
PROP_PRIORITY = "priority"
PROP_FOUR_EYES = "fourEyesExcludeTask"
PROP_ROLE = "role"
PROP_CORRELATION = "correlationKey"


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
        return {
            "instance_id": row["id"], "business_key": row["business_key"], "task_id": str(task.id),
            "task_spec": task_bpmn_id(spec), "title": task_title(spec)[:300], "form": form_name(props.get(PROP_FORM)),
            "lane": getattr(spec, "lane", None), "role": role, "team": team, "assignee": None,
            "candidates": None, "due_at": due_at, "priority": prio, "status": "open",
        }

    def sync(self, conn, row: dict, workflow, now, *, closed: dict | None = None,
             problems: list | None = None) -> list[dict]:
        """Bring the three projections in line with ``workflow``; returns the new work item rows.

        ``closed``: {task_id: actor} of tasks this operation completed (closed as completed, not cancelled)."""
        instance_id = row["id"]
        closed = closed or {}
        finished = workflow is None or workflow.is_completed()
        ready = {} if finished else {str(t.id): t for t in ready_human_tasks(workflow)}
        open_rows = conn.execute(select(work_item.c.id, work_item.c.task_id).where(
            work_item.c.instance_id == instance_id, work_item.c.status == "open")).all()
        have = {r.task_id: r.id for r in open_rows}
        gone = [wid for tid, wid in have.items() if tid not in ready and tid not in closed]
        if gone:
            conn.execute(update(work_item).where(work_item.c.id.in_(gone))
                         .values(status="cancelled", completed_at=now))
        new_rows = []
        for tid, task in ready.items():
            if tid not in have:
                values = self.work_item_values(task, row, problems if problems is not None else [])
                values["created_at"] = now
                new_rows.append(values)
        if new_rows:
            conn.execute(insert(work_item), new_rows)
        self._sync_timers(conn, instance_id, workflow if not finished else None, now)
        self._sync_subscriptions(conn, row, workflow if not finished else None, now)
        return new_rows

    # ------------------------------------------------------------------------------------- timers
    def _sync_timers(self, conn, instance_id, workflow, now):
        wanted = {}
        if workflow is not None:
            for task in waiting_catches(workflow):
                due = timer_due(task)
                if due is not None:
                    wanted[str(task.id)] = (due, task_bpmn_id(task.task_spec))
        rows = conn.execute(select(timer.c.id, timer.c.task_id, timer.c.due_at).where(
            timer.c.instance_id == instance_id, timer.c.status == "waiting")).all()
        for r in rows:
            w = wanted.pop(r.task_id, None)
            if w is None:
                conn.execute(update(timer).where(timer.c.id == r.id).values(status="cancelled"))
            elif to_utc(r.due_at) != w[0]:
                conn.execute(update(timer).where(timer.c.id == r.id).values(due_at=w[0]))
        if wanted:
            conn.execute(insert(timer), [
                {"instance_id": instance_id, "task_id": tid, "task_spec": spec_name, "due_at": due,
                 "status": "waiting"} for tid, (due, spec_name) in wanted.items()])

    # ---------------------------------------------------------------------------- subscriptions
    def correlation_key(self, task, row) -> str:
        expr = task_properties(task.task_spec).get(PROP_CORRELATION)
        if expr:
            return str(self._eval_prop(task, expr))
        return row["business_key"] or ""

    def _sync_subscriptions(self, conn, row, workflow, now):
        instance_id = row["id"]
        wanted = {}
        if workflow is not None:
            for task in waiting_catches(workflow):
                for definition in event_definitions(task):
                    if isinstance(definition, MessageEventDefinition):
                        wanted[(definition.name, self.correlation_key(task, row), str(task.id))] = True
        rows = conn.execute(select(message_subscription.c.id, message_subscription.c.message_name,
                                   message_subscription.c.correlation_key, message_subscription.c.task_id)
                            .where(message_subscription.c.instance_id == instance_id)).all()
        stale = []
        for r in rows:
            key = (r.message_name, r.correlation_key, r.task_id)
            if key in wanted:
                del wanted[key]
            else:
                stale.append(r.id)
        if stale:
            conn.execute(delete(message_subscription).where(message_subscription.c.id.in_(stale)))
        if wanted:
            conn.execute(insert(message_subscription), [
                {"instance_id": instance_id, "message_name": name, "correlation_key": key, "task_id": tid,
                 "kind": "catch", "created_at": now} for (name, key, tid) in wanted])
        return list(wanted)


def candidates_json(values) -> str | None:
    return json.dumps(sorted(values)) if values else None
