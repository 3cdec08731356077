"""Access policy helpers for services and queries (not just views).

Three rules, each available as a Python check (for one loaded record) and as a SQL clause (for queries, so
search results and lists respect them too):

* **Team-based access** to team-owned records (cases): members of the owning team, plus service-wide roles
  (head of service). ``can_access_team_record`` / ``team_access_clause``.
* **Restricted (sealed) people**: visible only to named users/teams. The rule and its table
  (``PersonRestriction``) live in ``casework.records.access``; ``visible_people_clause`` and
  ``can_view_person`` here add break-glass grants on top of it.
* **Break-glass**: ``break_glass(...)`` opens one record the actor could not otherwise see, for a limited
  time, only with a stated reason; it writes a grant row, an audit entry (action ``break_glass`` with the
  reason) and an ``access_alert`` for each manager responsible for the record.

casework.records is imported lazily: it imports casework.auth, and this module must not create a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, cast, exists, false, or_, select, true
from sqlalchemy.orm import Session

from casework import audit
from casework.accounts.models import RoleGrant, TeamMembership, User
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.auth.models import AccessAlert, BreakGlassGrant
from casework.auth.permissions import Permission, Role
from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid, NotFound

SERVICE_WIDE_ROLES = frozenset({Role.HEAD_OF_SERVICE.value})
BREAK_GLASS_DEFAULT_MINUTES = 60
BREAK_GLASS_MAX_MINUTES = 8 * 60
MIN_REASON_LENGTH = 10
UK_TIME = ZoneInfo("Europe/London")  # alert messages are read by people in England


# -- team-based access ------------------------------------------------------------------------------------

def is_service_wide(actor: Actor) -> bool:
    return bool(actor.roles & SERVICE_WIDE_ROLES)


def can_access_team_record(actor: Actor, team_id: int | None) -> bool:
    """A team-owned record (e.g. a case): members of the team and service-wide roles. Unallocated records
    (team_id None, e.g. a new contact at the front door) are open to anyone who may view records."""
    if not actor.can(Permission.RECORDS_VIEW):
        return False
    return team_id is None or team_id in actor.team_ids or is_service_wide(actor)


def team_access_clause(actor: Actor, team_column: Any) -> ColumnElement[bool]:
    if not actor.can(Permission.RECORDS_VIEW):
        return false()
    if is_service_wide(actor):
        return true()
    allowed = team_column.is_(None)
    if actor.team_ids:
        allowed = or_(allowed, team_column.in_(sorted(actor.team_ids)))
    return allowed


# -- break-glass grants -----------------------------------------------------------------------------------

def active_grant(session: Session, actor: Actor, record_type: str, record_id: int | str,
                 *, now: datetime | None = None) -> BreakGlassGrant | None:
    now = now or utcnow()
    return session.scalar(
        select(BreakGlassGrant).where(
            BreakGlassGrant.user_id == actor.user_id, BreakGlassGrant.record_type == record_type,
            BreakGlassGrant.record_id == str(record_id), BreakGlassGrant.expires_at > now,
            BreakGlassGrant.revoked_at.is_(None),
        ).order_by(BreakGlassGrant.expires_at.desc()).limit(1)
    )


def grant_clause(actor: Actor, record_type: str, id_column: Any, *, now: datetime | None = None
                 ) -> ColumnElement[bool]:
    """True for rows (of record_type, identified by id_column) the actor holds a live break-glass grant on."""
    now = now or utcnow()
    return exists(select(BreakGlassGrant.id).where(
        BreakGlassGrant.user_id == actor.user_id, BreakGlassGrant.record_type == record_type,
        BreakGlassGrant.record_id == cast(id_column, String), BreakGlassGrant.expires_at > now,
        BreakGlassGrant.revoked_at.is_(None),
    ))


def managers_of_teams(session: Session, team_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(team_ids))
    if not ids:
        return set()
    return set(session.scalars(select(TeamMembership.user_id).join(User, User.id == TeamMembership.user_id).where(
        TeamMembership.team_id.in_(ids), TeamMembership.is_manager.is_(True), User.active.is_(True))))


def _heads_of_service(session: Session) -> set[int]:
    return set(session.scalars(select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id).where(
        RoleGrant.role == Role.HEAD_OF_SERVICE.value, User.active.is_(True))))


def person_managers(session: Session, person_id: int) -> set[int]:
    """Who answers for a person's record: managers of the teams holding their open cases and of the teams
    named on a restriction, and users named on a restriction."""
    from casework.records.models_case import Case
    from casework.records.models_person import PersonRestriction

    teams = set(session.scalars(select(Case.team_id).where(Case.person_id == person_id, Case.status == "open",
                                                           Case.team_id.is_not(None))))
    rows = session.execute(select(PersonRestriction.user_id, PersonRestriction.team_id)
                           .where(PersonRestriction.person_id == person_id)).all()
    teams |= {r.team_id for r in rows if r.team_id is not None}
    return managers_of_teams(session, teams) | {r.user_id for r in rows if r.user_id is not None}


def check_break_glass_request(actor: Actor, reason: str, minutes: int) -> str:
    """The permission, reason and duration of a break-glass request (checked before the record is looked up,
    so a missing and a sealed record answer a bad request alike); returns the tidied reason."""
    actor.require(Permission.RECORDS_VIEW)
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON_LENGTH:
        raise Invalid("Say why you need to see this record",
                      details={"reason": f"Enter a reason of at least {MIN_REASON_LENGTH} characters"})
    if len(reason) > 2000:
        raise Invalid("The reason is too long", details={"reason": "Enter at most 2000 characters"})
    if not 1 <= minutes <= BREAK_GLASS_MAX_MINUTES:
        raise Invalid("Invalid duration",
                      details={"minutes": f"Enter a number of minutes from 1 to {BREAK_GLASS_MAX_MINUTES}"})
    return reason


def break_glass(session: Session, actor: Actor, *, record_type: str, record_id: int | str,
                person_id: int | str | None, reason: str, managers: Iterable[int],
                minutes: int = BREAK_GLASS_DEFAULT_MINUTES, now: datetime | None = None) -> BreakGlassGrant:
    """Grant the actor time-limited access to one record, with the reason audited and the managers alerted.

    ``managers``: the users responsible for the record (``person_managers`` for a person); when there are
    none, heads of service are alerted instead, so break-glass is never silent. The caller commits.
    """
    reason = check_break_glass_request(actor, reason, minutes)
    now = now or utcnow()
    grant = BreakGlassGrant(user_id=actor.user_id, record_type=record_type, record_id=str(record_id),
                            person_id=None if person_id is None else str(person_id), reason=reason,
                            granted_at=now, expires_at=now + timedelta(minutes=minutes))
    session.add(grant)
    session.flush()
    audit.record(session, actor, AuditAction.BREAK_GLASS, record_type=record_type, record_id=record_id,
                 person_id=person_id, reason=reason)
    recipients = (set(managers) or _heads_of_service(session)) - {actor.user_id}
    message = (f"{actor.display_name} ({actor.username}) used break-glass access to {record_type} {record_id} "
               f"until {grant.expires_at.astimezone(UK_TIME):%-d %B %Y %H:%M} (UK time). Reason: {reason}")
    for user_id in sorted(recipients):
        session.add(AccessAlert(recipient_user_id=user_id, kind="break_glass", grant_id=grant.id, message=message))
    session.flush()
    return grant


def revoke_grant(session: Session, grant_id: int, *, now: datetime | None = None) -> BreakGlassGrant:
    grant = session.get(BreakGlassGrant, grant_id)
    if grant is None:
        raise NotFound("No such grant")
    if grant.revoked_at is None:
        grant.revoked_at = now or utcnow()
    return grant


def alerts_for(session: Session, user_id: int, *, unread_only: bool = False) -> list[AccessAlert]:
    stmt = select(AccessAlert).where(AccessAlert.recipient_user_id == user_id)
    if unread_only:
        stmt = stmt.where(AccessAlert.read_at.is_(None))
    return list(session.scalars(stmt.order_by(AccessAlert.id.desc()).limit(200)))


# -- people: the records rule plus break-glass ----------------------------------------------------------

def visible_people_clause(actor: Actor, *, now: datetime | None = None) -> ColumnElement[bool]:
    """casework.records.access.sealed_people_clause (the sealed rule), widened by live break-glass grants."""
    from casework.records.access import sealed_people_clause as records_clause
    from casework.records.models_person import Person

    if not actor.can(Permission.RECORDS_VIEW):
        return false()
    return or_(records_clause(actor), grant_clause(actor, "person", Person.id, now=now))


def can_view_person(session: Session, actor: Actor, person: Any, *, now: datetime | None = None) -> bool:
    from casework.records.access import sealed_rule_allows as records_rule

    if records_rule(actor, person):
        return True
    return actor.can(Permission.RECORDS_VIEW) and active_grant(session, actor, "person", person.id, now=now) is not None


def break_glass_person(session: Session, actor: Actor, person_id: int, reason: str,
                       *, minutes: int = BREAK_GLASS_DEFAULT_MINUTES, now: datetime | None = None
                       ) -> BreakGlassGrant:
    from casework.records.access import sealed_rule_allows as records_rule
    from casework.records.models_person import Person

    if not actor.can(Permission.RECORDS_VIEW):
        raise Forbidden("You do not have permission to view records")
    check_break_glass_request(actor, reason, minutes)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person")
    if records_rule(actor, person) or active_grant(session, actor, "person", person_id, now=now):
        raise Conflict("You can already see this record; break-glass is not needed")
    return break_glass(session, actor, record_type="person", record_id=person_id, person_id=person_id,
                       reason=reason, managers=person_managers(session, person_id), minutes=minutes, now=now)


def require_team_access(actor: Actor, team_id: int | None) -> None:
    if not can_access_team_record(actor, team_id):
        raise NotFound("No such record")  # like sealed records: existence is not confirmed


__all__ = [
    "active_grant", "alerts_for", "break_glass", "break_glass_person", "can_access_team_record", "can_view_person",
    "check_break_glass_request",
    "grant_clause", "is_service_wide", "managers_of_teams", "person_managers", "require_team_access",
    "revoke_grant", "team_access_clause", "visible_people_clause",
]
