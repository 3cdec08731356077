"""Access policy helpers: team-based access, sealed records + break-glass (grant, audit, alert, expiry)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.audit import AuditEvent, verify_chain
from casework.auth import policy
from casework.auth.access import Actor
from casework.auth.models import AccessAlert
from casework.db import utcnow
from casework.errors import Conflict, Invalid, NotFound
from casework.records import service_case as cases
from casework.records.models_case import Case
from casework.records.models_person import Person
from casework.records.service_person import set_restriction
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import create_person


@pytest.fixture
def world(session):
    a, b = create_team(session), create_team(session)
    manager = create_user(session, roles=["team_manager"], manages=[a])
    outsider_user = create_user(session, roles=["practitioner"], teams=[b])
    m, outsider = Actor.from_user(manager), Actor.from_user(outsider_user)
    sealed = create_person(session, m)
    cases.open_case(session, m, sealed, {"service_area": "children", "open_reason": "referral", "team_id": a.id})
    set_restriction(session, m, sealed, restricted=True, users=[], teams=[a.id])
    session.flush()
    return {"a": a, "b": b, "manager": manager, "m": m, "outsider": outsider, "sealed": sealed}


def test_team_access(session, world):
    head = Actor.from_user(create_user(session, roles=["head_of_service"]))
    ig = Actor.from_user(create_user(session, roles=["ig_officer"], teams=[world["a"]]))
    a = world["a"].id
    assert policy.can_access_team_record(world["m"], a)
    assert not policy.can_access_team_record(world["outsider"], a)
    assert policy.can_access_team_record(world["outsider"], None)  # unallocated
    assert policy.can_access_team_record(head, a)
    assert not policy.can_access_team_record(ig, a)  # a member without records.view still sees nothing
    with pytest.raises(NotFound):
        policy.require_team_access(world["outsider"], a)
    for actor, expected in ((world["m"], True), (world["outsider"], False), (head, True), (ig, False)):
        clause = policy.team_access_clause(actor, Case.team_id)
        ids = set(session.scalars(select(Case.id).where(Case.team_id == a, clause)))
        assert bool(ids) == expected


def test_break_glass_grants_audits_and_alerts(session, world):
    outsider, sealed = world["outsider"], world["sealed"]
    assert not policy.can_view_person(session, outsider, sealed)
    grant = policy.break_glass_person(session, outsider, sealed.id, "Police request out of hours, child missing")
    assert policy.can_view_person(session, outsider, sealed)
    visible = set(session.scalars(select(Person.id).where(policy.visible_people_clause(outsider))))
    assert sealed.id in visible
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "break_glass")
                           .order_by(AuditEvent.seq.desc()).limit(1))
    assert event.actor_user_id == outsider.user_id and event.person_id == str(sealed.id)
    assert event.reason == "Police request out of hours, child missing"
    alerts = list(session.scalars(select(AccessAlert).where(AccessAlert.grant_id == grant.id)))
    assert [al.recipient_user_id for al in alerts] == [world["manager"].id]
    assert "Police request" in alerts[0].message and outsider.username in alerts[0].message
    from zoneinfo import ZoneInfo

    uk_expiry = grant.expires_at.astimezone(ZoneInfo("Europe/London"))
    assert f"until {uk_expiry:%-d %B %Y %H:%M} (UK time)" in alerts[0].message  # as the banner shows it
    assert verify_chain(session).ok


def test_break_glass_is_time_limited_and_revocable(session, world):
    outsider, sealed = world["outsider"], world["sealed"]
    now = utcnow()
    grant = policy.break_glass_person(session, outsider, sealed.id, "Emergency duty team call", minutes=30, now=now)
    assert policy.can_view_person(session, outsider, sealed, now=now + timedelta(minutes=29))
    assert not policy.can_view_person(session, outsider, sealed, now=now + timedelta(minutes=31))
    later = set(session.scalars(select(Person.id).where(
        policy.visible_people_clause(outsider, now=now + timedelta(minutes=31)))))
    assert sealed.id not in later
    policy.revoke_grant(session, grant.id)
    session.flush()
    assert not policy.can_view_person(session, outsider, sealed)


@pytest.mark.parametrize(("reason", "minutes"), [("", 60), ("because", 60), ("a good long reason", 0),
                                                 ("a good long reason", 10_000)])
def test_break_glass_needs_a_reason_and_a_sane_duration(session, world, reason, minutes):
    with pytest.raises(Invalid) as sealed:
        policy.break_glass_person(session, world["outsider"], world["sealed"].id, reason, minutes=minutes)
    # a bad request is refused before the record is looked up: a missing id answers exactly alike
    with pytest.raises(Invalid) as missing:
        policy.break_glass_person(session, world["outsider"], 10**9, reason, minutes=minutes)
    assert (missing.value.message, missing.value.details) == (sealed.value.message, sealed.value.details)


def test_break_glass_is_refused_when_not_needed_or_not_allowed(session, world):
    with pytest.raises(Conflict):
        policy.break_glass_person(session, world["m"], world["sealed"].id, "I can already see it anyway")
    with pytest.raises(NotFound):
        policy.break_glass_person(session, world["outsider"], 10**9, "guessing an id for fun")
    ig = Actor.from_user(create_user(session, roles=["ig_officer"]))
    with pytest.raises(Exception, match="permission"):
        policy.break_glass_person(session, ig, world["sealed"].id, "no records.view at all")


def test_without_managers_heads_of_service_are_alerted(session, world):
    head = create_user(session, roles=["head_of_service"])
    loner = Actor.from_user(create_user(session, roles=["practitioner"]))
    person = create_person(session, loner)
    set_restriction(session, loner, person, restricted=True, users=[], teams=[])
    # loner is the only one named: breaking the glass on their own record is refused, so an outsider does it
    grant = policy.break_glass(session, world["outsider"], record_type="person", record_id=person.id,
                               person_id=person.id, reason="Court order needs the record today", managers=[])
    recipients = set(session.scalars(select(AccessAlert.recipient_user_id).where(AccessAlert.grant_id == grant.id)))
    assert head.id in recipients


def test_break_glass_and_alerts_through_the_api(app, client, session, world):
    outsider_user = session.get(type(world["manager"]), world["outsider"].user_id)
    token = sign_in(client, outsider_user)
    url = f"/api/people/{world['sealed'].id}"
    assert client.get(url).status_code == 404
    short = client.post(f"{url}/break-glass", json={"reason": "why"}, headers={"X-CSRF-Token": token})
    assert short.status_code == 422 and "reason" in short.get_json()["error"]["details"]
    extra = client.post(f"{url}/break-glass", json={"reason": "x" * 20, "admin": True}, headers={"X-CSRF-Token": token})
    assert extra.status_code == 422
    no_csrf = client.post(f"{url}/break-glass", json={"reason": "Child missing, police on the phone"})
    assert no_csrf.status_code == 400
    ok = client.post(f"{url}/break-glass", json={"reason": "Child missing, police on the phone", "minutes": 15},
                     headers={"X-CSRF-Token": token})
    assert ok.status_code == 201 and ok.get_json()["reason"] == "Child missing, police on the phone"
    manager_client = app.test_client()
    mtoken = sign_in(manager_client, world["manager"])
    alerts = manager_client.get("/api/alerts?unread=1").get_json()["items"]
    assert len(alerts) == 1 and "Child missing" in alerts[0]["message"]
    assert client.post(f"/api/alerts/{alerts[0]['id']}/read", headers={"X-CSRF-Token": token}).status_code == 404
    assert manager_client.post(f"/api/alerts/{alerts[0]['id']}/read",
                               headers={"X-CSRF-Token": mtoken}).status_code == 200
    assert manager_client.get("/api/alerts?unread=1").get_json()["items"] == []
