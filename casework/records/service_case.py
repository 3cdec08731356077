"""Cases (episodes) per service area: open, close, allocate (history kept), attach process instances."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.accounts.models import Team, TeamMembership, User
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from casework.records import codes
from casework.records.access import can_edit_person, get_visible_person, visible_cases_clause
from casework.records.access import get_visible_case as _get_visible_case
from casework.records.common import check_version, stamp_new, touch
from casework.records.models_case import Allocation, Case, CaseProcess
from casework.records.models_person import Person

AREA_PREFIX = {"children": "CH", "adults": "AD", "finance": "FI"}


def case_reference(area: str, case_id: int) -> str:
    return f"{AREA_PREFIX[area]}-{case_id:07d}"


def get_visible_case(session: Session, actor: Actor, case_id: int) -> Case:
    """The case if the actor may see it (person visible, and team / service-wide / break-glass), else 404."""
    return _get_visible_case(session, actor, case_id)


def view_case(session: Session, actor: Actor, case_id: int) -> Case:
    """Open a case to read it (audited once)."""
    case = _get_visible_case(session, actor, case_id)
    audit.record(session, actor, AuditAction.VIEW, record_type="case", record_id=case.id, person_id=case.person_id,
                 fields=CASE_VIEW_FIELDS)
    return case


CASE_VIEW_FIELDS = ("reference", "service_area", "status", "open_reason", "summary", "allocations", "processes")


def case_by_reference(session: Session, actor: Actor | None, reference: str) -> Case:
    """Look a case up by its business key (e.g. CH-0000042). actor=None is for trusted engine hooks."""
    stmt = select(Case).where(Case.reference == reference)
    if actor is not None:
        stmt = stmt.where(visible_cases_clause(actor))
    case = session.scalar(stmt)
    if case is None:
        raise NotFound(f"No case {reference}")
    return case


def _check_allocation(session: Session, team_id: int | None, worker_id: int | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise Invalid("Unknown team", details={"team_id": "No such team"})
    if worker_id is not None:
        worker = session.get(User, worker_id)
        if worker is None or not worker.active:
            raise Invalid("Unknown worker", details={"worker_id": "No such active user"})
        if team_id is not None and session.scalar(select(TeamMembership.id).where(
                TeamMembership.user_id == worker_id, TeamMembership.team_id == team_id)) is None:
            raise Invalid("The worker is not in that team", details={"worker_id": "Choose a member of the team"})


def open_case(session: Session, actor: Actor, person: Person, data: dict[str, Any]) -> Case:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    codes.check_code(codes.SERVICE_AREAS, data["service_area"], "service_area")
    codes.check_code(codes.CASE_OPEN_REASONS, data["open_reason"], "open_reason")
    opened_on = data.get("opened_on") or date.today()
    if opened_on > date.today():
        raise Invalid("A case cannot open in the future", details={"opened_on": "Cannot be in the future"})
    if person.date_of_birth and not person.dob_is_expected and opened_on < person.date_of_birth:
        raise Invalid("The case opens before the person was born", details={"opened_on": "Before date of birth"})
    open_same = session.scalar(select(Case.reference).where(Case.person_id == person.id, Case.status == "open",
                                                             Case.service_area == data["service_area"]))
    if open_same:
        raise Conflict(f"{person.display_name} already has an open {data['service_area']} case ({open_same})",
                       details={"service_area": f"Already open: {open_same}"})
    _check_allocation(session, data.get("team_id"), data.get("worker_id"))
    case = Case(person_id=person.id, service_area=data["service_area"], open_reason=data["open_reason"],
                opened_on=opened_on, summary=data.get("summary"), status="open", reference="pending")
    stamp_new(case, actor)
    session.add(case)
    session.flush()
    case.reference = case_reference(case.service_area, case.id)
    if data.get("team_id") or data.get("worker_id"):
        _allocate(case, actor, data.get("team_id"), data.get("worker_id"), "Allocated when the case was opened")
    from casework.records.service_chronology import add_entry

    add_entry(session, person_id=person.id, source="case", kind="case_opened", case_id=case.id,
              title=f"{codes.SERVICE_AREAS[case.service_area]} case {case.reference} opened",
              occurred_at=utcnow(), source_ref=f"case:{case.id}:opened", actor=actor)
    audit.record(session, actor, AuditAction.CREATE, record_type="case", record_id=case.id, person_id=person.id,
                 fields=sorted(k for k, v in data.items() if v is not None) + ["status"])
    session.flush()
    return case


def _allocate(case: Case, actor: Actor, team_id: int | None, worker_id: int | None, reason: str | None) -> None:
    now = utcnow()
    for current in case.allocations:
        if current.ended_at is None:
            current.ended_at, current.ended_by = now, actor.user_id
    case.allocations.append(Allocation(team_id=team_id, worker_id=worker_id, reason=reason, started_at=now,
                                       allocated_by=actor.user_id))
    case.team_id, case.worker_id = team_id, worker_id


def allocate(session: Session, actor: Actor, case: Case, *, team_id: int | None, worker_id: int | None,
             reason: str | None, expected_version: int | None) -> Case:
    _get_visible_case(session, actor, case.id)
    if not (actor.can(Permission.TEAM_MANAGE) or (actor.can(Permission.RECORDS_EDIT) and worker_id == actor.user_id
                                                  and (team_id is None or team_id in actor.team_ids))):
        raise Forbidden("Only a team manager can allocate cases to others")
    check_version(case, expected_version)
    if case.status != "open":
        raise Conflict("A closed case cannot be allocated", details={"status": "Closed"})
    _check_allocation(session, team_id, worker_id)
    _allocate(case, actor, team_id, worker_id, reason)
    touch(case, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="case", record_id=case.id,
                 person_id=case.person_id, fields=("team_id", "worker_id", "allocations"))
    session.flush()
    return case


def close_case(session: Session, actor: Actor, case: Case, *, closed_on: date | None, close_reason: str,
               expected_version: int | None) -> Case:
    _get_visible_case(session, actor, case.id)
    person = get_visible_person(session, actor, case.person_id)
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    check_version(case, expected_version)
    codes.check_code(codes.CASE_CLOSE_REASONS, close_reason, "close_reason")
    if case.status != "open":
        raise Conflict("The case is already closed", details={"status": "Already closed"})
    closed_on = closed_on or date.today()
    if closed_on < case.opened_on or closed_on > date.today():
        raise Invalid("Impossible close date", details={"closed_on": "Must be between the open date and today"})
    case.status, case.closed_on, case.close_reason = "closed", closed_on, close_reason
    now = utcnow()
    for current in case.allocations:
        if current.ended_at is None:
            current.ended_at, current.ended_by = now, actor.user_id
    touch(case, actor)
    from casework.records.service_chronology import add_entry

    add_entry(session, person_id=case.person_id, source="case", kind="case_closed", case_id=case.id,
              title=f"Case {case.reference} closed: {codes.CASE_CLOSE_REASONS[close_reason]}",
              occurred_at=now, source_ref=f"case:{case.id}:closed", actor=actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="case", record_id=case.id,
                 person_id=case.person_id, fields=("status", "closed_on", "close_reason"))
    session.flush()
    return case


def attach_process(session: Session, case: Case, *, instance_id: int, process_key: str,
                   actor: Actor | None = None) -> CaseProcess:
    """Record that a workflow instance works on this case (idempotent)."""
    for link in case.processes:
        if link.instance_id == instance_id:
            return link
    link = CaseProcess(instance_id=instance_id, process_key=process_key)
    stamp_new(link, actor)
    case.processes.append(link)
    session.flush()
    return link


def cases_for_person(session: Session, person_id: int, actor: Actor | None = None) -> list[Case]:
    """A person's cases; with an actor, only the cases the actor may see (actor=None: trusted callers)."""
    stmt = select(Case).where(Case.person_id == person_id)
    if actor is not None:
        stmt = stmt.where(visible_cases_clause(actor))
    return list(session.scalars(stmt
                                .order_by(Case.status.desc(), Case.opened_on.desc(), Case.id.desc())))


def list_cases(session: Session, actor: Actor, *, status: str | None = None, service_area: str | None = None,
               team_id: int | None = None, worker_id: int | None = None, limit: int = 25, offset: int = 0
               ) -> tuple[list[Case], bool]:
    stmt = select(Case).where(visible_cases_clause(actor))
    if status:
        stmt = stmt.where(Case.status == status)
    if service_area:
        stmt = stmt.where(Case.service_area == service_area)
    if team_id:
        stmt = stmt.where(Case.team_id == team_id)
    if worker_id:
        stmt = stmt.where(Case.worker_id == worker_id)
    limit = max(1, min(limit, 100))
    rows = list(session.scalars(stmt.order_by(Case.id.desc()).limit(limit + 1).offset(max(0, offset))))
    return rows[:limit], len(rows) > limit
