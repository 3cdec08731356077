"""Secrets at rest (TOTP secrets) encrypted under a key kept outside the database.

Key material: ``CASEWORK_DATA_KEY`` (required in production: a random string of at least 32 characters);
outside production, when it is not set, the key is derived from ``CASEWORK_SECRET_KEY``. The AES-256-GCM key is
HKDF-SHA256 of the material (so neither setting is ever used as an AES key directly, and the derived key differs
from anything the session signing uses). Stored form::

    v1$<key id>$<base64url(12-byte nonce + ciphertext + 16-byte tag)>

The key id (8 hex characters, also derived by HKDF, revealing nothing about the key) says which key encrypted a
value, so a wrong or changed key is reported as such instead of failing with a bare decryption error. The
purpose and the row (e.g. ``totp:42``) are bound as associated data: a value copied to another user's row does
not decrypt.
"""

from __future__ import annotations

import base64
import logging
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casework.errors import DomainError

PREFIX = "v1"
_SALT = b"casework data key v1"
log = logging.getLogger(__name__)


class DataKeyError(DomainError):
    """A stored secret cannot be decrypted with the configured key: an operator problem, reported as one line."""

    status, code = 503, "data_key_error"


def _hkdf(material: str, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(material.encode("utf-8"))


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX + "$")  # type: ignore[union-attr]


class DataKey:
    def __init__(self, material: str, *, source: str = "CASEWORK_DATA_KEY") -> None:
        if not material:
            raise ValueError("a data key needs key material")
        self._aead = AESGCM(_hkdf(material, b"aes-256-gcm", 32))
        self.key_id = _hkdf(material, b"key id", 4).hex()
        self.source = source

    @classmethod
    def from_settings(cls, settings: Any) -> DataKey:
        if getattr(settings, "data_key", ""):
            return cls(settings.data_key)
        return cls(settings.secret_key, source="derived from CASEWORK_SECRET_KEY (development)")

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{PREFIX}${self.key_id}${base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, *, context: str) -> str:
        parts = (stored or "").split("$")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise self._error(f"the stored {context.split(':')[0]} secret is not in the encrypted form (run the "
                              "database migrations: casework init)")
        if parts[1] != self.key_id:
            raise self._error(f"the stored {context.split(':')[0]} secret was encrypted under another data key "
                              f"(key id {parts[1]}; the configured key, {self.source}, has id {self.key_id}): "
                              "set CASEWORK_DATA_KEY to the key it was encrypted with")
        try:
            raw = base64.urlsafe_b64decode(parts[2].encode("ascii"))
            return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError):
            raise self._error(f"the stored {context.split(':')[0]} secret could not be decrypted (altered, or "
                              "moved from another row)") from None

    def _error(self, detail: str) -> DataKeyError:
        log.error("data key problem: %s", detail)
        return DataKeyError(f"Two-step verification cannot be checked just now. Administrator: {detail}.")


def current_data_key() -> DataKey:
    """The key of the running app (its Settings); outside an app, the key the environment's settings give."""
    from flask import current_app, has_app_context

    if has_app_context():
        settings = current_app.config["SETTINGS"]
    else:
        from casework.config import Settings

        settings = Settings.from_env()
    return DataKey.from_settings(settings)
