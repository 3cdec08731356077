"""Firing due timers: one short transaction per timer, claimed with FOR UPDATE SKIP LOCKED on PostgreSQL.

Exactly once: the timer row's status change and the instance's new state commit together; a crash rolls
both back and the timer is simply claimed again. Several workers never claim the same row (SKIP LOCKED).
SQLite has no row locks: run a single worker there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, or_, select, update

from engine.errors import Conflict
from engine.execution import InstanceRun
from engine.hotsql import Hot
from engine.projection import to_utc
from engine.schema import process_instance, timer
from engine.spiff_support import use_clock
from engine.store import busy_is_conflict

_DUE = (select(timer.c.id, timer.c.instance_id, timer.c.task_id, timer.c.due_at)
        .select_from(timer.join(process_instance, process_instance.c.id == timer.c.instance_id))
        .where(timer.c.status == "waiting", timer.c.due_at <= bindparam("now"),
               or_(process_instance.c.status == "running", process_instance.c.status == "error"))
        .order_by(timer.c.due_at, timer.c.id).limit(bindparam("n")))
_CLAIM = Hot(_DUE)
_CLAIM_SKIP_LOCKED = Hot(_DUE.with_for_update(skip_locked=True, of=timer))
_MARK = Hot(update(timer).where(timer.c.id == bindparam("tid"), timer.c.status == "waiting")
            .values(status=bindparam("new_status"), fired_at=bindparam("fired_at"), late_ms=bindparam("late_ms"),
                    claimed_by=bindparam("claimed_by"), claimed_at=bindparam("claimed_at")))


class _Claimed:
    __slots__ = ("id", "instance_id", "task_id", "due_at")

    def __init__(self, row: dict):
        self.id, self.instance_id, self.task_id, self.due_at = (row["id"], row["instance_id"], row["task_id"],
                                                                row["due_at"])


class TimerService:
    def __init__(self, engine):
        self.engine = engine

    def _claim(self, conn, now, n: int):
        q = _CLAIM_SKIP_LOCKED if conn.dialect.name == "postgresql" else _CLAIM
        return [_Claimed(r) for r in q.all(conn, {"now": now, "n": n})]

    def fire_due(self, db, *, now: datetime | None = None, limit: int = 1000, worker_id: str = "worker",
                 batch: int | None = None) -> int:
        """Fire up to ``limit`` due timers; ``db`` is an Engine.

        Each transaction claims a batch of due timers (SKIP LOCKED: other workers take other rows) and fires
        them in instance-id order (a global lock order, so two workers cannot deadlock on instance rows),
        each instance's timers in due order.
        A crash or error rolls the whole batch back; nothing is half-fired. After a Conflict (a lost race,
        possible on SQLite) the worker continues one timer per transaction."""
        size = batch or self.engine.config.timer_batch
        fired = conflicts = 0
        while fired < limit:
            try:
                with db.begin() as conn:
                    at = now or self.engine.now()
                    claimed = self._claim(conn, at, min(size, limit - fired))
                    if not claimed:
                        break
                    done = 0
                    for row in sorted(claimed, key=lambda r: (r.instance_id, r.due_at, r.id)):
                        if self.fire_one(conn, row, at, worker_id):
                            done += 1
                fired += done
            except Conflict:
                # another worker fired a timer of this batch or changed its instance meanwhile: our
                # transaction rolled back, nothing was applied twice
                conflicts += 1
                size = 1
                if conflicts > 100:
                    break
        return fired

    @busy_is_conflict
    def fire_one(self, conn, claimed, now, worker_id) -> bool:
        """Fire one claimed timer; False if it turned out stale (its task no longer waits)."""
        due = to_utc(claimed.due_at)
        run = InstanceRun.load(self.engine, conn, claimed.instance_id, "timer", lock=True)
        task = run.workflow.get_task_from_id(UUID(claimed.task_id))
        values = {"claimed_by": worker_id, "claimed_at": run.now}
        if task is None or not hasattr(task.task_spec, "event_definition") or task.state != TaskState.WAITING:
            # its task no longer waits (an earlier timer of the same batch or another worker got there first)
            _MARK.rowcount(conn, {"tid": claimed.id, "new_status": "cancelled", "fired_at": None, "late_ms": None,
                                  **values})
            return False
        late_ms = max(0, int((now - due).total_seconds() * 1000))
        run.spiff_now = max(now, due + timedelta(milliseconds=1))
        with use_clock(lambda: run.spiff_now):
            try:
                task.task_spec._update(task)
            except Exception as exc:  # noqa: BLE001 - e.g. a failing timer expression: an incident, not a crash
                run._incident_from(exc)
        late = late_ms > self.engine.config.late_timer_seconds * 1000
        done = _MARK.rowcount(conn, {"tid": claimed.id, "new_status": "fired", "fired_at": run.now,
                                     "late_ms": late_ms, **values})
        if done != 1:
            raise Conflict(f"timer {claimed.id} was fired by another worker")
        run.before.timers.pop(claimed.task_id, None)  # its row is no longer "waiting" (a cycle gets a new one)
        run.event("timer_fired_late" if late else "timer_fired", task,
                  data={"due_at": due, "late_ms": late_ms, "worker": worker_id}, actor="timer")
        run.run()
        run.save()
        return True
