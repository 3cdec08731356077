"""What workspace pages ask of casework and the engine. Engine calls run on the request's connection, so they
commit (or roll back) with everything else in the use case; the route commits once."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from flask import current_app, g
from sqlalchemy import Connection, select

from casework.accounts.models import Team, TeamMembership, User
from casework.accounts.service import teams_of
from casework.auth.access import Actor
from casework.auth.permissions import Permission
from casework.engine_host import get_engine
from casework.errors import Forbidden, NotFound
from casework.web.context import db_session
from engine.calendar import WorkingDayCalendar
from engine.runtime import WorkflowEngine
from workspace.forms import SchemaForm


def engine() -> WorkflowEngine:
    return get_engine(current_app._get_current_object())  # type: ignore[attr-defined]


def conn() -> Connection:
    return db_session().connection()


def now() -> datetime:
    return engine().now()


def calendar() -> WorkingDayCalendar:
    return engine().calendar


def team_codes(actor: Actor) -> list[str]:
    if "workspace_team_codes" not in g:
        g.workspace_team_codes = sorted(t.code for t in teams_of(db_session(), actor.user_id))
    return g.workspace_team_codes


def managed_team_codes(actor: Actor) -> list[str]:
    if not actor.managed_team_ids:
        return []
    return sorted(db_session().scalars(select(Team.code).where(Team.id.in_(actor.managed_team_ids))))


def team_members(team_codes_: list[str]) -> list[User]:
    """Active members of these teams (the people a manager can give work to)."""
    if not team_codes_:
        return []
    q = (select(User).join(TeamMembership, TeamMembership.user_id == User.id)
         .join(Team, Team.id == TeamMembership.team_id)
         .where(Team.code.in_(team_codes_), User.active.is_(True)).order_by(User.display_name).distinct())
    return list(db_session().scalars(q))


def display_names(usernames: set[str]) -> dict[str, str]:
    names = {u for u in usernames if u}
    if not names:
        return {}
    rows = db_session().execute(select(User.username, User.display_name).where(User.username.in_(names)))
    return {username: display for username, display in rows}


def may_open(actor: Actor, item: dict) -> bool:
    """Someone may open a task assigned to them, unassigned work of their teams or roles, or (as a manager)
    any work of the teams they manage."""
    if item["assignee"] == actor.username:
        return True
    teams = team_codes(actor)
    if item["assignee"] is None and actor.can(Permission.WORK):
        if item["team"] in teams or (item["team"] is None and item["role"] in actor.roles):
            return True
    return actor.can(Permission.TEAM_MANAGE) and item["team"] in managed_team_codes(actor)


def require_open(actor: Actor, item: dict | None) -> dict:
    if item is None:
        raise NotFound("There is no task at this address")
    if not may_open(actor, item):
        raise Forbidden("This task is not assigned to you or your team")
    return item


def task_data(item: dict) -> dict:
    """The data the engine holds for this READY task (used to prefill its form). Loads this one instance;
    lists never do this."""
    run = engine().load(conn(), item["instance_id"], lock=False)
    task = run.workflow.get_task_from_id(UUID(item["task_id"]))
    return dict(task.data) if task is not None else {}


def complete(item: dict, form: SchemaForm, data: dict, actor: Actor, expected_version: int | None) -> None:
    """The one place the workspace completes a task. The engine gets only the routing fields the form lists in
    ``x-routing-fields`` (null when unanswered; all answers if the form lists none); the full answers go to the
    case record as a chronology entry, so nothing typed is lost and case data stays out of workflow state."""
    routing = form.model.schema.get("x-routing-fields")
    engine_data = {k: data.get(k) for k in routing} if isinstance(routing, list) else data
    engine().complete_task(conn(), item["id"], engine_data, actor.username, expected_version=expected_version)
    record_answers(item, form, data, actor)


def record_answers(item: dict, form: SchemaForm, data: dict, actor: Actor) -> None:
    from casework.records.models_case import Case
    from casework.records.service_chronology import add_entry

    if not item["business_key"] or not data:
        return
    case = db_session().scalars(select(Case).where(Case.reference == item["business_key"])).first()
    if case is None:
        return
    add_entry(db_session(), person_id=case.person_id, source="workflow", kind="workflow",
              title=f"{item['title']}: answers recorded", occurred_at=now(),
              source_ref=f"work_item:{item['id']}:answers", detail=form.answers_text(data), case_id=case.id,
              actor=actor)


def claim(item_id: int, actor: Actor) -> dict:
    return engine().claim(conn(), item_id, actor.username)


def assign(item_ids: list[int], to_username: str, actor: Actor) -> list[dict]:
    return [engine().reassign(conn(), item_id, to_username, actor.username) for item_id in item_ids]


def case_people(actor: Actor, references: set[str]) -> dict[str, dict]:
    """Case reference (a work item's business key) -> the person it is about, for the rows on one page.
    People the actor may not see appear as a restricted record, without a name."""
    from casework.records.access import visible_people_clause
    from casework.records.models_case import Case
    from casework.records.models_person import Person

    refs = sorted(r for r in references if r)
    if not refs:
        return {}
    rows = db_session().execute(
        select(Case.reference, Person.id, Person.forename, Person.preferred_name, Person.surname,
               visible_people_clause(actor).label("visible"))
        .join(Person, Person.id == Case.person_id).where(Case.reference.in_(refs))).all()
    out = {}
    for reference, person_id, forename, preferred, surname, visible in rows:
        out[reference] = {"person_id": person_id, "visible": bool(visible),
                          "name": f"{preferred or forename} {surname}" if visible else "Restricted record"}
    return out


def earlier_answers(actor: Actor, business_key: str | None, limit: int = 10) -> list[dict]:
    """Answers recorded by earlier steps of this case (newest first), if the actor may see the person."""
    from casework.records.access import visible_person_ids
    from casework.records.models_case import Case
    from casework.records.models_chronology import ChronologyEntry

    if not business_key or not actor.can(Permission.RECORDS_VIEW):
        return []
    case = db_session().scalars(select(Case).where(Case.reference == business_key)).first()
    if case is None or not visible_person_ids(db_session(), actor, [case.person_id]):
        return []
    rows = db_session().execute(
        select(ChronologyEntry.title, ChronologyEntry.detail, ChronologyEntry.occurred_at)
        .where(ChronologyEntry.case_id == case.id, ChronologyEntry.source_ref.like("work\\_item:%:answers",
                                                                                  escape="\\"))
        .order_by(ChronologyEntry.occurred_at.desc(), ChronologyEntry.id.desc()).limit(limit)).all()
    return [{"title": t, "detail": d, "at": at} for t, d, at in rows]


def costs_for(instance_ids: set[int]) -> dict[int, dict]:
    """Process instance -> the payment it asks to approve (what, cost a week and a year), for approval lists."""
    from casework.finance import codes as finance_codes
    from casework.finance.models import Agreement
    def format_pounds(pence: int) -> str:
        pounds, rem = divmod(pence, 100)
        return f"{pounds:,}.{rem:02d}"

    ids = sorted(i for i in instance_ids if i)
    if not ids:
        return {}
    out = {}
    for a in db_session().scalars(select(Agreement).where(Agreement.process_instance_id.in_(ids))):
        service = finance_codes.SERVICE_TYPES.get(a.service_type)
        what = service.label if service else a.service_type
        if a.kind == "one_off":
            cost = f"£{format_pounds(a.weekly_cost_pence)} one-off"
        else:
            cost = f"£{format_pounds(a.weekly_cost_pence)} a week (£{format_pounds(a.annual_cost_pence)} a year)"
        out[a.process_instance_id] = {"what": what, "cost": cost}
    return out
