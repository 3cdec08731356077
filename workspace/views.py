"""Workspace lists: My work (home), Team queue (claim; managers assign several at once), Approvals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from casework.accounts.service import teams_of
from casework.auth.access import Actor, login_required, requires
from casework.auth.permissions import ROLE_LABELS, Permission, Role
from casework.errors import Forbidden, Invalid
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav
from workspace import queries, services
from workspace.queries import DUE_FILTERS, SORT_LABELS, Filters

blueprint = Blueprint("workspace", __name__)
MAX_BULK = 100


def _nav_count(key: str, count) -> str:  # type: ignore[no-untyped-def]
    """Navigation counts: capped ("99+"), and counted once per request (the layout may ask more than once)."""
    cache = g.setdefault("workspace_nav_counts", {})
    if key not in cache:
        n = count(queries.NAV_COUNT_CAP)
        cache[key] = f"{queries.NAV_COUNT_CAP}+" if n > queries.NAV_COUNT_CAP else str(n)
    return cache[key]


def _count_my_work(actor: Actor) -> str:
    return _nav_count("my", lambda cap: queries.count_my_work(services.conn(), actor.username, cap=cap))


def _count_team(actor: Actor) -> str:
    return _nav_count("team", lambda cap: queries.count_team_queue(services.conn(), services.team_codes(actor),
                                                                   cap=cap, username=actor.username))


def _count_approvals(actor: Actor) -> str:
    return _nav_count("approvals", lambda cap: queries.count_approvals(
        services.conn(), actor.username, sorted(actor.roles), services.team_codes(actor), cap=cap))


register_nav(NavEntry("My work", "workspace.home", Permission.WORK, order=0, count=_count_my_work))
LONDON = ZoneInfo("Europe/London")

register_nav(NavEntry("Team queue", "workspace.team_queue", Permission.WORK, order=10, count=_count_team))
register_nav(NavEntry("Approvals", "workspace.approvals", Permission.APPROVE, order=20, count=_count_approvals))


@blueprint.app_template_filter("casework_option")
def _option(pair: list, current: str) -> dict:
    return {"value": pair[0], "text": pair[1], "selected": pair[0] == current}


@blueprint.app_template_filter("uk_local")
def _uk_local(value):  # type: ignore[no-untyped-def]
    """Aware datetimes (stored in UTC) as UK local time, so 00:30 BST on 2 June shows as 2 June, not 1 June."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(LONDON)
    return value


@blueprint.app_template_filter("casework_member")
def _member(user) -> dict:  # type: ignore[no-untyped-def]
    return {"value": user.username, "text": user.display_name}


def _list_page(template: str, title: str, page: queries.Page, filters: Filters, **extra):  # type: ignore[no-untyped-def]
    names = services.display_names({i["assignee"] for i in page.items} | {i["started_by"] for i in page.items})
    people = services.case_people(current_actor(), {i["business_key"] for i in page.items}) \
        if current_actor().can(Permission.RECORDS_VIEW) else {}
    return render_template(template, title=title, page=page, filters=filters, due_filters=DUE_FILTERS,
                           sort_labels=SORT_LABELS, names=names, people=people, endpoint=request.endpoint, **extra)


@blueprint.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    actor = current_actor()
    if not actor.can(Permission.WORK):
        teams = teams_of(db_session(), actor.user_id)
        roles = [ROLE_LABELS[Role(code)] for code in sorted(actor.roles) if code in Role._value2member_map_]
        return render_template("workspace/home.html", title="Home", teams=teams, roles=roles)
    filters = Filters.from_args(request.args)
    page = queries.my_work(services.conn(), actor.username, filters, now=services.now(),
                           calendar=services.calendar())
    return _list_page("workspace/my_work.html", "My work", page, filters)


@blueprint.get("/team")
@requires(Permission.WORK)
def team_queue():  # type: ignore[no-untyped-def]
    actor = current_actor()
    filters = Filters.from_args(request.args)
    managed = services.managed_team_codes(actor) if actor.can(Permission.TEAM_MANAGE) else []
    show_assigned = bool(managed) and request.args.get("show") == "all"
    codes = managed if show_assigned else services.team_codes(actor)
    page = queries.team_queue(services.conn(), codes, filters, now=services.now(), calendar=services.calendar(),
                              include_assigned=show_assigned, username=actor.username)
    members = services.team_members(managed) if managed else []
    return _list_page("workspace/team_queue.html", "Team queue", page, filters, managed=managed,
                      members=members, show_assigned=show_assigned, teams=services.team_codes(actor))


@blueprint.post("/team/claim")
@requires(Permission.WORK)
def claim():  # type: ignore[no-untyped-def]
    actor = current_actor()
    item_id = _int(request.form.get("item"))
    item = services.require_open(actor, queries.get_item(services.conn(), item_id))
    services.claim(item["id"], actor)
    db_session().commit()
    flash(f"You claimed ‘{item['title']}’. It is now in My work.")
    if request.form.get("open"):
        return redirect(url_for("workspace.task", item_id=item["id"]))
    return redirect(url_for("workspace.team_queue"))


@blueprint.post("/team/assign")
@requires(Permission.TEAM_MANAGE)
def assign():  # type: ignore[no-untyped-def]
    actor = current_actor()
    ids = sorted({_int(v) for v in request.form.getlist("items")})[:MAX_BULK]
    to_user = (request.form.get("assignee") or "").strip()
    managed = services.managed_team_codes(actor)
    members = {u.username: u.display_name for u in services.team_members(managed)}
    errors = {}
    if not ids:
        errors["items"] = "Select at least one task to assign"
    if to_user not in members:
        errors["assignee"] = "Select who to give the work to"
    if errors:
        raise Invalid("Choose the tasks and the person to give them to", details=errors)
    conn = services.conn()
    for item_id in ids:
        item = queries.get_item(conn, item_id)
        if item is None or item["team"] not in managed:
            raise Forbidden("You can only assign work of the teams you manage")
    services.assign(ids, to_user, actor)
    db_session().commit()
    flash(f"{len(ids)} task{'s' if len(ids) != 1 else ''} given to {members[to_user]}.")
    return redirect(url_for("workspace.team_queue", show=request.form.get("show") or None))


@blueprint.get("/approvals")
@requires(Permission.APPROVE)
def approvals():  # type: ignore[no-untyped-def]
    actor = current_actor()
    filters = Filters.from_args(request.args)
    page = queries.approvals(services.conn(), actor.username, sorted(actor.roles), services.team_codes(actor),
                             filters, now=services.now(), calendar=services.calendar())
    return _list_page("workspace/approvals.html", "Approvals", page, filters,
                      costs=services.costs_for({i["instance_id"] for i in page.items}))


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise Invalid("Choose a task from the list", details={"item": "Choose a task from the list"}) from None
