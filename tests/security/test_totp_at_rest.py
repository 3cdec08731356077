"""TOTP secrets are encrypted at rest under CASEWORK_DATA_KEY: the database never holds the base32 secret, a wrong
key is reported clearly (no crash, nothing counted), existing secrets are encrypted by migration 0009, and
production refuses to start without a data key."""

from __future__ import annotations

import logging
import time

import pyotp
import pytest
from alembic import command
from bs4 import BeautifulSoup
from sqlalchemy import text

from casework.auth import totp
from casework.auth.datakey import DataKey, DataKeyError, is_encrypted
from casework.config import ConfigError, Settings
from casework.db import alembic_config, make_engine
from tests.conftest import fresh_database_url, sign_in
from tests.factories import PASSWORD, create_user


def _raw_rows(session) -> list[dict]:
    return [dict(r._mapping) for r in session.execute(text("SELECT * FROM user_totp"))]


def _enrol_through_pages(client, session, user) -> str:
    token = sign_in(client, user)
    page = client.post("/account/two-step", data={"csrf_token": token, "current_password": PASSWORD})
    assert page.status_code == 200
    secret = BeautifulSoup(page.data, "html.parser").find(id="totp-secret").get_text().replace(" ", "")
    done = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200 and totp.is_enabled(session, user.id)
    return secret


def test_the_database_never_holds_the_base32_secret(client, session):
    user = create_user(session, username="at.rest")
    secret = _enrol_through_pages(client, session, user)
    (row,) = [r for r in _raw_rows(session) if r["user_id"] == user.id]
    dumped = " ".join(str(v) for v in row.values())
    assert secret not in dumped and secret.lower() not in dumped.lower()
    assert is_encrypted(row["secret"]) and row["secret"].startswith("v1$")
    key = DataKey.from_settings(client.application.config["SETTINGS"])
    assert key.decrypt(row["secret"], context=f"totp:{user.id}") == secret  # ... yet it is the same secret

    # a replacement waiting for its first code is encrypted too
    token = sign_in(client, user)
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the current step was used to confirm
    page = client.post("/account/two-step", data={"csrf_token": token, "current_password": PASSWORD,
                                                  "current_code": next_code})
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    new_secret = BeautifulSoup(page.data, "html.parser").find(id="totp-secret").get_text().replace(" ", "")
    (row,) = [r for r in _raw_rows(session) if r["user_id"] == user.id]
    assert is_encrypted(row["pending_secret"]) and new_secret not in " ".join(str(v) for v in row.values())


def test_a_ciphertext_is_bound_to_its_key_and_row():
    key, other = DataKey("k" * 40), DataKey("o" * 40)
    sealed = key.encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", context="totp:7")
    assert len(sealed) <= 255 and key.decrypt(sealed, context="totp:7") == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with pytest.raises(DataKeyError) as wrong_key:
        other.decrypt(sealed, context="totp:7")
    assert key.key_id in wrong_key.value.message and other.key_id in wrong_key.value.message
    assert "CASEWORK_DATA_KEY" in wrong_key.value.message and wrong_key.value.status == 503
    with pytest.raises(DataKeyError, match="moved from another row"):
        key.decrypt(sealed, context="totp:8")  # copied onto another user's row
    head, body = sealed.rsplit("$", 1)
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with pytest.raises(DataKeyError, match="altered"):
        key.decrypt(f"{head}${flipped}", context="totp:7")
    with pytest.raises(DataKeyError, match="not in the encrypted form"):
        key.decrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", context="totp:7")


