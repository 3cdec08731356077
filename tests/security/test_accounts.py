"""Local account hardening: audit of sign-ins, TOTP, password change, sign out everywhere, no secrets in logs."""

import logging
import time

import pyotp
from bs4 import BeautifulSoup
from sqlalchemy import select, text

from casework.accounts.models import User
from casework.audit import AuditEvent
from casework.auth import totp
from casework.auth.datakey import DataKey
from tests.conftest import sign_in
from tests.factories import PASSWORD, create_user


def _csrf(client, url="/sign-in"):
    page = client.get(url)
    return BeautifulSoup(page.get_data(as_text=True), "html.parser").find("input", {"name": "csrf_token"})["value"]


def _login(client, username, password):
    return client.post("/sign-in", data={"username": username, "password": password, "csrf_token": _csrf(client)},
                       headers={"User-Agent": "pytest-agent/1.0"})


def _events(session, since_seq=0):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.seq > since_seq).order_by(AuditEvent.seq)))


def _last_seq(session):
    return session.scalar(text("SELECT seq FROM audit_chain_head WHERE id = 1"))


def _enrol(client, session, user):
    key = DataKey.from_settings(client.application.config["SETTINGS"])  # the key the app will decrypt with
    secret, uri = totp.begin_enrolment(session, user, password=PASSWORD, key=key)
    assert uri.startswith("otpauth://totp/") and secret in uri
    earlier = time.time() - 90  # confirm with an older step so the current code is still unused
    totp.confirm_enrolment(session, user, pyotp.TOTP(secret).at(earlier), now=earlier, key=key)
    session.flush()
    return secret


def test_sign_in_success_and_failures_are_audited_without_secrets(client, session):
    user = create_user(session, username="audit.me")
    start = _last_seq(session)
    assert _login(client, "audit.me", "wrong-password-1").status_code == 401
    assert _login(client, "Typed-My-Password-Here-99", "x").status_code == 401
    assert _login(client, "audit.me", PASSWORD).status_code == 302
    failed_known, failed_unknown, ok = _events(session, start)
    assert (failed_known.action, failed_known.record_id, failed_known.actor_user_id) == ("sign_in_failed",
                                                                                          str(user.id), None)
    assert (failed_unknown.action, failed_unknown.record_id) == ("sign_in_failed", None)
    assert (ok.action, ok.actor_user_id, ok.actor_username) == ("sign_in", user.id, "audit.me")
    assert ok.ip == "127.0.0.1" and ok.user_agent == "pytest-agent/1.0"
    dumped = " ".join(str(v) for e in (failed_known, failed_unknown, ok) for v in vars(e).values())
    for secret in ("wrong-password-1", "Typed-My-Password-Here-99", PASSWORD):
        assert secret.lower() not in dumped.lower()


def test_passwords_never_reach_the_logs(client, session, caplog):
    create_user(session, username="log.user")
    with caplog.at_level(logging.DEBUG):
        _login(client, "log.user", "Wrong-Secret-Attempt-42")
        _login(client, "Pasted-Password-In-Username-7", "x")
        _login(client, "log.user", PASSWORD)
    assert caplog.records  # the sign-in is logged ...
    for secret in ("Wrong-Secret-Attempt-42", "Pasted-Password-In-Username-7", PASSWORD):
        assert secret not in caplog.text  # ... but never a password (or what may be one)


