"""OpenID Connect sign-in end to end against a real OpenID provider (npm oidc-provider) on loopback."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import select

from casework.app import create_app
from casework.audit import AuditEvent
from casework.auth import oidc
from casework.extensions import database
from tests.factories import create_team, create_user

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID, CLIENT_SECRET = "casework-test", "test-client-secret-not-real-0123456789"
REDIRECT_URI = "http://localhost/sign-in/oidc/callback"
ACCOUNTS = {
    "oidc.worker": {"groups": ["sg-casework-practitioners", "sg-cin-east"]},
    "oidc.manager": {"groups": ["sg-casework-managers"]},
    "oidc.leaver": {"groups": ["sg-casework-practitioners"]},
}
GROUP_MAP = ("sg-casework-practitioners=role:practitioner;sg-casework-managers=role:team_manager;"
             "sg-cin-east=team:oidc-cin-east")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def provider():
    """Install (npm ci, from the lock file) and start the provider; stopped by its pid afterwards."""
    node = shutil.which("node")
    assert node, "node is needed for the OpenID provider (Debian: apt-get install nodejs)"
    # `make test` installs it first; a bare pytest run installs it here, one xdist worker at a time (npm ci
    # empties node_modules first: a second worker starting the provider meanwhile finds no package)
    with open(OIDC_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR, check=True, timeout=600)
    port = _free_port()
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "OIDC_REDIRECT_URI": REDIRECT_URI, "OIDC_ACCOUNTS": json.dumps(ACCOUNTS)}
    proc = subprocess.Popen([node, "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("the OpenID provider exited: " + (proc.stdout.read() if proc.stdout else ""))
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the OpenID provider did not start in 120 s")
        yield issuer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def oidc_app(provider, settings, connection):
    app = create_app(replace(settings, oidc_issuer=provider, oidc_client_id=CLIENT_ID,
                             oidc_client_secret=CLIENT_SECRET, oidc_group_map=GROUP_MAP))
    database.bind_connection(connection)
    return app


@pytest.fixture
def people(session):
    team = create_team(session, code="oidc-cin-east")
    other = create_team(session)
    worker = create_user(session, username="oidc.worker", roles=["administrator", "team_manager"], teams=[other])
    manager = create_user(session, username="oidc.manager", roles=["practitioner"])
    leaver = create_user(session, username="oidc.leaver")
    leaver.active = False
    session.flush()
    return {"worker": worker, "manager": manager, "leaver": leaver, "team": team, "other": other}


def _idp_sign_in(client, login: str) -> str:
    """Start at casework, sign in at the provider as `login`; returns casework's callback path + query."""
    start = client.get("/sign-in/oidc")
    assert start.status_code == 302
    url = start.headers["Location"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]  # PKCE
    assert query["nonce"][0] and query["state"][0] and query["response_type"] == ["code"]
    browser = requests.Session()
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(REDIRECT_URI):
                parts = urlsplit(url)
                return f"{parts.path}?{parts.query}"
            continue
        form = BeautifulSoup(response.text, "html.parser").find("form")
        assert form is not None, response.text[:300]
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
        fields.update(login=login, password="any-password")
        response = browser.post(urljoin(url, form["action"]), data=fields, allow_redirects=False, timeout=10)
        assert response.is_redirect, response.text[:300]
        url = urljoin(url, response.headers["Location"])
    raise AssertionError("never came back to casework")


def _last_audit(session):
    return session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))


def test_sign_in_maps_groups_to_roles_and_teams(oidc_app, session, people):
    client = oidc_app.test_client()
    assert "Sign in with your council account" in client.get("/sign-in").get_data(as_text=True)
    callback = client.get(_idp_sign_in(client, "oidc.worker"))
    assert callback.status_code == 302 and callback.headers["Location"] == "/"
    me = client.get("/api/me").get_json()
    assert me["username"] == "oidc.worker"
    # practitioner from the group; team_manager is governed by the map and no group grants it: removed;
    # administrator is not mentioned by the map: kept. Team from the group added; the unmapped team kept.
    assert sorted(me["roles"]) == ["administrator", "practitioner"]
    assert sorted(me["team_ids"]) == sorted([people["team"].id, people["other"].id])
    event = _last_audit(session)
    assert (event.action, event.actor_username, event.fields) == ("sign_in", "oidc.worker", '["oidc"]')


def test_manager_group(oidc_app, people):
    client = oidc_app.test_client()
    client.get(_idp_sign_in(client, "oidc.manager"))
    assert client.get("/api/me").get_json()["roles"] == ["team_manager"]


def test_unknown_user_is_refused(oidc_app, session, people):
    client = oidc_app.test_client()
    response = client.get(_idp_sign_in(client, "somebody.else"))
    assert response.status_code == 401 and "no casework account" in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401
    assert (_last_audit(session).action, _last_audit(session).reason) == ("sign_in_failed", "unknown_user")


def test_disabled_user_is_refused(oidc_app, session, people):
    client = oidc_app.test_client()
    response = client.get(_idp_sign_in(client, "oidc.leaver"))
    assert response.status_code == 401 and "disabled" in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_wrong_state_is_refused(oidc_app, session, people):
    client = oidc_app.test_client()
    callback = _idp_sign_in(client, "oidc.worker")
    forged = callback.replace("state=", "state=forged", 1)
    response = client.get(forged)
    assert response.status_code == 401 and client.get("/api/me").status_code == 401
    assert _last_audit(session).reason.startswith("protocol:")


def test_callback_from_another_browser_is_refused(oidc_app, people):
    victim = oidc_app.test_client()
    callback = _idp_sign_in(victim, "oidc.worker")
    attacker = oidc_app.test_client()  # has no state in its session (login CSRF / code injection)
    assert attacker.get(callback).status_code == 401


def test_wrong_nonce_is_refused(oidc_app, session, people):
    client = oidc_app.test_client()
    callback = _idp_sign_in(client, "oidc.worker")
    with client.session_transaction() as sess:
        key = next(k for k in sess if k.startswith("_state_oidc_"))
        state = sess[key]
        state["data"]["nonce"] = "not-the-nonce-the-provider-put-in-the-token"
        sess[key] = state
    response = client.get(callback)
    assert response.status_code == 401 and client.get("/api/me").status_code == 401
    assert "nonce" in _last_audit(session).reason


def test_expired_token_is_refused(oidc_app, session, people, monkeypatch):
    client = oidc_app.test_client()
    callback = _idp_sign_in(client, "oidc.worker")
    monkeypatch.setattr(oidc, "clock", lambda: time.time() + 2 * 3600)  # the ID token lives one hour
    response = client.get(callback)
    assert response.status_code == 401 and client.get("/api/me").status_code == 401
    assert _last_audit(session).reason == "expired_token"


def test_code_cannot_be_replayed(oidc_app, people):
    client = oidc_app.test_client()
    callback = _idp_sign_in(client, "oidc.worker")
    assert client.get(callback).status_code == 302
    assert client.get(callback).status_code == 401  # state consumed (and the code is single-use at the IdP)


def test_not_configured_means_not_found(client):
    assert client.get("/sign-in/oidc").status_code == 404
    assert "council account" not in client.get("/sign-in").get_data(as_text=True)


def test_group_map_is_validated():
    assert oidc.parse_group_map("a=role:practitioner,team:x; b=role:ig_officer")["a"][1].value == "x"
    for bad in ("a", "a=role:wizard", "a=colour:blue", "=role:practitioner"):
        with pytest.raises(ValueError):
            oidc.parse_group_map(bad)
