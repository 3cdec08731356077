"""Local sign-in: generic failures, counted attempts and a temporary lock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.models import User
from casework.auth.passwords import verify_password

LOCK_MINUTES = 15
GENERIC_FAILURE = "Enter a correct username and password"


def authenticate(
    session: Session, username: str, password: str, *, now: datetime, max_failures: int
) -> User | None:
    """Return the user, or None whatever went wrong (the caller commits the counted failure)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None
    if user.locked_until and user.locked_until > now:
        user.failed_logins += 1
        return None
    if not ok or not user.active:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        return None
    from casework.auth.totp import is_enabled

    if is_enabled(session, user.id):
        return user  # password right; the count is reset only once the second factor is right too
    mark_signed_in(user, now)
    return user


def mark_signed_in(user: User, now: datetime) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now


def count_failure(user: User, *, now: datetime, max_failures: int) -> None:
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until = now + timedelta(minutes=LOCK_MINUTES)


def is_locked(user: User, now: datetime) -> bool:
    return bool(user.locked_until and user.locked_until > now)