def test_totp_is_required_at_sign_in_when_enabled(client, session):
    user = create_user(session, username="two.step")
    secret = _enrol(client, session, user)
    response = _login(client, "two.step", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in/code")
    assert client.get("/account").status_code == 302  # password alone does not sign in
    page = client.get("/sign-in/code")
    assert "Enter your code" in page.get_data(as_text=True)
    token = _csrf(client, "/sign-in/code")
    bad = client.post("/sign-in/code", data={"code": "000000", "csrf_token": token})
    assert bad.status_code == 401 and "6-digit code" in bad.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    good = client.post("/sign-in/code", data={"code": code, "csrf_token": token})
    assert good.status_code == 302 and client.get("/account").status_code == 200
    # the same code cannot be replayed for another sign-in
    other = client.application.test_client()
    _login(other, "two.step", PASSWORD)
    replay = other.post("/sign-in/code", data={"code": code, "csrf_token": _csrf(other, "/sign-in/code")})
    assert replay.status_code == 401


def test_totp_guessing_locks_the_account_even_if_the_password_step_is_repeated(client, session):
    user = create_user(session, username="guess.me")
    _enrol(client, session, user)

    def wrong_codes(n):
        _login(client, "guess.me", PASSWORD)
        token = _csrf(client, "/sign-in/code")
        for _ in range(n):
            client.post("/sign-in/code", data={"code": "123456", "csrf_token": token})

    wrong_codes(2)
    wrong_codes(3)  # the right password in between does not reset the count
    session.refresh(user)
    assert user.failed_logins == 5 and user.locked_until is not None
    assert _login(client, "guess.me", PASSWORD).status_code == 401  # locked: not even the second step
    assert client.get("/sign-in/code").status_code == 302


def test_the_code_step_refuses_a_locked_account_even_with_the_right_code(client, session):
    from datetime import timedelta

    from casework.db import utcnow

    user = create_user(session, username="locked.two")
    secret = _enrol(client, session, user)
    _login(client, "locked.two", PASSWORD)
    user.locked_until = utcnow() + timedelta(minutes=10)  # locked meanwhile (e.g. guessing from elsewhere)
    session.flush()
    response = client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).now(),
                                                  "csrf_token": _csrf(client, "/sign-in/code")})
    assert response.status_code == 401 and client.get("/account").status_code == 302


def test_pending_second_factor_expires(client, session):
    user = create_user(session, username="slow.user")
    _enrol(client, session, user)
    _login(client, "slow.user", PASSWORD)
    with client.session_transaction() as sess:
        sess["mfa_started"] = int(time.time()) - 301
    assert client.get("/sign-in/code").headers["Location"].startswith("/sign-in")


def test_enrolment_through_the_pages_and_admin_reset(client, session):
    user = create_user(session, username="enrol.me")
    token = sign_in(client, user)
    assert "Off" in client.get("/account").get_data(as_text=True)
    page = client.post("/account/two-step", data={"csrf_token": token, "current_password": PASSWORD})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = BeautifulSoup(page.data, "html.parser").find(id="totp-secret").get_text().replace(" ", "")
    bad = client.post("/account/two-step/confirm", data={"code": "999999", "csrf_token": token})
    assert bad.status_code == 422
    done = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200 and totp.is_enabled(session, user.id)
    # no silent swap: replacing needs the password and a current code (tests/security/test_totp_reauth.py)
    assert client.post("/account/two-step", data={"csrf_token": token, "current_password": PASSWORD}).status_code == 422
    assert totp.totp_for(session, user.id).pending_secret is None
    epoch = user.session_epoch
    assert totp.reset_totp(session, user) and not totp.is_enabled(session, user.id)
    assert user.session_epoch == epoch + 1


def test_change_password_enforces_rules_and_ends_other_sessions(app, client, session):
    user = create_user(session, username="change.me")
    token = sign_in(client, user)
    other = app.test_client()
    sign_in(other, user)

    def change(current, new, confirm=None):
        return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                      "confirm": confirm or new, "csrf_token": token})

    assert change("not-my-password", "a-brand-new-passphrase").status_code == 422
    short = change(PASSWORD, "short1")
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    assert "must not contain the username" in change(PASSWORD, "change.me-is-my-password").get_data(as_text=True)
    assert change(PASSWORD, "a-brand-new-passphrase", "different-one-here").status_code == 422
    assert change(PASSWORD, "a-brand-new-passphrase").status_code == 200
    assert client.get("/account").status_code == 200  # this session was re-issued
    assert other.get("/account").status_code == 302  # every other session ended
    stored = session.get(User, user.id)
    session.refresh(stored)
    assert stored.password_hash.startswith("$argon2") and "a-brand-new-passphrase" not in stored.password_hash
    assert _events(session, _last_seq(session) - 1)[0].action == "password_change"


def test_sign_out_everywhere(app, client, session):
    user = create_user(session, username="everywhere")
    token = sign_in(client, user)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)
    assert laptop.get("/account").status_code == 200
    response = client.post("/account/sign-out-everywhere", data={"csrf_token": token})
    assert response.status_code == 302
    assert [c.get("/account").status_code for c in (client, laptop, phone)] == [302, 302, 302]


def test_sign_out_everywhere_needs_csrf(client, session):
    user = create_user(session)
    sign_in(client, user)
    assert client.post("/account/sign-out-everywhere").status_code == 400
    assert client.get("/account").status_code == 200
