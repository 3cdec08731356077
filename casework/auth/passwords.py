"""Argon2 password hashing and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from casework.errors import Invalid

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time (no user enumeration).
_DUMMY_HASH = _hasher.hash("casework-dummy-password-never-valid")
MIN_LENGTH = 12
_COMMON = {"password1234", "passwordpassword", "123456789012", "qwertyuiopas", "letmeinletmein"}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, *, username: str = "") -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if password.lower() in _COMMON or len(set(password)) < 4:
        problems.append("is too easy to guess")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    if problems:
        message = "Password " + " and ".join(problems)
        raise Invalid("The password does not meet the rules", details={"password": message})
