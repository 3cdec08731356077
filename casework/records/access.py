"""Who may see a record: THE entry point for the records services (see docs/access-policy.md).

The full policy, applied here by delegating to ``casework.auth.policy`` (no rule is duplicated):

- **People.** Restricted (sealed) people are visible only to the users and teams named on them, or to an
  actor holding a live break-glass grant on the person; to everyone else they do not exist (callers raise
  404, never 403, so existence is not confirmed). Other people are visible to anyone with records.view,
  so the front door can find anyone.
- **Cases** and what hangs off a case (its notes, documents, chronology entries and process steps): the
  person must be visible AND the actor is a member or manager of the case's team, holds a service-wide role
  (head of service), or holds a live break-glass grant on the case or on the person. Unallocated cases
  (no team yet) are open to anyone who may see the person.

Every query over people, cases or things that belong to them filters with the clauses here; single records
are loaded with the ``get_visible_*`` helpers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session, object_session

from casework.auth import policy
from casework.auth.access import Actor
from casework.auth.permissions import Permission
from casework.errors import Conflict, NotFound
from casework.records.models_case import Case
from casework.records.models_person import Person, PersonRestriction

# -- the sealed-record rule (policy.visible_people_clause / can_view_person build on it) ------------------


def _named_clause(actor: Actor) -> ColumnElement[bool]:
    target = PersonRestriction.user_id == actor.user_id
    if actor.team_ids:
        target = or_(target, PersonRestriction.team_id.in_(sorted(actor.team_ids)))
    return exists(select(PersonRestriction.id).where(PersonRestriction.person_id == Person.id, target))


def sealed_people_clause(actor: Actor) -> ColumnElement[bool]:
    """The sealed-record rule alone (no break-glass): used by casework.auth.policy."""
    if not actor.can(Permission.RECORDS_VIEW):
        return false()
    return or_(Person.restricted.is_(False), _named_clause(actor))


def sealed_rule_allows(actor: Actor, person: Person) -> bool:
    """The sealed-record rule alone (no break-glass): used by casework.auth.policy."""
    if not actor.can(Permission.RECORDS_VIEW):
        return False
    if not person.restricted:
        return True
    return any(r.user_id == actor.user_id or (r.team_id is not None and r.team_id in actor.team_ids)
               for r in person.restrictions)


# -- people: the full policy -----------------------------------------------------------------------------


def visible_people_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause over Person rows the actor may see (sealed rule + live break-glass grants)."""
    return policy.visible_people_clause(actor)


def can_view_person(actor: Actor, person: Person, session: Session | None = None) -> bool:
    session = session or object_session(person)
    if session is None:  # a transient object: no grants can apply
        return sealed_rule_allows(actor, person)
    return policy.can_view_person(session, actor, person)


def can_edit_person(actor: Actor, person: Person) -> bool:
    return actor.can(Permission.RECORDS_EDIT) and can_view_person(actor, person)


def get_visible_person(session: Session, actor: Actor, person_id: int) -> Person:
    """The person, or 404 when missing or not visible to the actor (the two are indistinguishable)."""
    person = session.get(Person, person_id)
    if person is None or not can_view_person(actor, person, session):
        raise NotFound("No such person")
    return person


def visible_person_ids(session: Session, actor: Actor, person_ids: list[int]) -> set[int]:
    if not person_ids:
        return set()
    rows = session.scalars(select(Person.id).where(Person.id.in_(person_ids), visible_people_clause(actor)))
    return set(rows)


# -- cases and what hangs off them ----------------------------------------------------------------------


def visible_cases_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause over Case rows the actor may see: visible person AND (team, service-wide, grant)."""
    if not actor.can(Permission.RECORDS_VIEW):
        return false()
    person_ok = Case.person_id.in_(select(Person.id).where(visible_people_clause(actor)))
    team_ok = or_(policy.team_access_clause(actor, Case.team_id), policy.grant_clause(actor, "case", Case.id),
                  policy.grant_clause(actor, "person", Case.person_id))
    return and_(person_ok, team_ok)


def case_link_clause(actor: Actor, case_id_column: Any) -> ColumnElement[bool]:
    """For rows that may hang off a case (notes, documents, chronology entries): not linked to a case, or
    linked to a case the actor may see. Combine with the person rule.

    A correlated EXISTS (one primary-key probe per row) rather than ``IN (all visible cases)``: PostgreSQL
    would otherwise hash every visible case of the whole population for a person's few notes or entries."""
    linked_visible = exists(select(Case.id).where(Case.id == case_id_column, visible_cases_clause(actor))
                            .correlate_except(Case))
    return or_(case_id_column.is_(None), linked_visible)


def can_view_case(session: Session, actor: Actor, case: Case) -> bool:
    person = session.get(Person, case.person_id)
    if person is None or not can_view_person(actor, person, session):
        return False
    if policy.can_access_team_record(actor, case.team_id):
        return True
    return (policy.active_grant(session, actor, "case", case.id) is not None
            or policy.active_grant(session, actor, "person", case.person_id) is not None)


def get_visible_case(session: Session, actor: Actor, case_id: int | None) -> Case:
    """The case, or 404 when missing or not visible (indistinguishable, like sealed people)."""
    case = session.get(Case, case_id) if case_id is not None else None
    if case is None or not can_view_case(session, actor, case):
        raise NotFound("No such case")
    return case


def require_case_link(session: Session, actor: Actor, case_id: int | None) -> None:
    """404 unless the row's case (if any) is visible: for notes, documents and chronology entries."""
    if case_id is not None:
        get_visible_case(session, actor, case_id)


def visible_case_ids(session: Session, actor: Actor, case_ids: list[int]) -> set[int]:
    if not case_ids:
        return set()
    return set(session.scalars(select(Case.id).where(Case.id.in_(case_ids), visible_cases_clause(actor))))


def break_glass_case(session: Session, actor: Actor, case_id: int, reason: str, *,
                     minutes: int = policy.BREAK_GLASS_DEFAULT_MINUTES) -> Any:
    """Break-glass on another team's case: the person must be visible (break-glass the person first when it
    is sealed); the case's team managers are alerted."""
    policy.check_break_glass_request(actor, reason, minutes)  # before the lookup: missing and hidden alike
    case = session.get(Case, case_id)
    person = session.get(Person, case.person_id) if case is not None else None
    if case is None or person is None or not can_view_person(actor, person, session):
        raise NotFound("No such case")
    if can_view_case(session, actor, case):
        raise Conflict("You can already see this case; break-glass is not needed")
    managers = policy.managers_of_teams(session, [case.team_id] if case.team_id else [])
    return policy.break_glass(session, actor, record_type="case", record_id=case.id, person_id=case.person_id,
                              reason=reason, managers=managers, minutes=minutes)
