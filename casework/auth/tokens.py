"""API bearer tokens: random, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import ApiToken, User
from casework.db import utcnow
from casework.errors import Invalid, NotFound

TOKEN_PREFIX = "cw_"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(session: Session, user: User, *, name: str, expires_in_days: int | None = 90) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("Give the token a name", details={"name": "Enter a name of 1 to 120 characters"})
    if expires_in_days is not None and not 1 <= expires_in_days <= 366:
        raise Invalid("Invalid expiry", details={"expires_in_days": "Enter a number of days from 1 to 366"})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=_digest(raw),
        prefix=raw[:10],
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return token, raw


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def user_for_token(session: Session, raw: str, *, now: datetime | None = None) -> User | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = now or utcnow()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.active:
        return None
    token.last_used_at = now
    return token.user
