"""Local sign-in, sessions, CSRF and sign-out through the real app."""

import re
import time

from bs4 import BeautifulSoup

from casework.accounts.models import User
from tests.conftest import sign_in
from tests.factories import PASSWORD, create_user


def _csrf_from(html: str) -> str:
    return BeautifulSoup(html, "html.parser").find("input", {"name": "csrf_token"})["value"]


def _login(client, username, password):
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"username": username, "password": password,
                                         "csrf_token": _csrf_from(page.get_data(as_text=True))})


def test_login_page_is_govuk_styled(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    soup = BeautifulSoup(response.data, "html.parser")
    assert soup.title.string.strip() == "Sign in – casework"
    assert soup.find("link", href="/assets/govuk-frontend.min.css")
    assert client.get("/assets/govuk-frontend.min.css").status_code == 200


def test_sign_in_and_out(client, session):
    user = create_user(session, username="sam.test")
    response = _login(client, "sam.test", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Hello, " + user.display_name in home.get_data(as_text=True)
    token = _csrf_from(home.get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302  # back to sign-in


def test_wrong_password_and_unknown_user_look_the_same(client, session):
    create_user(session, username="real.user")
    wrong = _login(client, "real.user", "not-the-password")
    unknown = _login(client, "nobody.here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        soup = BeautifulSoup(response.data, "html.parser")
        summary = soup.select_one(".govuk-error-summary")
        assert summary and "Enter a correct username and password" in summary.get_text()
        assert soup.title.string.startswith("Error:")


def test_failed_attempts_are_counted_and_lock_the_account(client, session):
    user = create_user(session, username="locky")
    for _ in range(5):
        _login(client, "locky", "wrong-password-x")
    session.refresh(user)
    assert user.failed_logins == 5 and user.locked_until is not None
    # even the right password is refused while locked, with the same generic message
    assert _login(client, "locky", PASSWORD).status_code == 401


def test_empty_fields_get_an_error_summary_linking_to_fields(client):
    response = _login(client, "", "")
    assert response.status_code == 422
    links = [a["href"] for a in BeautifulSoup(response.data, "html.parser").select(".govuk-error-summary a")]
    assert links == ["#username", "#password"]


def test_post_without_csrf_token_is_refused(client, session):
    create_user(session, username="csrf.user")
    client.get("/sign-in")
    response = client.post("/sign-in", data={"username": "csrf.user", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_session_cookie_flags(client, session):
    create_user(session, username="cookie.user")
    response = _login(client, "cookie.user", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_issues_a_new_session_and_csrf_token(client, session):
    create_user(session, username="fixation.user")
    client.get("/sign-in")
    with client.session_transaction() as before:
        before["planted"] = "attacker"
        old_token = before["csrf"]
    _login(client, "fixation.user", PASSWORD)
    with client.session_transaction() as after:
        assert "planted" not in after and after["csrf"] != old_token


def test_idle_session_expires_and_asks_to_sign_in_again(client, session):
    user = create_user(session, username="idle.user")
    sign_in(client, user)
    with client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - 31 * 60
    response = client.get("/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "Your session ended" in page.get_data(as_text=True)


def test_disabled_user_is_signed_out_everywhere(client, session):
    from casework.accounts.service import disable_user

    user = create_user(session, username="leaver")
    sign_in(client, user)
    assert client.get("/").status_code == 200
    disable_user(session, "leaver")
    session.flush()
    assert client.get("/").status_code == 302


def test_open_redirect_is_not_followed(client, session):
    create_user(session, username="redirect.user")
    page = client.get("/sign-in?next=//evil.example/x")
    response = client.post("/sign-in", data={"username": "redirect.user", "password": PASSWORD,
                                             "next": "//evil.example/x",
                                             "csrf_token": _csrf_from(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/"


def test_security_headers_with_csp_nonce(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "unsafe-inline" not in csp


def test_password_is_stored_as_argon2(session):
    user = create_user(session, username="hash.user")
    stored = session.get(User, user.id).password_hash
    assert stored.startswith("$argon2") and PASSWORD not in stored
