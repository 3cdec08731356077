"""The hash chain: canonical form of a row, appending under a lock, and verification.

Each row's ``hash`` is ``sha256(prev_hash + canonical_json(row))`` where the canonical JSON covers every
column except ``id`` and ``hash`` (sorted keys, no whitespace, UTC timestamps to the microsecond). ``seq``
runs 1, 2, 3, ... without gaps, and ``audit_chain_head`` (one row) holds the last ``seq`` and ``hash``.

Appending first does ``UPDATE audit_chain_head SET seq = seq + 1 ... RETURNING``: on PostgreSQL that row lock
is held until the transaction ends, so concurrent writers queue and the chain stays linear; on SQLite the
write takes the database write lock (single writer) before anything is read, so there is no stale snapshot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from casework.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

HEAD_ID = 1
CHAINED_COLUMNS = (
    "seq", "occurred_at", "actor_user_id", "actor_username", "action", "record_type", "record_id",
    "person_id", "fields", "ip", "user_agent", "reason", "prev_hash",
)
_events = AuditEvent.__table__
_head = AuditChainHead.__table__


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands back naive values to Core selects
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(row: dict[str, Any]) -> str:
    doc = {name: row.get(name) for name in CHAINED_COLUMNS}
    doc["occurred_at"] = _timestamp(doc["occurred_at"])
    doc["seq"] = int(doc["seq"])
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256((row["prev_hash"] + canonical_json(row)).encode("utf-8")).hexdigest()


def append(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """Insert one chained row (values: every chained column except seq/prev_hash). Returns the full row."""
    head = session.execute(
        update(_head).where(_head.c.id == HEAD_ID).values(seq=_head.c.seq + 1).returning(_head.c.seq, _head.c.hash)
    ).one_or_none()
    if head is None:  # a database created without the migration's seed row
        session.execute(insert(_head).values(id=HEAD_ID, seq=1, hash=GENESIS_HASH))
        seq, prev = 1, GENESIS_HASH
    else:
        seq, prev = head.seq, head.hash
    row = {**values, "seq": seq, "prev_hash": prev}
    row["hash"] = row_hash(row)
    session.execute(insert(_events).values(**row))
    session.execute(update(_head).where(_head.c.id == HEAD_ID).values(hash=row["hash"]))
    return row


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # edited | missing | broken_link | head_mismatch | anchor_mismatch
    message: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    last_seq: int
    last_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _walk(rows: Iterable[Any], anchors: dict[int, str]) -> tuple[int, int, str, ChainProblem | None]:
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for raw in rows:
        row = dict(raw._mapping)
        checked += 1
        seq = int(row["seq"])
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq} to {seq - 1}"
            return checked, seq, prev_hash, ChainProblem(
                expected_seq, "missing", f"entry {missing} is missing (deleted): next entry found is {seq}")
        if row["prev_hash"] != prev_hash:
            return checked, seq, prev_hash, ChainProblem(
                seq, "broken_link", f"entry {seq} does not follow entry {seq - 1} (deleted, inserted or reordered)")
        if row_hash(row) != row["hash"]:
            return checked, seq, prev_hash, ChainProblem(
                seq, "edited", f"entry {seq} was altered after it was written (hash mismatch)")
        if seq in anchors and anchors[seq] != row["hash"]:
            return checked, seq, prev_hash, ChainProblem(
                seq, "anchor_mismatch", f"entry {seq} does not match the anchored hash (chain rewritten)")
        prev_hash, expected_seq = row["hash"], seq + 1
    return checked, expected_seq - 1, prev_hash, None


def verify_chain(session: Session, *, anchors: dict[int, str] | None = None) -> VerifyResult:
    """Walk the whole chain in order and report the first edited, deleted, inserted or reordered entry."""
    anchors = anchors or {}
    rows = session.execute(select(_events).order_by(_events.c.seq).execution_options(yield_per=2000))
    checked, last_seq, last_hash, problem = _walk(rows, anchors)
    if problem is None:
        missing_anchor = next((s for s in sorted(anchors) if s > last_seq), None)
        if missing_anchor is not None:
            problem = ChainProblem(missing_anchor, "missing", f"anchored entry {missing_anchor} is missing")
    if problem is None:
        head = session.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == HEAD_ID)).one_or_none()
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        if (head_seq, head_hash) != (last_seq, last_hash):
            problem = ChainProblem(
                last_seq + 1, "head_mismatch",
                f"the chain head says entry {head_seq} is the last, but the table ends at entry {last_seq} "
                "(entries deleted from the end, or the head was altered)")
    return VerifyResult(checked, last_seq, last_hash, problem)