def test_a_wrong_data_key_gives_a_clear_error_at_sign_in_not_a_crash(app, client, session, caplog):
    user = create_user(session, username="wrong.key")
    secret = _enrol_through_pages(client, session, user)
    fresh = app.test_client()
    page = fresh.get("/sign-in")
    csrf = BeautifulSoup(page.get_data(as_text=True), "html.parser").find("input", {"name": "csrf_token"})["value"]
    fresh.post("/sign-in", data={"username": "wrong.key", "password": PASSWORD, "csrf_token": csrf})
    page = fresh.get("/sign-in/code")  # the password step re-issued the session (and its CSRF token)
    csrf = BeautifulSoup(page.get_data(as_text=True), "html.parser").find("input", {"name": "csrf_token"})["value"]
    app.config["SETTINGS"].data_key = "a-different-data-key-" + "z" * 32  # e.g. the key was changed by mistake
    failures = user.failed_logins
    with caplog.at_level(logging.ERROR):
        response = fresh.post("/sign-in/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf})
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and "another data key" in body and "CASEWORK_DATA_KEY" in body
    assert "Traceback" not in body and "another data key" in caplog.text
    session.refresh(user)
    assert user.failed_logins == failures and user.locked_until is None  # the user is not blamed for it
    assert fresh.get("/account").status_code == 302  # and not signed in
    assert secret not in caplog.text


def test_production_refuses_to_start_without_a_data_key():
    base = {"CASEWORK_ENV": "production", "CASEWORK_SECRET_KEY": "s" * 40}
    with pytest.raises(ConfigError, match="CASEWORK_DATA_KEY must be set"):
        Settings.from_env(base)
    with pytest.raises(ConfigError, match="CASEWORK_DATA_KEY"):
        Settings.from_env({**base, "CASEWORK_DATA_KEY": "short"})
    with pytest.raises(ConfigError, match="different from CASEWORK_SECRET_KEY"):
        Settings.from_env({**base, "CASEWORK_DATA_KEY": "s" * 40})
    good = Settings.from_env({**base, "CASEWORK_DATA_KEY": "d" * 40})
    assert DataKey.from_settings(good).key_id == DataKey("d" * 40).key_id


def test_outside_production_the_key_is_derived_from_the_secret_key(tmp_path):
    dev = Settings.from_env({"CASEWORK_INSTANCE_DIR": str(tmp_path), "CASEWORK_SECRET_KEY": "x" * 40})
    assert dev.data_key == ""
    derived = DataKey.from_settings(dev)
    assert derived.key_id == DataKey("x" * 40).key_id and "derived" in derived.source
    explicit = Settings.from_env({"CASEWORK_INSTANCE_DIR": str(tmp_path), "CASEWORK_SECRET_KEY": "x" * 40,
                                  "CASEWORK_DATA_KEY": "y" * 40})
    assert DataKey.from_settings(explicit).key_id != derived.key_id


def test_migration_0009_encrypts_existing_secrets_and_downgrade_restores_them(request, tmp_path_factory,
                                                                              monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_DATA_KEY", "migration-test-data-key-" + "m" * 20)
    monkeypatch.setenv("CASEWORK_INSTANCE_DIR", str(tmp_path))
    engine = make_engine(fresh_database_url(request.config, tmp_path_factory, "totpmig"))
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    secret = pyotp.random_base32(length=32)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0008_worklist_order")
            uid = conn.execute(text("INSERT INTO user_account (username, display_name, active, failed_logins, "
                                    "session_epoch, created_at) VALUES ('mig.user', 'Mig', true, 0, 0, "
                                    "CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
            conn.execute(text("INSERT INTO user_totp (user_id, secret, created_at, confirmed_at) "
                              "VALUES (:u, :s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"u": uid, "s": secret})
            command.upgrade(cfg, "0009_totp_encryption")
            stored = conn.execute(text("SELECT secret FROM user_totp WHERE user_id = :u"), {"u": uid}).scalar_one()
            assert secret not in stored and is_encrypted(stored)
            key = DataKey("migration-test-data-key-" + "m" * 20)
            assert key.decrypt(stored, context=f"totp:{uid}") == secret
            command.upgrade(cfg, "0009_totp_encryption")  # already there: nothing encrypted twice
            assert conn.execute(text("SELECT secret FROM user_totp")).scalar_one() == stored

            monkeypatch.setenv("CASEWORK_DATA_KEY", "the-wrong-key-for-downgrade-" + "w" * 20)
            with pytest.raises(DataKeyError, match="another data key"):
                command.downgrade(cfg, "0008_worklist_order")
    finally:
        engine.dispose()
    # the failed downgrade rolled back; with the right key it restores the base32 text
    engine = make_engine(engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CASEWORK_DATA_KEY", "migration-test-data-key-" + "m" * 20)
    try:
        with engine.begin() as conn:
            assert is_encrypted(conn.execute(text("SELECT secret FROM user_totp")).scalar_one())
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008_worklist_order")
            assert conn.execute(text("SELECT secret FROM user_totp")).scalar_one() == secret
    finally:
        engine.dispose()
