"""Plain keyword-only factories for tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from sqlalchemy.orm import Session

from casework.accounts import service
from casework.accounts.models import Team, User

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def create_team(session: Session, *, code: str | None = None, name: str | None = None,
                service_area: str = "children") -> Team:
    n = next(_seq)
    return service.create_team(session, code=code or f"team-{n}", name=name or f"Team {n}", service_area=service_area)


def create_user(session: Session, *, username: str | None = None, roles: Iterable[str] = ("practitioner",),
                teams: Iterable[Team] = (), manages: Iterable[Team] = (), password: str = PASSWORD,
                display_name: str | None = None) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    return service.create_user(session, username=username, display_name=display_name or f"User {n}",
                               password=password, roles=roles, teams=[t.code for t in teams],
                               manages=[t.code for t in manages])
