"""Per-IP fixed-window rate limits on sign-in and the API."""

from dataclasses import replace

import pytest

from casework.app import create_app
from casework.extensions import database
from casework.web.ratelimit import FixedWindowLimiter
from tests.conftest import sign_in
from tests.factories import create_user


def _frozen(app):
    """A limiter whose clock stands still, so a test never straddles a window boundary."""
    app.extensions["casework_rate_limiter"] = FixedWindowLimiter(clock=lambda: 1000.0)
    return app


@pytest.fixture
def strict_app(settings, connection):
    app = create_app(replace(settings, signin_rate_per_minute=3, api_rate_per_minute=4))
    database.bind_connection(connection)
    return _frozen(app)


def test_limiter_counts_per_key_and_resets_each_window():
    now = [1000.0]
    limiter = FixedWindowLimiter(clock=lambda: now[0])
    assert [limiter.hit("s", "1.1.1.1", 2) for _ in range(2)] == [None, None]
    assert limiter.hit("s", "1.1.1.1", 2) == 20  # 1000 -> next window at 1020
    assert limiter.hit("s", "2.2.2.2", 2) is None  # another address has its own count
    assert limiter.hit("other", "1.1.1.1", 2) is None  # and another scope
    now[0] = 1020.0
    assert limiter.hit("s", "1.1.1.1", 2) is None


def test_limiter_memory_is_bounded():
    limiter = FixedWindowLimiter(clock=lambda: 0.0, max_keys=10)
    for i in range(100):
        limiter.hit("s", f"10.0.0.{i}", 5)
    assert len(limiter._counts) <= 10


def test_sign_in_attempts_are_limited_per_ip_with_a_govuk_page(strict_app):
    client = strict_app.test_client()
    client.get("/sign-in")
    with client.session_transaction() as sess:
        token = sess["csrf"]
    statuses = [client.post("/sign-in", data={"username": "x", "password": "y", "csrf_token": token}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = client.post("/sign-in", data={"username": "x", "password": "y", "csrf_token": token})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "Too many" in blocked.get_data(as_text=True) and "<html" in blocked.get_data(as_text=True)
    assert client.get("/sign-in").status_code == 200  # reading the page is not limited
    other_ip = client.post("/sign-in", data={"username": "x", "password": "y", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other_ip.status_code == 401


def test_api_is_limited_per_ip_with_a_json_body(strict_app, session):
    user = create_user(session)
    client = strict_app.test_client()
    sign_in(client, user)
    statuses = [client.get("/api/me").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    body = client.get("/api/me").get_json()
    assert body["error"]["code"] == "too_many_requests" and body["error"]["details"]["retry_after"] >= 1


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(strict_app, settings, connection):
    client = strict_app.test_client()
    spoofed = [client.get("/api/openapi.json", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
               for i in range(5)]
    assert spoofed[-1] == 429  # a client cannot dodge the limit by inventing addresses
    proxied = _frozen(create_app(replace(settings, api_rate_per_minute=4, trusted_proxies=1)))
    database.bind_connection(connection)
    client = proxied.test_client()
    statuses = [client.get("/api/openapi.json", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                for i in range(5)]
    assert statuses == [200] * 5  # behind a trusted proxy each real client counts separately
