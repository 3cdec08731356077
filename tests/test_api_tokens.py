"""Bearer tokens: created once, hashed at rest, revocable; JSON errors everywhere under /api."""

from casework.accounts.models import ApiToken
from tests.conftest import sign_in
from tests.factories import create_user


def test_token_lifecycle(client, session):
    user = create_user(session, username="api.user")
    csrf = sign_in(client, user)
    created = client.post("/api/tokens", json={"name": "reporting"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    raw = created.json["token"]
    assert raw.startswith("cw_")
    stored = session.get(ApiToken, created.json["id"])
    assert raw not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64

    fresh = client.application.test_client()
    me = fresh.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json["username"] == "api.user"
    # a token-authenticated POST needs no CSRF token (no cookies involved)
    listed = fresh.get("/api/tokens", headers={"Authorization": f"Bearer {raw}"})
    assert [t["name"] for t in listed.json["items"]] == ["reporting"] and "token" not in listed.json["items"][0]

    revoked = client.delete(f"/api/tokens/{created.json['id']}", headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    after = fresh.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert after.status_code == 401
    assert after.json["error"]["code"] == "invalid_token"


def test_unknown_fields_are_refused_with_field_details(client, session):
    user = create_user(session)
    csrf = sign_in(client, user)
    response = client.post("/api/tokens", json={"name": "x", "admin": True}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"admin": "Unknown field."}


def test_someone_elses_token_cannot_be_revoked(client, session):
    from casework.auth.tokens import create_token

    owner = create_user(session)
    token, _ = create_token(session, owner, name="mine")
    other = create_user(session)
    csrf = sign_in(client, other)
    response = client.delete(f"/api/tokens/{token.id}", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 404
    assert session.get(ApiToken, token.id).revoked_at is None


def test_api_without_credentials_is_401_json(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized", "message": "Sign in to continue", "details": {}}}


def test_unknown_api_route_is_404_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_admin_creates_user_and_bad_role_is_422(client, session):
    admin = create_user(session, roles=["administrator"])
    csrf = sign_in(client, admin)
    ok = client.post("/api/users", headers={"X-CSRF-Token": csrf}, json={
        "username": "new.worker", "display_name": "New Worker", "password": "a-long-enough-pass-7",
        "roles": ["practitioner"]})
    assert ok.status_code == 201 and ok.json["roles"] == ["practitioner"]
    bad = client.post("/api/users", headers={"X-CSRF-Token": csrf}, json={
        "username": "other.worker", "display_name": "X", "password": "a-long-enough-pass-7", "roles": ["wizard"]})
    assert bad.status_code == 422 and "roles.0" in bad.json["error"]["details"]
    dup = client.post("/api/users", headers={"X-CSRF-Token": csrf}, json={
        "username": "new.worker", "display_name": "Again", "password": "a-long-enough-pass-7"})
    assert dup.status_code == 409


def test_openapi_document_lists_the_api(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/api/tokens"] and "delete" in doc["paths"]["/api/tokens/{token_id}"]
