"""Who may see a person's record. One place for the policy (the security work extends it here).

- Restricted (sealed) records are visible only to the users and teams named on them; to everyone else they
  do not exist (callers raise 404, never 403, so existence is not confirmed).
- Other records are visible to anyone holding Permission.RECORDS_VIEW.
Every query over people, or over things that belong to a person, filters with ``visible_people_clause``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session

from casework.auth.access import Actor
from casework.auth.permissions import Permission
from casework.errors import NotFound
from casework.records.models_person import Person, PersonRestriction


def _named_clause(actor: Actor) -> ColumnElement[bool]:
    target = PersonRestriction.user_id == actor.user_id
    if actor.team_ids:
        target = or_(target, PersonRestriction.team_id.in_(sorted(actor.team_ids)))
    return exists(select(PersonRestriction.id).where(PersonRestriction.person_id == Person.id, target))


def visible_people_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause over Person rows the actor may see."""
    if not actor.can(Permission.RECORDS_VIEW):
        return false()
    return or_(Person.restricted.is_(False), _named_clause(actor))


def can_view_person(actor: Actor, person: Person) -> bool:
    if not actor.can(Permission.RECORDS_VIEW):
        return False
    if not person.restricted:
        return True
    return any(r.user_id == actor.user_id or (r.team_id is not None and r.team_id in actor.team_ids)
               for r in person.restrictions)


def can_edit_person(actor: Actor, person: Person) -> bool:
    return can_view_person(actor, person) and actor.can(Permission.RECORDS_EDIT)


def get_visible_person(session: Session, actor: Actor, person_id: int) -> Person:
    """The person, or 404 when missing or not visible to the actor (the two are indistinguishable)."""
    person = session.get(Person, person_id)
    if person is None or not can_view_person(actor, person):
        raise NotFound("No such person")
    return person


def visible_person_ids(session: Session, actor: Actor, person_ids: list[int]) -> set[int]:
    if not person_ids:
        return set()
    rows = session.scalars(select(Person.id).where(Person.id.in_(person_ids), visible_people_clause(actor)))
    return set(rows)
