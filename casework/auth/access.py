"""Who is asking, and may they? Every view declares an access rule; requests without one are refused.

Rules: ``@public`` (sign-in, health, assets), ``@login_required`` (any signed-in user) or
``@requires(Permission.X, ...)``. ``enforce_access`` runs before every request, so a route that forgot its
rule is denied (and tests/test_route_access.py fails) instead of being silently open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from casework.accounts.models import User
from casework.auth.permissions import Permission, permissions_for
from casework.errors import Forbidden

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"
AUTHENTICATED = "authenticated"
ACCESS_ATTR = "_casework_access"


def public(view: F) -> F:
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def login_required(view: F) -> F:
    setattr(view, ACCESS_ATTR, AUTHENTICATED)
    return view


def requires(*permissions: Permission) -> Callable[[F], F]:
    if not permissions:
        raise ValueError("requires() needs at least one permission")

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, frozenset(permissions))
        return view

    return mark


def access_rule(view: Callable[..., Any]) -> str | frozenset[Permission] | None:
    return getattr(view, ACCESS_ATTR, None)


@dataclass(frozen=True)
class Actor:
    """The signed-in user as services see it: id, roles, teams and derived permissions."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[str]
    team_ids: frozenset[int]
    permissions: frozenset[Permission]
    managed_team_ids: frozenset[int] = frozenset()

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=user.role_codes,
            team_ids=user.team_ids,
            permissions=permissions_for(user.role_codes),
            managed_team_ids=frozenset(m.team_id for m in user.memberships if m.is_manager),
        )

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"You do not have permission to do this ({permission.value})")
