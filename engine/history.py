"""History events: every start, completion, timer, message, incident, migration... one row each."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import insert, select

from engine.hotsql import Hot
from engine.schema import history_event

_INSERT_EVENTS = Hot(insert(history_event).inline())


def _default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


def to_json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=_default, separators=(",", ":"))


def data_diff(before: dict, after: dict) -> dict:
    """Top-level diff: {"set": {key: new}, "changed": {key: [old, new]}, "removed": [keys]}."""
    out: dict = {}
    for key, new in after.items():
        if key not in before:
            out.setdefault("set", {})[key] = new
        elif before[key] != new:
            out.setdefault("changed", {})[key] = [before[key], new]
    removed = [k for k in before if k not in after]
    if removed:
        out["removed"] = removed
    return out


class EventBuffer:
    """Collects the history events of one operation and writes them in one executemany."""

    def __init__(self, hooks=None):
        self.rows: list[dict] = []
        self.hooks = hooks

    def add(self, *, instance_id, business_key, event_type, at, actor=None, task_id=None, task_spec=None,
            task_title=None, data=None) -> None:
        self.rows.append({
            "instance_id": instance_id, "business_key": business_key, "event_type": event_type,
            "task_id": str(task_id) if task_id is not None else None, "task_spec": task_spec,
            "task_title": task_title, "actor": actor, "at": at, "data": to_json(data),
        })

    def flush(self, conn, instance_id: int | None = None) -> list[dict]:
        if not self.rows:
            return []
        if instance_id is not None:  # events of a new instance were recorded before it had an id
            for row in self.rows:
                if row["instance_id"] is None:
                    row["instance_id"] = instance_id
        _INSERT_EVENTS.insert_many(conn, self.rows)
        written, self.rows = self.rows, []
        if self.hooks is not None and self.hooks.on_event is not None:
            for row in written:
                self.hooks.on_event(dict(row))
        return written


def instance_history(conn, instance_id: int) -> list[dict]:
    rows = conn.execute(select(history_event).where(history_event.c.instance_id == instance_id)
                        .order_by(history_event.c.id)).mappings()
    out = []
    for r in rows:
        d = dict(r)
        d["data"] = json.loads(d["data"]) if d["data"] else None
        out.append(d)
    return out


def completers_of(conn, instance_id: int, task_specs: list[str]) -> set[str]:
    """Who completed any of the named tasks in this instance (for the four-eyes rule)."""
    rows = conn.execute(select(history_event.c.actor).where(
        history_event.c.instance_id == instance_id, history_event.c.event_type == "task_completed",
        history_event.c.task_spec.in_(task_specs)))
    return {r[0] for r in rows if r[0]}
