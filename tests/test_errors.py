"""Errors become answers a person can act on: a unique clash at commit is a 409, never a 500."""

from __future__ import annotations

from sqlalchemy import func, select

from casework.accounts.models import Team
from casework.auth.access import login_required
from casework.web.context import db_session
from tests.conftest import sign_in
from tests.factories import create_user


def test_a_unique_clash_at_commit_is_a_conflict_with_nothing_saved(app, client, session):
    """Two people saving the same team code at the same moment: the service's own check passed for both, the
    database's unique constraint stops the second. The page says so (409, JSON for the API); nothing saved."""

    @app.post("/_test/clash")
    @login_required
    def clash():  # type: ignore[no-untyped-def]
        s = db_session()
        s.add(Team(code="dup-team", name="First"))
        s.flush()
        s.add(Team(code="dup-team", name="Second"))
        s.flush()
        return "saved"

    token = sign_in(client, create_user(session))
    response = client.post("/_test/clash", data={"csrf_token": token}, headers={"Accept": "text/html"})
    assert response.status_code == 409
    assert "Nothing was saved" in response.get_data(as_text=True)
    response = client.post("/_test/clash", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    assert session.scalar(select(func.count()).select_from(Team).where(Team.code == "dup-team")) == 0
