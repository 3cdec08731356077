"""Administration of people: roles, team membership, enabling/disabling accounts, teams. Every change is
audited (casework.audit: who changed which field of which account; never the values).

Guards: nobody can disable their own account or take away their own administrator role (no lock-out);
disabling an account or changing its roles signs it out everywhere (session epoch)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts import service as accounts
from casework.accounts.models import RoleGrant, Team, TeamMembership, User
from casework.audit.models import AuditAction
from casework.audit.service import record as audit
from casework.auth.access import Actor
from casework.auth.permissions import Role, parse_role
from casework.errors import Conflict, Forbidden, Invalid

TEAM_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
SERVICE_AREAS = ("children", "adults", "finance", "corporate")


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def set_roles(session: Session, user: User, roles: Iterable[str], *, actor: Actor) -> User:
    wanted = {parse_role(r).value for r in roles}
    if user.id == actor.user_id and Role.ADMINISTRATOR.value in user.role_codes and \
            Role.ADMINISTRATOR.value not in wanted:
        raise Forbidden("You cannot remove your own administrator role; ask another administrator")
    if wanted == set(user.role_codes):
        return user
    user.roles = [g for g in user.roles if g.role in wanted] + [
        RoleGrant(role=r) for r in sorted(wanted - set(user.role_codes))]
    user.session_epoch += 1  # new permissions take effect at the next sign-in, everywhere
    session.flush()
    audit(session, actor, AuditAction.UPDATE, record_type="user_account", record_id=user.id, fields=["roles"])
    return user


def set_teams(session: Session, user: User, teams: Iterable[str], manages: Iterable[str], *, actor: Actor) -> User:
    manages = set(manages)
    codes = list(dict.fromkeys([*teams, *manages]))
    wanted = {accounts.get_team(session, code).id: code in manages for code in codes}
    current = {m.team_id: m.is_manager for m in user.memberships}
    if wanted == current:
        return user
    kept = []
    for membership in user.memberships:
        if membership.team_id in wanted:
            membership.is_manager = wanted[membership.team_id]
            kept.append(membership)
    kept += [TeamMembership(team_id=tid, is_manager=mgr) for tid, mgr in wanted.items() if tid not in current]
    user.memberships = kept
    session.flush()
    audit(session, actor, AuditAction.UPDATE, record_type="user_account", record_id=user.id, fields=["teams"])
    return user


def set_active(session: Session, user: User, active: bool, *, actor: Actor) -> User:
    if user.id == actor.user_id and not active:
        raise Forbidden("You cannot disable your own account")
    if user.active == active:
        return user
    user.active = active
    user.session_epoch += 1
    if active:
        user.failed_logins = 0
        user.locked_until = None
    session.flush()
    audit(session, actor, AuditAction.UPDATE, record_type="user_account", record_id=user.id, fields=["active"])
    return user


def add_user(session: Session, *, username: str, display_name: str, email: str | None, password: str,
             roles: Iterable[str], teams: Iterable[str], actor: Actor) -> User:
    user = accounts.create_user(session, username=username, display_name=display_name, password=password,
                                roles=roles, teams=teams, email=(email or "").strip() or None)
    audit(session, actor, AuditAction.CREATE, record_type="user_account", record_id=user.id,
          fields=["username", "display_name", "email", "roles", "teams"])
    return user


def add_team(session: Session, *, code: str, name: str, service_area: str, actor: Actor) -> Team:
    code, name = (code or "").strip().lower(), (name or "").strip()
    errors = {}
    if not TEAM_CODE.match(code):
        errors["code"] = "Use 2 to 63 lower-case letters, digits or hyphens, for example cin-west"
    if not name:
        errors["name"] = "Enter the team's name"
    if service_area not in SERVICE_AREAS:
        errors["service_area"] = "Choose the service area"
    if errors:
        raise Invalid("Check the team details", details=errors)
    try:
        team = accounts.create_team(session, code=code, name=name, service_area=service_area)
    except Conflict:
        raise Conflict(f"A team with code {code!r} already exists", details={"code": "Choose another code"}) from None
    audit(session, actor, AuditAction.CREATE, record_type="team", record_id=team.id, fields=["code", "name"])
    return team
