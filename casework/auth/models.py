"""Security tables: TOTP second factor, break-glass grants and the alerts they raise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, utcnow


class UserTotp(Base):
    """A user's TOTP secret, encrypted (casework.auth.datakey; never the base32 text). Enrolment is pending until a
    first code is confirmed (confirmed_at set). Replacing a confirmed factor keeps it working until a code from
    the new one is confirmed (pending_secret)."""

    __tablename__ = "user_totp"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    secret: Mapped[str] = mapped_column(String(255))  # "v1$<key id>$<AES-GCM sealed base32 secret>"
    pending_secret: Mapped[str | None] = mapped_column(String(255))  # replacement awaiting its first code
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # The last accepted 30-second time step: a code is never accepted twice (replay).
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class BreakGlassGrant(Base):
    """Time-limited access to one record the user could not otherwise see, with the reason they gave."""

    __tablename__ = "break_glass_grant"
    __table_args__ = (Index("ix_break_glass_grant_user_id_record", "user_id", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AccessAlert(Base):
    """A notification for a record's manager (e.g. someone broke the glass on their team's record)."""

    __tablename__ = "access_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("break_glass_grant.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
