"""Work lists for the workspace: SQLAlchemy Core on the engine's indexed ``work_item`` table only
(never deserializing a workflow). Each list is one filtered, sorted, paged query plus one count."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from math import ceil
from time import monotonic
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, union_all

from engine.calendar import WorkingDayCalendar
from engine.schema import process_definition, process_instance, timer, work_item

PER_PAGE = 25
# "due" follows the inbox/queue indexes (..., status, [assignee,] due_at), so a page reads only its own rows.
SORTS: dict[str, tuple[Any, ...]] = {
    "due": (work_item.c.due_at.asc().nulls_last(), work_item.c.id),
    "-due": (work_item.c.due_at.desc().nulls_last(), work_item.c.id.desc()),
    "oldest": (work_item.c.created_at, work_item.c.id),
    "newest": (work_item.c.created_at.desc(), work_item.c.id.desc()),
    "priority": (work_item.c.priority.desc(), work_item.c.due_at.asc().nulls_last(), work_item.c.id),
    "task": (work_item.c.title, work_item.c.id),
}
OPTIONS_TTL_S = 60.0
_options_cache: dict[tuple, tuple[float, dict]] = {}
SORT_LABELS = {"due": "Due soonest", "-due": "Due latest", "oldest": "Waiting longest", "newest": "Newest",
               "priority": "Highest priority", "task": "Task name"}
DUE_FILTERS = {"": "Any time", "overdue": "Overdue", "today": "Due today or overdue",
               "week": "Due within 5 working days", "none": "No due date"}
APPROVER_ROLES = ("team_manager", "head_of_service", "finance_officer")
COLUMNS = (work_item.c.id, work_item.c.instance_id, work_item.c.business_key, work_item.c.task_spec,
           work_item.c.title, work_item.c.form, work_item.c.role, work_item.c.team, work_item.c.assignee,
           work_item.c.due_at, work_item.c.priority, work_item.c.status, work_item.c.created_at,
           process_instance.c.process_key, process_instance.c.started_by)
JOIN = work_item.join(process_instance, process_instance.c.id == work_item.c.instance_id)


@dataclass
class Filters:
    process: str = ""
    task: str = ""
    due: str = ""
    sort: str = "due"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        try:
            page = max(1, min(int(args.get("page", 1)), 10_000))
        except (TypeError, ValueError):
            page = 1
        sort = args.get("sort", "due")
        due = args.get("due", "")
        return cls(process=(args.get("process") or "")[:200], task=(args.get("task") or "")[:200],
                   due=due if due in DUE_FILTERS else "", sort=sort if sort in SORTS else "due", page=page)

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {"process": self.process, "task": self.task, "due": self.due, "sort": self.sort,
                  "page": self.page, **changes}
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)
                and not (k == "sort" and v == "due")}


@dataclass
class Page:
    items: list[dict]
    total: int
    page: int
    per_page: int = PER_PAGE
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def _day_end(d: date) -> datetime:
    return datetime.combine(d, time.max, tzinfo=UTC)


def _due_clause(due: str, now: datetime, calendar: WorkingDayCalendar) -> Any:
    today = now.astimezone(UTC).date()
    if due == "overdue":
        return work_item.c.due_at < now
    if due == "today":
        return work_item.c.due_at <= _day_end(today)
    if due == "week":
        return work_item.c.due_at <= _day_end(calendar.working_days_after(today, 5))
    if due == "none":
        return work_item.c.due_at.is_(None)
    return None


def _listing(conn: Connection, where: list, filters: Filters, now: datetime, calendar: WorkingDayCalendar,
             per_page: int = PER_PAGE, cache_key: tuple | None = None, teams: list[str] | None = None) -> Page:
    """``teams``: the list is for several teams (``where`` holds ``team IN teams``); sorted by due date, each
    team's rows then come from its own index range (top N per team, merged) instead of sorting them all."""
    clauses = [work_item.c.status == "open", *where]
    if filters.process:
        clauses.append(process_instance.c.process_key == filters.process)
    if filters.task:
        clauses.append(work_item.c.task_spec == filters.task)
    due = _due_clause(filters.due, now, calendar)
    if due is not None:
        clauses.append(due)
    # the join is only needed to filter by process; without it the count is an index-only scan
    counted = JOIN if filters.process else work_item
    total = conn.execute(select(func.count()).select_from(counted).where(and_(*clauses))).scalar_one()
    pages = max(1, ceil(total / per_page))
    page = min(filters.page, pages)
    query = select(*COLUMNS).select_from(JOIN).where(and_(*clauses))
    wanted = page * per_page
    if teams and len(teams) > 1 and filters.sort == "due" and wanted <= 2000:
        tops = [select(work_item.c.id).select_from(JOIN).where(and_(*clauses), work_item.c.team == team)
                .order_by(*SORTS["due"]).limit(wanted).subquery() for team in teams]
        merged = union_all(*[select(top.c.id) for top in tops]).subquery()
        query = query.where(work_item.c.id.in_(select(merged.c.id)))
    rows = conn.execute(query.order_by(*SORTS[filters.sort]).limit(per_page)
                        .offset((page - 1) * per_page)).mappings()
    items = [decorate(dict(r), now, calendar) for r in rows]
    return Page(items=items, total=total, page=page, per_page=per_page,
                options=_cached_options(conn, where, cache_key))


