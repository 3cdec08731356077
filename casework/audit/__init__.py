"""Tamper-evident audit trail: an append-only, hash-chained ``audit_event`` table.

Call :func:`record` for every view or change of personal data, in the same transaction as the change
(the caller commits). ``casework audit verify`` walks the chain. See docs/security.md.
"""

from casework.audit.chain import ChainProblem, verify_chain
from casework.audit.models import AuditAction, AuditChainHead, AuditEvent
from casework.audit.service import record, search

__all__ = ["AuditAction", "AuditChainHead", "AuditEvent", "ChainProblem", "record", "search", "verify_chain"]
