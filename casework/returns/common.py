"""Shared pieces of the returns: issues, reading the engine's history, dates."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.schema import history_event, process_instance

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Issue:
    """One problem with the return, against one record and one field, with a link to the record to fix."""

    person_id: int | None
    record: str  # the child's LAchildID / the client's id, as it appears in the file
    field: str  # the return's field name (XML element / CSV column)
    code: str
    message: str
    link: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def person_link(person_id: int | None) -> str | None:
    return f"/people/{person_id}" if person_id is not None else None


def london_date(value: datetime | None) -> date | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive UTC
        from datetime import UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LONDON).date()


def as_date(value: Any) -> date | None:
    """A form's ISO date (or date-time) string -> date; anything else -> None."""
    if isinstance(value, datetime):
        return london_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass
class TaskDone:
    task_spec: str
    at: datetime
    actor: str | None
    values: dict[str, Any]  # the answers this completion set or changed


@dataclass
class InstanceFacts:
    """What one process instance recorded, folded from its history (no workflow state is loaded)."""

    instance_id: int
    process_key: str
    business_key: str | None
    started_at: datetime | None = None
    start_data: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # latest value of every variable set by a person
    tasks: list[TaskDone] = field(default_factory=list)

    def completed(self, task_spec: str) -> list[TaskDone]:
        return [t for t in self.tasks if t.task_spec == task_spec]

    def get(self, key: str) -> Any:
        return self.values.get(key, self.start_data.get(key))


def _diff_values(diff: dict | None) -> dict[str, Any]:
    if not diff:
        return {}
    out = dict(diff.get("set") or {})
    for key, pair in (diff.get("changed") or {}).items():
        out[key] = pair[1] if isinstance(pair, list) and len(pair) == 2 else pair
    return out


def instance_facts(conn: Connection, process_keys: Iterable[str], business_keys, *,
                   steps: bool = False) -> dict[int, InstanceFacts]:
    """Fold the history of every instance of `process_keys` whose business key is in `business_keys` (a list
    or a SELECT of keys) into InstanceFacts: one streamed query, in event order. ``steps``: also take the
    values set by automatic steps (decision tables, scripts), e.g. Care Act eligibility."""
    kinds = ("instance_started", "task_completed", "step_completed") if steps else ("instance_started",
                                                                                    "task_completed")
    stmt = (select(history_event.c.instance_id, process_instance.c.process_key, history_event.c.business_key,
                   history_event.c.event_type, history_event.c.task_spec, history_event.c.actor,
                   history_event.c.at, history_event.c.data)
            .join(process_instance, process_instance.c.id == history_event.c.instance_id)
            .where(process_instance.c.process_key.in_(list(process_keys)),
                   process_instance.c.business_key.in_(business_keys),
                   history_event.c.event_type.in_(kinds))
            .order_by(history_event.c.instance_id, history_event.c.id))
    out: dict[int, InstanceFacts] = {}
    for iid, pkey, bkey, etype, spec, actor, at, raw in conn.execute(stmt.execution_options(yield_per=5000)):
        facts = out.get(iid)
        if facts is None:
            facts = out[iid] = InstanceFacts(iid, pkey, bkey)
        data = json.loads(raw) if raw else {}
        if etype == "instance_started":
            facts.started_at = at
            facts.start_data = dict(data.get("data") or {})
        elif etype == "step_completed":
            facts.values.update(_diff_values(data.get("diff")))
        else:
            values = _diff_values(data.get("diff"))
            facts.values.update(values)
            facts.tasks.append(TaskDone(spec or "", at, actor, values))
    return out
