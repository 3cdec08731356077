"""Setting up or replacing two-step verification needs the current password, and the current code when it is on.
A wrong answer shows a clear error on the page, counts towards the lockout, is audited, and changes nothing."""

from __future__ import annotations

import time

import pyotp
from bs4 import BeautifulSoup
from sqlalchemy import func, select, text

from casework.audit import AuditEvent
from casework.auth import totp
from tests.conftest import sign_in
from tests.factories import PASSWORD, create_user


def _totp_row(session, user_id):
    return session.execute(text("SELECT secret, pending_secret, confirmed_at, last_step FROM user_totp "
                                "WHERE user_id = :u"), {"u": user_id}).first()


def _seq(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _secret(page) -> str:
    return BeautifulSoup(page.data, "html.parser").find(id="totp-secret").get_text().replace(" ", "")


def _error_summary(page) -> dict[str, str]:
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    summary = soup.find(class_="govuk-error-summary")
    assert summary is not None, "no GOV.UK error summary on the page"
    return {a["href"]: a.get_text(strip=True) for a in summary.find_all("a")}


def _start(client, token, **form):
    return client.post("/account/two-step", data={"csrf_token": token, **form})


def test_setting_up_needs_the_current_password(client, session):
    user = create_user(session, username="reauth.setup")
    token = sign_in(client, user)
    page = client.get("/account").get_data(as_text=True)
    assert 'name="current_password"' in page and 'name="current_code"' not in page

    before = _seq(session)
    for form in ({}, {"current_password": "not-my-password-123"}):
        wrong = _start(client, token, **form)
        assert wrong.status_code == 422 and "totp-secret" not in wrong.get_data(as_text=True)
        assert _error_summary(wrong) == {"#current_password": "Enter your current password"}
    assert _totp_row(session, user.id) is None  # nothing changed
    session.refresh(user)
    assert user.failed_logins == 2  # counted towards the lockout
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > before)))
    assert [(e.action, e.actor_user_id, e.record_id, e.fields) for e in events] == \
        [("sign_in_failed", user.id, str(user.id), '["current_password"]')] * 2
    assert all("two-step" in e.reason for e in events)
    assert "not-my-password-123" not in " ".join(str(v) for e in events for v in vars(e).values())

    right = _start(client, token, current_password=PASSWORD)
    assert right.status_code == 200 and _secret(right)


def test_replacing_needs_the_password_and_the_current_code(client, session):
    user = create_user(session, username="reauth.replace")
    token = sign_in(client, user)
    old = _secret(_start(client, token, current_password=PASSWORD))
    assert client.post("/account/two-step/confirm",
                       data={"code": pyotp.TOTP(old).now(), "csrf_token": token}).status_code == 200
    on = _totp_row(session, user.id)
    page = client.get("/account").get_data(as_text=True)
    assert 'name="current_code"' in page and "Replace your authenticator app" in page

    next_code = pyotp.TOTP(old).at(time.time() + 30)
    attempts = [
        ({"current_code": next_code}, {"#current_password": "Enter your current password"}),
        ({"current_password": "Wrong-password-4567", "current_code": next_code},
         {"#current_password": "Enter your current password"}),
        ({"current_password": PASSWORD}, {"#current_code": totp.WRONG_CODE}),
        ({"current_password": PASSWORD, "current_code": "000000"}, {"#current_code": totp.WRONG_CODE}),
    ]
    for form, expected in attempts:
        wrong = _start(client, token, **form)
        assert wrong.status_code == 422 and _error_summary(wrong) == expected, form
        assert "totp-secret" not in wrong.get_data(as_text=True)
    assert tuple(_totp_row(session, user.id)) == tuple(on)  # nothing changed, not even the used-step marker
    session.refresh(user)
    assert user.failed_logins == 4

    started = _start(client, token, current_password=PASSWORD, current_code=next_code)
    assert started.status_code == 200 and "Move to a new authenticator app" in started.get_data(as_text=True)
    new = _secret(started)
    assert new != old and _totp_row(session, user.id).secret == on.secret  # the old one is still the one on
    later = time.time() + 60
    assert totp.verify_code(session, user, pyotp.TOTP(old).at(later), now=later,
                            key=_key(client))  # ... and still works until the new one is confirmed

    before = _seq(session)
    done = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(new).now(), "csrf_token": token})
    assert done.status_code == 200 and "replaced" in done.get_data(as_text=True)
    row = _totp_row(session, user.id)
    assert row.pending_secret is None and row.secret != on.secret
    later = time.time() + 120  # a step no code was used for yet: the old app's code is refused, the new one's not
    assert not totp.verify_code(session, user, pyotp.TOTP(old).at(later), now=later, key=_key(client))
    assert totp.verify_code(session, user, pyotp.TOTP(new).at(later), now=later, key=_key(client))
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.seq > before))
    assert (event.action, event.actor_user_id, event.reason) == ("totp_change", user.id, "replaced by the user")


def test_wrong_answers_lock_the_account_and_a_locked_account_cannot_re_authenticate(client, session, app):
    user = create_user(session, username="reauth.lock")
    token = sign_in(client, user)
    for _ in range(app.config["SETTINGS"].login_max_failures):
        assert _start(client, token, current_password="Guessing-password-99").status_code == 422
    session.refresh(user)
    assert user.locked_until is not None
    locked = _start(client, token, current_password=PASSWORD)  # even the right password, while locked
    assert locked.status_code == 422 and "Too many wrong attempts" in locked.get_data(as_text=True)
    assert _totp_row(session, user.id) is None


def _key(client):
    from casework.auth.datakey import DataKey

    return DataKey.from_settings(client.application.config["SETTINGS"])
