"""Every route declares an access rule, and none but the public ones answer an anonymous caller."""

import pytest

from casework.auth.access import PUBLIC, access_rule
from tests.conftest import sign_in
from tests.factories import create_user

PUBLIC_ENDPOINTS = {"auth.login", "auth.sign_in_code", "auth.oidc_start", "auth.oidc_callback", "health.healthz",
                    "health.readyz", "api.openapi_document",
                    "static"}


def _sample_url(rule):
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        values[arg] = 1 if converter in ("IntegerConverter", "UUIDConverter") else "x"
    if "UUIDConverter" in {c.__class__.__name__ for c in rule._converters.values()}:
        values = {k: "00000000-0000-0000-0000-000000000001" if rule._converters[k].__class__.__name__ ==
                  "UUIDConverter" else v for k, v in values.items()}
    return rule.build(values, append_unknown=False)[1]


def test_every_view_declares_an_access_rule(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint != "static" and access_rule(app.view_functions[rule.endpoint]) is None]
    assert missing == []


def test_only_the_expected_routes_are_public(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint == "static" or access_rule(app.view_functions[rule.endpoint]) == PUBLIC}
    assert public == PUBLIC_ENDPOINTS


def test_anonymous_requests_are_refused_everywhere_else(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _sample_url(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if url.startswith("/api/"):
                assert response.status_code == 401, (method, url, response.status_code)
            else:
                assert response.status_code == 302, (method, url, response.status_code)
                assert response.headers["Location"].startswith("/sign-in")
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize(("role", "url"), [
    ("practitioner", "/api/users"),
    ("practitioner", "/admin/users"),
    ("configurator", "/api/users"),
    ("finance_officer", "/admin/users"),
])
def test_role_forbidden_routes_answer_403(client, session, role, url):
    user = create_user(session, roles=[role])
    sign_in(client, user)
    response = client.get(url)
    assert response.status_code == 403


def test_administrator_reaches_user_admin(client, session):
    user = create_user(session, roles=["administrator"])
    sign_in(client, user)
    assert client.get("/admin/users").status_code == 200
    assert client.get("/api/users").status_code == 200
