"""Operator actions on incidents: retry (also automatic, with exponential backoff) and skip."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from engine.errors import Conflict, NotFound
from engine.execution import InstanceRun
from engine.schema import incident


def _load(engine, conn, incident_id: int, actor):
    inc = conn.execute(select(incident).where(incident.c.id == incident_id)).mappings().first()
    if inc is None:
        raise NotFound(f"incident {incident_id} not found")
    if inc["status"] != "open":
        raise Conflict(f"incident {incident_id} is {inc['status']}")
    run = InstanceRun.load(engine, conn, inc["instance_id"], actor, lock=True)
    if run.row["status"] in ("completed", "cancelled"):
        raise Conflict(f"process instance {inc['instance_id']} is {run.row['status']}")
    task = run.workflow.get_task_from_id(UUID(inc["task_id"])) if inc["task_id"] else None
    return dict(inc), run, task


def _close(conn, inc, status, run, actor):
    conn.execute(update(incident).where(incident.c.id == inc["id"]).values(
        status=status, resolved_at=run.now, resolved_by=actor, auto_retry=False, next_retry_at=None))


def retry(engine, conn, incident_id: int, actor: str):
    inc, run, task = _load(engine, conn, incident_id, actor)
    _close(conn, inc, "retried", run, actor)
    run.attempts = inc["attempts"] + 1
    run.event("incident_retried", task, data={"incident_id": incident_id, "attempt": run.attempts})
    if task is not None and task.state == TaskState.ERROR:
        task._set_state(TaskState.READY)
    elif task is not None and not task.has_state(TaskState.FINISHED_MASK):
        with run.clocked():  # a failure while the task was being set up (e.g. its timer expression)
            try:
                task.task_spec._update(task)
            except Exception as exc:  # noqa: BLE001 - fails again: a new incident
                run._incident_from(exc)
                return run.save()
    run.run()
    return run.save()


def skip(engine, conn, incident_id: int, actor: str, data: dict):
    """Mark the failed task completed without running it (``data`` is merged into its data)."""
    inc, run, task = _load(engine, conn, incident_id, actor)
    _close(conn, inc, "skipped", run, actor)
    run.event("incident_skipped", task, data={"incident_id": incident_id, "data": data})
    if task is not None and task.state == TaskState.ERROR:
        task.set_data(**data)
        with run.clocked():
            task.complete()
    run.run()
    return run.save()


def retry_due(engine, db, *, now: datetime | None = None, limit: int = 100) -> int:
    """Worker entry point: retry incidents whose backoff has elapsed. One transaction per incident."""
    done = 0
    while done < limit:
        with db.begin() as conn:
            at = now or engine.now()
            q = (select(incident.c.id).where(incident.c.status == "open", incident.c.auto_retry.is_(True),
                                             incident.c.next_retry_at <= at)
                 .order_by(incident.c.next_retry_at).limit(1))
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = conn.execute(q).first()
            if row is None:
                break
            retry(engine, conn, row.id, "worker")
            done += 1
    return done
