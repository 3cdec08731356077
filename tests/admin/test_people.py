"""Users, roles and teams administration (USERS_MANAGE), audited, with lock-out guards."""

from __future__ import annotations

from sqlalchemy import select

from casework.accounts.service import get_user
from casework.audit.models import AuditEvent
from tests.admin.conftest import soup
from tests.conftest import sign_in
from tests.factories import create_team, create_user


def _admin(session):
    return create_user(session, username="root1", roles=["administrator"], display_name="Ada Admin")


def test_configurator_cannot_manage_users(client, session, alice):
    sign_in(client, alice)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/teams").status_code == 403


def test_change_roles_teams_and_disable_is_audited(client, session):
    admin = _admin(session)
    team = create_team(session, code="cin-west", name="CIN West")
    person = create_user(session, username="sam", roles=["practitioner"])
    epoch = person.session_epoch
    token = sign_in(client, admin)
    page = soup(client.get("/admin/users"))
    assert page.select_one('tr[data-user="sam"] a')["href"].endswith("/admin/users/sam")
    response = client.post("/admin/users/sam", data={"csrf_token": token, "roles": ["practitioner", "team_manager"],
                                                     "teams": ["cin-west"], "manages": ["cin-west"], "active": "no"})
    assert response.status_code == 302
    session.expire_all()
    person = get_user(session, "sam")
    assert person.role_codes == {"practitioner", "team_manager"} and not person.active
    assert [(m.team_id, m.is_manager) for m in person.memberships] == [(team.id, True)]
    assert person.session_epoch > epoch
    fields = [e.fields for e in session.scalars(select(AuditEvent).where(AuditEvent.record_type == "user_account",
                                                                         AuditEvent.record_id == str(person.id)))]
    assert {'["roles"]', '["teams"]', '["active"]'} <= set(fields)


def test_no_lock_out(client, session):
    admin = _admin(session)
    token = sign_in(client, admin)
    response = client.post("/admin/users/root1", data={"csrf_token": token, "roles": ["practitioner"],
                                                       "active": "yes"})
    assert response.status_code == 403
    assert "cannot remove your own administrator role" in soup(response).select_one(".govuk-error-summary").text
    response = client.post("/admin/users/root1", data={"csrf_token": token, "roles": ["administrator"],
                                                       "active": "no"})
    assert response.status_code == 403
    assert "cannot disable your own account" in soup(response).text


def test_add_user_and_team_with_validation(client, session):
    admin = _admin(session)
    token = sign_in(client, admin)
    response = client.post("/admin/teams", data={"csrf_token": token, "code": "Bad Code", "name": "",
                                                 "service_area": "children"})
    assert response.status_code == 422
    summary = soup(response).select_one(".govuk-error-summary").text
    assert "lower-case letters" in summary and "Enter the team's name" in summary
    assert client.post("/admin/teams", data={"csrf_token": token, "code": "adults-south", "name": "Adults South",
                                             "service_area": "adults"}).status_code == 302
    response = client.post("/admin/users/new", data={"csrf_token": token, "username": "x", "display_name": "",
                                                     "password": "short", "roles": ["practitioner"]})
    assert response.status_code == 422
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "jo.bloggs", "display_name": "Jo Bloggs", "email": "jo@example.org",
        "password": "a-long-enough-passphrase-2026", "roles": ["practitioner"], "teams": ["adults-south"]})
    assert response.status_code == 302, soup(response).select_one(".govuk-error-summary")
    assert get_user(session, "jo.bloggs").role_codes == {"practitioner"}
    page = soup(client.get("/admin/teams"))
    assert "Adults South" in page.select_one("#team-list").text
