"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with pyotp.

Enrolment: ``begin_enrolment`` makes a secret (shown once, with its otpauth:// URI, no QR image needed);
``confirm_enrolment`` switches it on once the user proves their app produces a valid code. At sign-in,
``verify_code`` accepts the current step +/- 1 and never the same step twice (replay). Lost device: an
administrator runs ``reset_totp`` (``casework users reset-2fa``) and the user enrols again.
"""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy.orm import Session

from casework.accounts.models import User
from casework.auth.models import UserTotp
from casework.db import utcnow
from casework.errors import Conflict, Invalid

ISSUER = "casework"
STEP_SECONDS = 30
_CODE = re.compile(r"^\d{6}$")


def totp_for(session: Session, user_id: int) -> UserTotp | None:
    return session.get(UserTotp, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    row = totp_for(session, user_id)
    return row is not None and row.confirmed_at is not None


def begin_enrolment(session: Session, user: User) -> tuple[str, str]:
    """A new pending secret (replacing any unconfirmed one). Returns (secret, otpauth URI)."""
    row = totp_for(session, user.id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("Two-step verification is already on. Ask an administrator to reset it.")
    secret = pyotp.random_base32(length=32)
    if row is None:
        session.add(UserTotp(user_id=user.id, secret=secret))
    else:
        row.secret, row.created_at, row.last_step = secret, utcnow(), None
    session.flush()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def _accept(row: UserTotp, code: str, now: float | None) -> bool:
    code = (code or "").replace(" ", "").strip()
    if not _CODE.match(code):
        return False
    now = time.time() if now is None else now
    totp = pyotp.TOTP(row.secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if row.last_step is not None and step <= row.last_step:
            continue  # this code (or an earlier one) was already used
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            row.last_step = step
            return True
    return False


def confirm_enrolment(session: Session, user: User, code: str, *, now: float | None = None) -> None:
    row = totp_for(session, user.id)
    if row is None or row.confirmed_at is not None:
        raise Conflict("Start setting up two-step verification first")
    if not _accept(row, code, now):
        raise Invalid("The code is not right", details={"code": "Enter the 6-digit code from your app"})
    row.confirmed_at = utcnow()


def verify_code(session: Session, user: User, code: str, *, now: float | None = None) -> bool:
    row = totp_for(session, user.id)
    if row is None or row.confirmed_at is None:
        return False
    return _accept(row, code, now)


def reset_totp(session: Session, user: User) -> bool:
    """Administrator recovery: remove the second factor and sign the user out everywhere."""
    row = totp_for(session, user.id)
    if row is None:
        return False
    session.delete(row)
    user.session_epoch += 1
    session.flush()
    return True
