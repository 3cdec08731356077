"""Account use cases: create, list and disable users; teams and membership."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.models import RoleGrant, Team, TeamMembership, User
from casework.auth.passwords import check_password_rules, hash_password
from casework.auth.permissions import parse_role
from casework.errors import Conflict, Invalid, NotFound

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,118}[a-z0-9]$")


def create_team(session: Session, *, code: str, name: str, service_area: str = "children",
                parent: Team | None = None) -> Team:
    if session.scalar(select(Team).where(Team.code == code)) is not None:
        raise Conflict(f"A team with code {code!r} already exists")
    team = Team(code=code, name=name, service_area=service_area, parent_id=parent.id if parent else None)
    session.add(team)
    session.flush()
    return team


def get_team(session: Session, code: str) -> Team:
    team = session.scalar(select(Team).where(Team.code == code))
    if team is None:
        raise NotFound(f"No team with code {code!r}", details={"team": "Unknown team code"})
    return team


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str | None,
    roles: Iterable[str] = (),
    teams: Iterable[str] = (),
    manages: Iterable[str] = (),
    email: str | None = None,
    check_rules: bool = True,
) -> User:
    username = username.strip().lower()
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = "Use 3 to 120 lower-case letters, digits, dots, dashes or underscores"
    if not display_name.strip():
        errors["display_name"] = "Enter the person's name"
    if errors:
        raise Invalid("The user details are not valid", details=errors)
    if password is not None and check_rules:
        check_password_rules(password, username=username)
    role_codes = {parse_role(r).value for r in roles}
    if session.scalar(select(User).where(func.lower(User.username) == username)) is not None:
        raise Conflict(f"The username {username!r} is taken", details={"username": "Choose another username"})
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email,
        password_hash=hash_password(password) if password else None,
    )
    user.roles = [RoleGrant(role=code) for code in sorted(role_codes)]
    manages = set(manages)
    user.memberships = [
        TeamMembership(team_id=get_team(session, code).id, is_manager=code in manages)
        for code in dict.fromkeys([*teams, *manages])
    ]
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise NotFound(f"No user called {username!r}")
    return user


def list_users(session: Session, *, include_disabled: bool = True) -> list[User]:
    stmt = select(User).order_by(User.username)
    if not include_disabled:
        stmt = stmt.where(User.active.is_(True))
    return list(session.scalars(stmt))


def disable_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    user.active = False
    user.session_epoch += 1  # signs them out everywhere
    return user


def teams_of(session: Session, user_id: int) -> list[Team]:
    stmt = (
        select(Team).join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user_id).order_by(Team.name)
    )
    return list(session.scalars(stmt))
