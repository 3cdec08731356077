"""The audit trail: hash chain, append-only triggers and tamper detection."""

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from casework.audit import AuditChainHead, AuditEvent, record, verify_chain
from casework.audit.chain import row_hash
from tests.factories import create_user
from tests.security.helpers import tamper


def _head(session):
    return session.get(AuditChainHead, 1).seq


def _write(session, n, actor=None):
    rows = [record(session, actor, "view", record_type="person", record_id=100 + i, person_id=100 + i,
                   fields=["name", "date_of_birth"]) for i in range(n)]
    session.flush()
    return rows


def test_records_are_chained_and_verify(session):
    user = create_user(session)
    start = _head(session)
    rows = _write(session, 3, actor=user)
    assert [r["seq"] for r in rows] == [start + 1, start + 2, start + 3]
    assert rows[1]["prev_hash"] == rows[0]["hash"] and rows[2]["prev_hash"] == rows[1]["hash"]
    stored = session.scalar(select(AuditEvent).where(AuditEvent.seq == start + 1))
    assert stored.actor_user_id == user.id and stored.actor_username == user.username
    assert json.loads(stored.fields) == ["date_of_birth", "name"]
    assert stored.ip is None  # no request: no origin
    result = verify_chain(session)
    assert result.ok and result.last_seq == start + 3 and result.last_hash == rows[2]["hash"]


def test_hash_covers_every_chained_column(session):
    row = _write(session, 1)[0]
    for column, other in (("record_id", "999"), ("action", "update"), ("fields", "[]"), ("ip", "10.0.0.1"),
                          ("reason", "x"), ("actor_user_id", 7), ("seq", row["seq"] + 1)):
        assert row_hash({**row, column: other}) != row["hash"], column


def test_values_are_refused_where_field_names_belong(session):
    with pytest.raises(ValueError, match="field names"):
        record(session, None, "update", record_type="person", record_id=1, fields=["Jane Smith 01/02/2015"])


def test_break_glass_needs_a_reason(session):
    with pytest.raises(ValueError, match="reason"):
        record(session, None, "break_glass", record_type="person", record_id=1, reason="  ")


def test_unknown_action_is_refused(session):
    with pytest.raises(ValueError):
        record(session, None, "peek", record_type="person", record_id=1)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET record_id = 'x' WHERE seq = :seq",
    "DELETE FROM audit_event WHERE seq = :seq",
    "UPDATE audit_chain_head SET seq = seq - 1",
    "DELETE FROM audit_chain_head",
])
def test_database_refuses_changes_to_the_trail(session, statement):
    seq = _write(session, 1)[0]["seq"]
    with pytest.raises(DBAPIError, match="append-only|move forward|may not be deleted"):
        with session.begin_nested():
            session.execute(text(statement), {"seq": seq})


def test_edited_entry_is_detected(session):
    rows = _write(session, 3)
    tamper(session, "UPDATE audit_event SET record_id = '666' WHERE seq = :seq", seq=rows[1]["seq"])
    result = verify_chain(session)
    assert not result.ok and result.problem.kind == "edited" and result.problem.seq == rows[1]["seq"]


def test_edit_with_recomputed_hash_breaks_the_next_link(session):
    rows = _write(session, 3)
    forged = {**rows[1], "record_id": "666"}
    tamper(session, "UPDATE audit_event SET record_id = '666', hash = :h WHERE seq = :seq",
           h=row_hash(forged), seq=rows[1]["seq"])
    result = verify_chain(session)
    assert result.problem.kind == "broken_link" and result.problem.seq == rows[2]["seq"]


def test_deleted_entry_is_detected(session):
    rows = _write(session, 3)
    tamper(session, "DELETE FROM audit_event WHERE seq = :seq", seq=rows[1]["seq"])
    result = verify_chain(session)
    assert result.problem.kind == "missing" and result.problem.seq == rows[1]["seq"]


def test_deleted_and_renumbered_entries_are_detected(session):
    rows = _write(session, 3)
    tamper(session, "DELETE FROM audit_event WHERE seq = :seq", seq=rows[1]["seq"])
    tamper(session, "UPDATE audit_event SET seq = seq - 1 WHERE seq = :seq", seq=rows[2]["seq"])
    result = verify_chain(session)
    assert result.problem.kind in ("broken_link", "edited") and result.problem.seq == rows[1]["seq"]


def test_reordered_entries_are_detected(session):
    rows = _write(session, 3)
    a, b = rows[0]["seq"], rows[1]["seq"]
    tamper(session, "UPDATE audit_event SET seq = -1 WHERE seq = :a", a=a)
    tamper(session, "UPDATE audit_event SET seq = :a WHERE seq = :b", a=a, b=b)
    tamper(session, "UPDATE audit_event SET seq = :b WHERE seq = -1", b=b)
    result = verify_chain(session)
    assert not result.ok and result.problem.seq == a


def test_truncated_tail_is_detected_by_the_head(session):
    rows = _write(session, 2)
    tamper(session, "DELETE FROM audit_event WHERE seq = :seq", seq=rows[1]["seq"])
    result = verify_chain(session)
    assert result.problem.kind == "head_mismatch"


def test_wholesale_rewrite_is_caught_by_an_anchor(session):
    rows = _write(session, 2)
    anchor = {rows[0]["seq"]: rows[0]["hash"]}
    # rewrite both rows and the head consistently, as someone with full database access could
    prev = rows[0]["prev_hash"]
    for row in rows:
        forged = {**row, "record_id": "forged", "prev_hash": prev}
        forged["hash"] = row_hash(forged)
        tamper(session, "UPDATE audit_event SET record_id = 'forged', prev_hash = :p, hash = :h WHERE seq = :s",
               p=prev, h=forged["hash"], s=row["seq"])
        prev = forged["hash"]
    tamper(session, "UPDATE audit_chain_head SET hash = :h", h=prev)
    assert verify_chain(session).ok  # self-consistent forgery ...
    result = verify_chain(session, anchors=anchor)  # ... but not against a hash noted earlier
    assert result.problem.kind == "anchor_mismatch" and result.problem.seq == rows[0]["seq"]


def test_rollback_leaves_no_gap(session):
    start = _head(session)
    with session.begin_nested() as nested:
        _write(session, 2)
        nested.rollback()
    row = _write(session, 1)[0]
    assert row["seq"] == start + 1 and verify_chain(session).ok
