"""`casework audit verify` on a real database, and concurrent writers keeping the chain linear."""

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from casework.audit import record, verify_chain
from casework.audit.chain import row_hash
from casework.cli import main
from casework.db import make_engine, upgrade_to_head
from tests.conftest import fresh_database_url
from tests.security.helpers import tamper


@pytest.fixture(scope="module")
def audit_db(request, tmp_path_factory):
    url = fresh_database_url(request.config, tmp_path_factory, "audit")
    engine = make_engine(url)
    upgrade_to_head(engine)
    yield url, engine
    engine.dispose()


def _verify(url, tmp_path, *args):
    env = {"DATABASE_URL": url, "CASEWORK_INSTANCE_DIR": str(tmp_path)}
    return CliRunner().invoke(main, ["audit", "verify", *args], env=env, catch_exceptions=False)


def test_concurrent_writers_keep_one_linear_chain(audit_db):
    url, engine = audit_db
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with Session(engine) as s:
                    record(s, None, "view", record_type="person", record_id=f"{n}-{i}")
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as s:
        result = verify_chain(s)
    assert result.ok and result.checked == result.last_seq == 90


def test_cli_verify_reports_intact_then_tampered(audit_db, tmp_path):
    url, engine = audit_db
    with Session(engine) as s:
        rows = [record(s, None, "update", record_type="case", record_id=i, fields=["status"]) for i in range(3)]
        s.commit()
    ok = _verify(url, tmp_path)
    assert ok.exit_code == 0, ok.output
    assert "Audit chain intact" in ok.output and rows[-1]["hash"] in ok.output
    anchored = _verify(url, tmp_path, "--anchor", f"{rows[0]['seq']}:{rows[0]['hash']}")
    assert anchored.exit_code == 0
    wrong_anchor = _verify(url, tmp_path, "--anchor", f"{rows[0]['seq']}:{'a' * 64}")
    assert wrong_anchor.exit_code == 1 and "anchor_mismatch" in wrong_anchor.output
    assert _verify(url, tmp_path, "--anchor", "nonsense").exit_code == 2

    with Session(engine) as s:  # a database owner edits one entry, keeping its hash consistent
        forged = {**rows[1], "fields": '["status","secret"]'}
        tamper(s, "UPDATE audit_event SET fields = :f, hash = :h WHERE seq = :seq",
               f=forged["fields"], h=row_hash(forged), seq=rows[1]["seq"])
        s.commit()
    broken = _verify(url, tmp_path)
    assert broken.exit_code == 1
    assert f"AUDIT CHAIN BROKEN at entry {rows[2]['seq']}" in broken.output


def test_cli_reset_2fa_removes_the_second_factor_and_is_audited(audit_db, tmp_path):
    from casework.accounts.service import create_user
    from casework.audit import AuditEvent
    from casework.auth import totp
    from casework.auth.datakey import DataKey

    url, engine = audit_db
    with Session(engine) as s:
        user = create_user(s, username="lost.phone", display_name="Lost Phone", password="a-long-passphrase-77")
        totp.begin_enrolment(s, user, password="a-long-passphrase-77", key=DataKey("cli-test-data-key-" + "k" * 32))
        row = totp.totp_for(s, user.id)
        row.confirmed_at = row.created_at
        s.commit()
        user_id, epoch = user.id, user.session_epoch
    env = {"DATABASE_URL": url, "CASEWORK_INSTANCE_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["users", "reset-2fa", "lost.phone"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "removed" in result.output
    again = CliRunner().invoke(main, ["users", "reset-2fa", "lost.phone"], env=env, catch_exceptions=False)
    assert "had no two-step verification" in again.output
    missing = CliRunner().invoke(main, ["users", "reset-2fa", "nobody.x"], env=env, catch_exceptions=False)
    assert missing.exit_code == 1
    with Session(engine) as s:
        assert not totp.is_enabled(s, user_id)
        from casework.accounts.models import User

        assert s.get(User, user_id).session_epoch == epoch + 1
        event = s.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
        assert (event.action, event.record_id, event.actor_user_id) == ("totp_change", str(user_id), None)
        assert "administrator" in event.reason
