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
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user
