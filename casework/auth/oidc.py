"""OpenID Connect sign-in (authorization code + PKCE S256, state and nonce) through authlib.

The council's identity provider (e.g. Microsoft Entra ID) authenticates; casework decides who may come in:
the account named by ``CASEWORK_OIDC_USERNAME_CLAIM`` (default ``preferred_username``) must already exist in
casework and be active -- unknown or disabled users are refused, never created on the fly.

Group mapping (``CASEWORK_OIDC_GROUP_MAP``): ``group=role:practitioner,team:cin-east;group2=role:team_manager``.
The map governs exactly the roles and teams it mentions: at each sign-in the user gets those that their IdP
groups map to and loses those that no group of theirs maps to. Roles and teams the map never mentions (e.g. a
locally granted administrator role) are left alone. Sign-in through the IdP skips casework's own TOTP (the
IdP enforces its own second factor).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.models import RoleGrant, Team, TeamMembership, User
from casework.auth.permissions import Role

CLIENT_NAME = "oidc"
SCOPES = "openid profile email groups"
CLOCK_LEEWAY_SECONDS = 60
clock = time.time  # tests move this to check expired tokens


class OidcRefused(Exception):
    """Sign-in through the IdP refused; ``reason`` is for the log and audit, ``message`` for the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason, self.message = reason, message


@dataclass(frozen=True)
class GroupGrant:
    kind: str  # role | team
    value: str


def parse_group_map(raw: str) -> dict[str, list[GroupGrant]]:
    mapping: dict[str, list[GroupGrant]] = {}
    for entry in filter(None, (part.strip() for part in (raw or "").split(";"))):
        group, sep, grants = entry.partition("=")
        if not sep or not group.strip():
            raise ValueError(f"CASEWORK_OIDC_GROUP_MAP entry {entry!r} is not group=role:x,team:y")
        for grant in filter(None, (g.strip() for g in grants.split(","))):
            kind, _, value = grant.partition(":")
            if kind not in ("role", "team") or not value:
                raise ValueError(f"CASEWORK_OIDC_GROUP_MAP: {grant!r} is not role:CODE or team:CODE")
            if kind == "role" and value not in Role._value2member_map_:
                raise ValueError(f"CASEWORK_OIDC_GROUP_MAP: unknown role {value!r}")
            mapping.setdefault(group.strip(), []).append(GroupGrant(kind, value))
    return mapping


def is_configured(settings: Any) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret)


def client_for(app: Flask) -> Any:
    """The authlib client, registered on first use (discovery is fetched lazily from the issuer)."""
    if "casework_oidc" not in app.extensions:
        from authlib.integrations.flask_client import OAuth

        settings = app.config["SETTINGS"]
        oauth = OAuth(app)
        oauth.register(
            CLIENT_NAME,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 15},
        )
        app.extensions["casework_oidc"] = oauth.create_client(CLIENT_NAME)
    return app.extensions["casework_oidc"]


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def check_token_times(claims: dict[str, Any]) -> None:
    now = clock()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp + CLOCK_LEEWAY_SECONDS < now:
        raise OidcRefused("expired_token", "Your sign-in took too long or has expired. Try again.")
    if isinstance(iat, int | float) and iat - CLOCK_LEEWAY_SECONDS > now:
        raise OidcRefused("token_from_the_future", "Your sign-in could not be checked. Try again.")


def resolve_user(session: Session, claims: dict[str, Any], settings: Any) -> User:
    """The active casework user these ID-token claims name, with mapped roles and teams brought up to date."""
    check_token_times(claims)
    name = claims.get(settings.oidc_username_claim)
    if not isinstance(name, str) or not name.strip():
        raise OidcRefused("no_username_claim", "Your council account did not say who you are. Contact support.")
    name = name.strip().lower()
    if settings.oidc_username_claim in ("email", "upn", "preferred_username") and "@" in name:
        user = session.scalar(select(User).where(func.lower(User.email) == name)) or session.scalar(
            select(User).where(func.lower(User.username) == name.split("@", 1)[0]))
    else:
        user = session.scalar(select(User).where(func.lower(User.username) == name))
    if user is None:
        raise OidcRefused("unknown_user", "There is no casework account for you. Ask an administrator to add one.")
    if not user.active:
        raise OidcRefused("disabled_user", "Your casework account is disabled. Ask an administrator.")
    groups = claims.get("groups") or []
    if isinstance(groups, list):
        apply_group_map(session, user, [str(g) for g in groups], parse_group_map(settings.oidc_group_map))
    return user


def apply_group_map(session: Session, user: User, groups: list[str], mapping: dict[str, list[GroupGrant]]) -> None:
    if not mapping:
        return
    governed_roles = {g.value for grants in mapping.values() for g in grants if g.kind == "role"}
    governed_teams = {g.value for grants in mapping.values() for g in grants if g.kind == "team"}
    granted = [g for group in groups for g in mapping.get(group, [])]
    want_roles = {g.value for g in granted if g.kind == "role"}
    want_teams = {g.value for g in granted if g.kind == "team"}
    user.roles = [r for r in user.roles if r.role not in governed_roles or r.role in want_roles] + [
        RoleGrant(role=code) for code in sorted(want_roles - user.role_codes)]
    teams = {t.code: t.id for t in session.scalars(select(Team).where(Team.code.in_(governed_teams)))}
    governed_ids = set(teams.values())
    want_ids = {teams[c] for c in want_teams if c in teams}
    user.memberships = [m for m in user.memberships if m.team_id not in governed_ids or m.team_id in want_ids] + [
        TeamMembership(team_id=tid) for tid in sorted(want_ids - user.team_ids)]
    session.flush()