def _cached_options(conn: Connection, where: list, key: tuple | None) -> dict[str, list[tuple[str, str]]]:
    """Filter choices change slowly; a minute-old list is fine and spares two GROUP BYs per page."""
    if key is None:
        return _filter_options(conn, where)
    clock = monotonic()
    hit = _options_cache.get(key)
    if hit is not None and clock - hit[0] < OPTIONS_TTL_S:
        return hit[1]
    options = _filter_options(conn, where)
    if len(_options_cache) > 10_000:
        _options_cache.clear()
    _options_cache[key] = (clock, options)
    return options


def _filter_options(conn: Connection, where: list) -> dict[str, list[tuple[str, str]]]:
    """Processes and tasks present in this list (distinct over the same indexed rows)."""
    base = and_(work_item.c.status == "open", *where)
    processes = conn.execute(select(process_instance.c.process_key, func.max(process_definition.c.name))
                             .select_from(JOIN.join(process_definition,
                                                    process_definition.c.id == process_instance.c.definition_id))
                             .where(base).group_by(process_instance.c.process_key)
                             .order_by(process_instance.c.process_key).limit(100)).all()
    tasks = conn.execute(select(work_item.c.task_spec, func.max(work_item.c.title)).select_from(JOIN).where(base)
                         .group_by(work_item.c.task_spec).order_by(func.max(work_item.c.title)).limit(200)).all()
    return {"process": [(key, name or key) for key, name in processes],
            "task": [(spec, title or spec) for spec, title in tasks]}


def decorate(item: dict, now: datetime, calendar: WorkingDayCalendar) -> dict:
    """Adds ``due_text`` and ``due_tag`` (GOV.UK tag colour class) from working days left."""
    due = item.get("due_at")
    if due is None:
        item.update(due_text="No due date", due_tag="govuk-tag--grey", days_left=None)
        return item
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
        item["due_at"] = due
    today = now.astimezone(UTC).date()
    days = calendar.working_days_between(today, due.astimezone(UTC).date())
    if due < now and days <= 0:
        n = -days
        text = "Overdue" if n == 0 else f"Overdue by {n} working day{'s' if n != 1 else ''}"
        tag = "govuk-tag--red"
    elif days == 0:
        text, tag = "Due today", "govuk-tag--orange"
    elif days <= 2:
        text, tag = f"{days} working day{'s' if days != 1 else ''} left", "govuk-tag--yellow"
    else:
        text, tag = f"{days} working days left", "govuk-tag--blue"
    item.update(due_text=text, due_tag=tag, days_left=days)
    return item


# --- the lists ---------------------------------------------------------------------------------------------

def my_work(conn: Connection, username: str, filters: Filters, *, now: datetime,
            calendar: WorkingDayCalendar) -> Page:
    return _listing(conn, [work_item.c.assignee == username], filters, now, calendar,
                    cache_key=(str(conn.engine.url), "my", username))


def open_to(username: str | None) -> Any:
    """Items this user may take: no candidate list (anyone with the role and team), or one naming them. The
    engine refuses a claim by anyone else; the lists must not offer it. candidates holds a sorted JSON list."""
    if username is None:
        return work_item.c.candidates.is_(None)
    quoted = json.dumps(username).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(work_item.c.candidates.is_(None), work_item.c.candidates.like(f"%{quoted}%", escape="\\"))


def team_queue(conn: Connection, team_codes: list[str], filters: Filters, *, now: datetime,
               calendar: WorkingDayCalendar, include_assigned: bool = False, username: str | None = None
               ) -> Page:
    """Unassigned work of the teams that ``username`` may take (a manager's ``include_assigned`` view lists
    everything, to assign it)."""
    if not team_codes:
        return Page(items=[], total=0, page=1)
    where = [work_item.c.team.in_(team_codes)]
    if not include_assigned:
        where += [work_item.c.assignee.is_(None), open_to(username)]
    return _listing(conn, where, filters, now, calendar, teams=team_codes,
                    cache_key=(str(conn.engine.url), "team", tuple(team_codes), include_assigned, username))


