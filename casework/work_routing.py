"""Who gets a new work item.

Which team's queue (the engine asks through its `resolve_team` hook): case work (practitioner, manager and
head-of-service steps) goes to the team the case is allocated to; when the case has no team, the item stays on
the role queue. Finance steps go to the council's finance team (the first active team whose service area is
finance), whoever holds the case.

Which person (`assign_from_model`, an engine event listener): a user task may name the person it goes to with
the spiffworkflow property ``assignee``, a sandboxed expression over the task data (e.g. ``allocated_worker``,
the social worker chosen at allocation). When the engine opens such a task, it is given to that user (through
the engine's reassign, so the four-eyes rule and the history apply) instead of waiting in the team queue. An
expression that gives nothing, fails, or names someone who is not an active user, or who may not do the task
under the four-eyes rule, leaves the task in the team queue for a manager to assign.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from flask import has_app_context
from sqlalchemy import and_, select

import casework.processes  # noqa: F401  (registers connector casework.start_process)
from casework.accounts.models import Team, User
from casework.auth.permissions import Role
from casework.engine_host import current_session, register_event_listener, register_team_resolver

log = logging.getLogger(__name__)

ASSIGNEE_PROPERTY = "assignee"
# The history event that opens each engine operation able to open tasks (the start, a completion, a timer, a
# message, an incident retried or skipped, a resume): the listener looks for new work once per operation.
OPERATION_EVENTS = frozenset({"instance_started", "task_completed", "timer_fired", "timer_fired_late",
                              "message_received", "incident_retried", "incident_skipped", "instance_resumed"})


def resolve_team(business_key: str | None, role: str | None) -> str | None:
    session = current_session()
    if role == Role.FINANCE_OFFICER:
        return session.scalar(select(Team.code).where(Team.service_area == "finance", Team.active.is_(True))
                              .order_by(Team.id).limit(1))
    if not business_key:
        return None
    from casework.records.models_case import Case

    return session.scalar(select(Team.code).join(Case, Case.team_id == Team.id)
                          .where(Case.reference == business_key))


def _spec_property(engine: Any, conn: Any, content_hash: str, task_spec: str) -> str | None:
    spec, subs = engine.specs.get(conn, content_hash)
    for s in (spec, *subs.values()):
        ts = s.task_specs.get(task_spec) or next(
            (t for t in s.task_specs.values() if getattr(t, "bpmn_id", None) == task_spec), None)
        if ts is not None:
            props = (getattr(ts, "extensions", None) or {}).get("properties") or {}
            value = props.get(ASSIGNEE_PROPERTY)
            return value.strip() if isinstance(value, str) and value.strip() else None
    return None


def _task(workflow: Any, task_id: str) -> Any:
    uid = UUID(task_id)
    for wf in (workflow, *workflow.subprocesses.values()):
        if uid in wf.tasks:
            return wf.tasks[uid]
    return None


def assign_from_model(engine: Any, event: dict[str, Any]) -> list[tuple[int, str]]:
    """Give the work items this engine operation opened to the person their task's ``assignee`` property
    names. Acts on the event that opens an operation (OPERATION_EVENTS; the operation's work items are
    written before its events, with the same time); returns (work item id, username) for the items it
    assigned."""
    from engine.errors import EngineError
    from engine.schema import process_definition, process_instance, work_item

    instance_id, at = event.get("instance_id"), event.get("at")
    if not instance_id or at is None or event.get("event_type") not in OPERATION_EVENTS:
        return []
    try:
        session = current_session()
    except RuntimeError:  # an engine used outside any operation session (nothing to look up users with)
        return []
    conn = session.connection()
    items = conn.execute(select(work_item.c.id, work_item.c.task_id, work_item.c.task_spec).where(
        and_(work_item.c.instance_id == instance_id, work_item.c.status == "open",
             work_item.c.assignee.is_(None), work_item.c.created_at == at))).all()
    if not items:
        return []
    content_hash = conn.execute(
        select(process_definition.c.content_hash)
        .join(process_instance, process_instance.c.definition_id == process_definition.c.id)
        .where(process_instance.c.id == instance_id)).scalar_one()
    wanted = [(item_id, task_id, expr) for item_id, task_id, spec in items
              if (expr := _spec_property(engine, conn, content_hash, spec))]
    if not wanted:
        return []
    workflow = engine.load(conn, instance_id, lock=False).workflow
    assigned = []
    for item_id, task_id, expr in wanted:
        task = _task(workflow, task_id)
        try:
            username = workflow.script_engine.evaluate(task, expr) if task is not None else None
        except Exception as exc:  # noqa: BLE001 - a bad expression leaves the task in the team queue
            log.warning("assignee of work item %s: %s", item_id, exc)
            continue
        if not isinstance(username, str) or not username.strip():
            continue
        username = username.strip()
        if session.scalar(select(User.id).where(User.username == username, User.active.is_(True))) is None:
            log.info("assignee of work item %s: %r is not an active user; left in the queue", item_id, username)
            continue
        try:
            engine.reassign(conn, item_id, username, "engine")
        except EngineError as exc:  # e.g. four-eyes: this person may not do this task
            log.info("assignee of work item %s: %s", item_id, exc)
            continue
        assigned.append((item_id, username))
    return assigned


def _assign_in_app(event: dict[str, Any]) -> None:
    if not has_app_context():
        return
    from casework.engine_host import get_engine

    assign_from_model(get_engine(), event)


register_team_resolver(resolve_team)
register_event_listener(_assign_in_app)
