"""Audit tables: the events (append-only, hash-chained) and the single-row chain head."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, utcnow

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    BREAK_GLASS = "break_glass"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT_EVERYWHERE = "sign_out_everywhere"
    PASSWORD_CHANGE = "password_change"
    TOTP_CHANGE = "totp_change"


class AuditEvent(Base):
    """One audited action. Never updated or deleted (a PostgreSQL trigger refuses both).

    No foreign keys on purpose: an audit row must outlive (and never be changed by) the rows it describes.
    The actor's username is copied so the trail still reads correctly if the account is renamed.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_person_id_occurred_at", "person_id", "occurred_at"),
        Index("ix_audit_event_actor_user_id_occurred_at", "actor_user_id", "occurred_at"),
        Index("ix_audit_event_record_type_record_id", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None]
    actor_username: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of field names (never values)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """Exactly one row (id=1): the last sequence number and hash. Updating it first serialises writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
