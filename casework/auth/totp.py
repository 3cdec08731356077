"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with pyotp.

Enrolment: ``begin_enrolment`` re-authenticates the user (current password, and the current code when a second
factor is already on), then makes a secret (shown once, with its otpauth:// URI, no QR image needed);
``confirm_enrolment`` switches it on once the user proves their app produces a valid code. Replacing a factor
that is on keeps the old one working until the new one is confirmed. At sign-in, ``verify_code`` accepts the
current step +/- 1 and never the same step twice (replay). Lost device: an administrator runs ``reset_totp``
(``casework users reset-2fa``) and the user enrols again.

Secrets are stored encrypted (``casework.auth.datakey``, AES-256-GCM under CASEWORK_DATA_KEY, bound to the
user id); the database never holds the base32 text.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from casework.accounts.models import User
from casework.auth.datakey import DataKey, current_data_key
from casework.auth.login import count_failure, is_locked
from casework.auth.models import UserTotp
from casework.auth.passwords import verify_password
from casework.db import utcnow
from casework.errors import Conflict, Invalid

ISSUER = "casework"
STEP_SECONDS = 30
_CODE = re.compile(r"^\d{6}$")
WRONG_PASSWORD = "Enter your current password"
WRONG_CODE = "Enter the current 6-digit code from your authenticator app"
LOCKED = "Too many wrong attempts. Wait 15 minutes, then try again"


def _context(user_id: int) -> str:
    return f"totp:{user_id}"


def totp_for(session: Session, user_id: int) -> UserTotp | None:
    return session.get(UserTotp, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    row = totp_for(session, user_id)
    return row is not None and row.confirmed_at is not None


def is_replacing(session: Session, user_id: int) -> bool:
    row = totp_for(session, user_id)
    return row is not None and row.confirmed_at is not None and row.pending_secret is not None


def reauthenticate(session: Session, user: User, *, password: str, code: str | None, max_failures: int,
                   now: datetime | None = None, at: float | None = None, key: DataKey | None = None) -> None:
    """The current password, and the current code when a second factor is on. Raises Invalid (details by form
    field); a wrong password or code counts towards the account lockout (the caller commits the count)."""
    now = now or utcnow()
    if is_locked(user, now):
        raise Invalid("Your account is locked for a while", details={"current_password": LOCKED})
    if not verify_password(user.password_hash, password or ""):
        count_failure(user, now=now, max_failures=max_failures)
        raise Invalid("Your current password is not right", details={"current_password": WRONG_PASSWORD})
    if is_enabled(session, user.id) and not verify_code(session, user, code or "", now=at, key=key):
        count_failure(user, now=now, max_failures=max_failures)
        raise Invalid("The code is not right", details={"current_code": WRONG_CODE})


def begin_enrolment(session: Session, user: User, *, password: str, code: str | None = None, max_failures: int = 5,
                    now: float | None = None, key: DataKey | None = None) -> tuple[str, str]:
    """Re-authenticate, then make a new secret: the first one (replacing any unconfirmed one), or a replacement
    for the one that is on (which keeps working until the new one is confirmed). Returns (secret, otpauth URI)."""
    key = key or current_data_key()
    reauthenticate(session, user, password=password, code=code, max_failures=max_failures, at=now, key=key)
    secret = pyotp.random_base32(length=32)
    sealed = key.encrypt(secret, context=_context(user.id))
    row = totp_for(session, user.id)
    if row is None:
        session.add(UserTotp(user_id=user.id, secret=sealed))
    elif row.confirmed_at is None:
        row.secret, row.created_at, row.last_step, row.pending_secret = sealed, utcnow(), None, None
    else:
        row.pending_secret = sealed
    session.flush()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, last_step: int | None, now: float | None) -> int | None:
    code = (code or "").replace(" ", "").strip()
    if not _CODE.match(code):
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue  # this code (or an earlier one) was already used
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def confirm_enrolment(session: Session, user: User, code: str, *, now: float | None = None,
                      key: DataKey | None = None) -> bool:
    """Switch the new secret on with a first code. Returns True when it replaced a factor that was on."""
    key = key or current_data_key()
    row = totp_for(session, user.id)
    replacing = row is not None and row.confirmed_at is not None and row.pending_secret is not None
    if row is None or (row.confirmed_at is not None and not replacing):
        raise Conflict("Start setting up two-step verification first")
    sealed = row.pending_secret if replacing else row.secret
    assert sealed is not None
    secret = key.decrypt(sealed, context=_context(user.id))
    step = _matching_step(secret, code, None if replacing else row.last_step, now)
    if step is None:
        raise Invalid("The code is not right", details={"code": "Enter the 6-digit code from your app"})
    if replacing:
        row.secret, row.pending_secret = sealed, None
    row.last_step, row.confirmed_at = step, utcnow()
    return replacing


def verify_code(session: Session, user: User, code: str, *, now: float | None = None,
                key: DataKey | None = None) -> bool:
    row = totp_for(session, user.id)
    if row is None or row.confirmed_at is None:
        return False
    if not _CODE.match((code or "").replace(" ", "").strip()):
        return False  # not even a code: no need to decrypt
    secret = (key or current_data_key()).decrypt(row.secret, context=_context(user.id))
    step = _matching_step(secret, code, row.last_step, now)
    if step is None:
        return False
    row.last_step = step
    return True


def reset_totp(session: Session, user: User) -> bool:
    """Administrator recovery: remove the second factor and sign the user out everywhere."""
    row = totp_for(session, user.id)
    if row is None:
        return False
    session.delete(row)
    user.session_epoch += 1
    session.flush()
    return True
