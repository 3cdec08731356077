"""Helpers for the security tests: simulate a database owner tampering with the audit trail."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

SQLITE_TRIGGERS = ("audit_event_no_update", "audit_event_no_delete", "audit_chain_head_no_delete",
                   "audit_chain_head_forward_only")


def disable_audit_triggers(session: Session) -> None:
    """What an attacker with owner rights would do first. Transactional on both databases (rolled back)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        session.execute(text("ALTER TABLE audit_chain_head DISABLE TRIGGER USER"))
    else:
        for name in SQLITE_TRIGGERS:
            session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def tamper(session: Session, sql: str, **params: object) -> None:
    disable_audit_triggers(session)
    session.execute(text(sql), params)