def _approval_where(username: str, roles: list[str], team_codes: list[str]) -> list:
    approver_roles = [r for r in roles if r in APPROVER_ROLES]
    if not approver_roles:
        return [work_item.c.id.is_(None)]  # nothing
    in_scope = or_(work_item.c.team.is_(None), work_item.c.team.in_(team_codes)) if team_codes else \
        work_item.c.team.is_(None)
    return [work_item.c.role.in_(approver_roles), in_scope,
            or_(and_(work_item.c.assignee.is_(None), open_to(username)), work_item.c.assignee == username)]


def approvals(conn: Connection, username: str, roles: list[str], team_codes: list[str], filters: Filters, *,
              now: datetime, calendar: WorkingDayCalendar) -> Page:
    return _listing(conn, _approval_where(username, roles, team_codes), filters, now, calendar,
                    cache_key=(str(conn.engine.url), "approvals", username, tuple(roles), tuple(team_codes)))


NAV_COUNT_CAP = 99  # navigation shows "99+" beyond this: a capped count reads at most 100 index entries


def _count(conn: Connection, where: list, cap: int | None) -> int:
    """COUNT of open work items matching ``where``; with ``cap``, stops after cap + 1 rows (index-only)."""
    clauses = [work_item.c.status == "open", *where]
    if cap is None:
        return conn.execute(select(func.count()).select_from(work_item).where(*clauses)).scalar_one()
    first = select(work_item.c.id).where(*clauses).limit(cap + 1).subquery()
    return conn.execute(select(func.count()).select_from(first)).scalar_one()


def count_my_work(conn: Connection, username: str, *, cap: int | None = None) -> int:
    return _count(conn, [work_item.c.assignee == username], cap)


def count_team_queue(conn: Connection, team_codes: list[str], *, cap: int | None = None,
                     username: str | None = None) -> int:
    if not team_codes:
        return 0
    return _count(conn, [work_item.c.team.in_(team_codes), work_item.c.assignee.is_(None), open_to(username)],
                  cap)


def count_approvals(conn: Connection, username: str, roles: list[str], team_codes: list[str], *,
                    cap: int | None = None) -> int:
    return _count(conn, _approval_where(username, roles, team_codes), cap)


def current_steps(conn: Connection, instance_ids: list[int]) -> dict[int, dict[str, list[dict]]]:
    """Open work items and waiting timers of several instances in two queries (the case view lists every
    process of a person's cases; asking the engine per instance cost five queries each)."""
    ids = sorted(set(instance_ids))
    out: dict[int, dict[str, list[dict]]] = {i: {"work_items": [], "timers": []} for i in ids}
    if not ids:
        return out
    for row in conn.execute(select(work_item.c.id, work_item.c.instance_id, work_item.c.task_spec,
                                   work_item.c.title, work_item.c.assignee, work_item.c.due_at)
                            .where(work_item.c.instance_id.in_(ids), work_item.c.status == "open")
                            .order_by(work_item.c.id)).mappings():
        out[row["instance_id"]]["work_items"].append(dict(row))
    for row in conn.execute(select(timer.c.id, timer.c.instance_id, timer.c.task_spec, timer.c.due_at)
                            .where(timer.c.instance_id.in_(ids), timer.c.status == "waiting")
                            .order_by(timer.c.id)).mappings():
        out[row["instance_id"]]["timers"].append(dict(row))
    return out


def get_item(conn: Connection, item_id: int) -> dict | None:
    """One work item with its instance version and its definition's id (for the form)."""
    row = conn.execute(
        select(work_item, process_instance.c.version.label("instance_version"),
               process_instance.c.process_key, process_instance.c.definition_id,
               process_instance.c.status.label("instance_status"))
        .select_from(JOIN).where(work_item.c.id == item_id)).mappings().first()
    return dict(row) if row is not None else None


def form_of(conn: Connection, definition_id: int, form_name: str | None) -> dict | None:
    """``{"schema": ..., "uischema": ...}`` of a published definition's form."""
    import json

    if not form_name:
        return None
    text = conn.execute(select(process_definition.c.forms_json).where(
        process_definition.c.id == definition_id)).scalar_one_or_none()
    forms = json.loads(text or "{}")
    return forms.get(form_name)

