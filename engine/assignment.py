"""Claim, unclaim, reassign, delegate; the four-eyes rule. Work items only: instance state is untouched."""

from __future__ import annotations

from sqlalchemy import select, update

from engine.errors import Conflict, Forbidden, NotFound
from engine.history import EventBuffer, completers_of
from engine.projection import candidate_users, four_eyes_tasks
from engine.schema import work_item


def check_four_eyes(conn, instance_id: int, task_spec, actor: str) -> None:
    excluded = four_eyes_tasks(task_spec)
    if excluded and actor in completers_of(conn, instance_id, excluded):
        raise Forbidden(f"four-eyes rule: {actor} completed {', '.join(excluded)} and may not complete "
                        f"{getattr(task_spec, 'bpmn_id', task_spec.name)}")


def check_candidate(item: dict, user: str) -> None:
    """A work item with candidate users (``candidateUsers``) can be held and completed only by one of them."""
    users = candidate_users(item)
    if users is not None and user not in users:
        raise Forbidden(f"{user} is not one of the candidate users of work item {item['id']}")


def _four_eyes_for_item(engine, conn, item, actor):
    """Check the rule from the definition without deserializing the instance."""
    spec, subs = engine.specs.get(conn, _content_hash(conn, item["instance_id"]))
    for s in [spec, *subs.values()]:
        ts = s.task_specs.get(item["task_spec"])
        if ts is None:
            ts = next((t for t in s.task_specs.values() if getattr(t, "bpmn_id", None) == item["task_spec"]),
                      None)
        if ts is not None:
            check_four_eyes(conn, item["instance_id"], ts, actor)
            return


def _content_hash(conn, instance_id):
    from engine.store import load_instance_row

    return load_instance_row(conn, instance_id)["content_hash"]


def _item(conn, work_item_id: int) -> dict:
    row = conn.execute(select(work_item).where(work_item.c.id == work_item_id)).mappings().first()
    if row is None:
        raise NotFound(f"work item {work_item_id} not found")
    if row["status"] != "open":
        raise Conflict(f"work item {work_item_id} is {row['status']}, not open")
    return dict(row)


def _set(engine, conn, item, actor, event_type, guard, data=None, **values) -> dict:
    result = conn.execute(update(work_item).where(work_item.c.id == item["id"], work_item.c.status == "open",
                                                  *guard).values(**values))
    if result.rowcount != 1:
        raise Conflict(f"work item {item['id']} changed meanwhile; reload and try again")
    events = EventBuffer(engine.config.hooks)
    events.add(instance_id=item["instance_id"], business_key=item["business_key"], event_type=event_type,
               at=engine.now(), actor=actor, task_id=item["task_id"], task_spec=item["task_spec"],
               task_title=item["title"], data=data)
    events.flush(conn)
    item.update(values)
    return item


def claim(engine, conn, work_item_id: int, actor: str) -> dict:
    item = _item(conn, work_item_id)
    if item["assignee"] == actor:
        return item
    if item["assignee"] is not None:
        raise Conflict(f"work item {work_item_id} is already claimed by someone else")
    check_candidate(item, actor)
    _four_eyes_for_item(engine, conn, item, actor)
    return _set(engine, conn, item, actor, "task_claimed", [work_item.c.assignee.is_(None)], assignee=actor)


def unclaim(engine, conn, work_item_id: int, actor: str) -> dict:
    item = _item(conn, work_item_id)
    if item["assignee"] != actor:
        raise Forbidden(f"work item {work_item_id} is not assigned to {actor}")
    return _set(engine, conn, item, actor, "task_unclaimed", [work_item.c.assignee == actor], assignee=None,
                delegated_by=None)


def reassign(engine, conn, work_item_id: int, to_user: str, actor: str) -> dict:
    """A manager (permission checked by the application) gives the task to ``to_user``."""
    item = _item(conn, work_item_id)
    check_candidate(item, to_user)
    _four_eyes_for_item(engine, conn, item, to_user)
    guard = [work_item.c.assignee.is_(None)] if item["assignee"] is None else \
        [work_item.c.assignee == item["assignee"]]
    return _set(engine, conn, item, actor, "task_reassigned", guard,
                data={"from": item["assignee"], "to": to_user}, assignee=to_user, delegated_by=None)


def delegate(engine, conn, work_item_id: int, to_user: str, actor: str) -> dict:
    """The current assignee hands the task to ``to_user``, keeping a record of who delegated it."""
    item = _item(conn, work_item_id)
    if item["assignee"] != actor:
        raise Forbidden(f"only the assignee of work item {work_item_id} can delegate it")
    check_candidate(item, to_user)
    _four_eyes_for_item(engine, conn, item, to_user)
    return _set(engine, conn, item, actor, "task_delegated", [work_item.c.assignee == actor],
                data={"from": actor, "to": to_user}, assignee=to_user, delegated_by=actor)
