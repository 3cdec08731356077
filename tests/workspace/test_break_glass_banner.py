"""The person page (and the case page, which opens it) tells a user who broke the glass until when their emergency
access lasts (UK time), the reason they gave, and that what they view is recorded; nobody else sees it, and it
is gone once the grant has expired or been revoked."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from sqlalchemy import select

from casework.auth.models import BreakGlassGrant
from casework.db import utcnow
from casework.records import service_case as cases
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person

REASON = "Police at the door out of hours asking whether the child is known <urgent>"
LONDON = ZoneInfo("Europe/London")


def banner(response):  # type: ignore[no-untyped-def]
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    title = doc.find(id="emergency-access-title")
    return None if title is None else title.find_parent(class_="govuk-notification-banner")


def world(session):  # type: ignore[no-untyped-def]
    safeguarding = create_team(session, code="sgb-team")
    manager = create_user(session, username="sgb.manager", roles=["team_manager"], teams=[safeguarding],
                          manages=[safeguarding])
    insider = actor_for(manager)
    sealed = create_person(session, insider, forename="Sealed", surname="Banner", restricted=True,
                           restricted_to_teams=[safeguarding.id])
    ordinary = create_person(session, insider, forename="Open", surname="Banner")
    case = cases.open_case(session, insider, ordinary, {"service_area": "children", "open_reason": "referral",
                                                        "team_id": safeguarding.id})
    outsider = create_user(session, username="sgb.outsider", teams=[create_team(session, code="sgb-other")])
    session.flush()
    return {"manager": manager, "sealed": sealed, "ordinary": ordinary, "case": case, "outsider": outsider}


def grant_of(session, user_id: int) -> BreakGlassGrant:  # type: ignore[no-untyped-def]
    return session.scalars(select(BreakGlassGrant).where(BreakGlassGrant.user_id == user_id)
                           .order_by(BreakGlassGrant.id.desc())).first()


def test_banner_after_break_glass_on_a_person_says_until_when_and_why(client, session):
    w = world(session)
    csrf = sign_in(client, w["outsider"])
    url = f"/people/{w['sealed'].id}"
    assert client.post(f"{url}/break-glass", data={"csrf_token": csrf, "reason": REASON}).status_code == 302
    grant = grant_of(session, w["outsider"].id)
    response = client.get(url)
    assert response.status_code == 200
    found = banner(response)
    assert found is not None
    until = grant.expires_at.astimezone(LONDON).strftime("%H:%M")
    text = found.get_text(" ", strip=True)
    assert f"You have emergency access to this record until {until} (UK time)." in text
    assert f"Your reason: {' '.join(REASON.split())}" in text  # escaped, shown as typed
    assert found.find("urgent") is None  # escaped: text, not markup
    assert "Everything you view is recorded." in text
    assert found.get("role") == "region" and "govuk-notification-banner--success" not in found["class"]
    # the banner is the first thing on the page, above the record's own alerts and heading
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert doc.select(".govuk-notification-banner")[0]["aria-labelledby"] == "emergency-access-title"


def test_banner_after_break_glass_on_another_teams_case(client, session):
    w = world(session)
    csrf = sign_in(client, w["outsider"])
    ref = w["case"].reference
    assert client.post(f"/cases/{ref}/break-glass", data={"csrf_token": csrf, "reason": REASON}).status_code == 302
    grant = grant_of(session, w["outsider"].id)
    response = client.get(f"/cases/{ref}", follow_redirects=True)
    assert response.status_code == 200
    found = banner(response)
    assert found is not None
    assert f"until {grant.expires_at.astimezone(LONDON):%H:%M} (UK time)" in found.get_text(" ", strip=True)


def test_uk_time_in_summer_is_an_hour_ahead_of_utc(client, session):
    w = world(session)
    sign_in(client, w["outsider"])
    # a grant written straight into the table: 2099-07-01 16:05 UTC is 17:05 BST
    expires = utcnow().replace(year=2099, month=7, day=1, hour=16, minute=5, second=0, microsecond=0)
    session.add(BreakGlassGrant(user_id=w["outsider"].id, record_type="person", record_id=str(w["sealed"].id),
                                person_id=str(w["sealed"].id), reason="Checking a safeguarding concern",
                                granted_at=utcnow(), expires_at=expires))
    session.flush()
    text = banner(client.get(f"/people/{w['sealed'].id}")).get_text(" ", strip=True)
    assert "until 17:05 (UK time)" in text and "Your reason: Checking a safeguarding concern" in text


def test_no_banner_for_an_in_team_user(client, session):
    w = world(session)
    sign_in(client, w["manager"])
    for url in (f"/people/{w['sealed'].id}", f"/people/{w['ordinary'].id}"):
        response = client.get(url)
        assert response.status_code == 200
        assert banner(response) is None
        assert "emergency access" not in response.get_data(as_text=True)


def test_no_banner_once_the_grant_has_expired_or_been_revoked(client, session):
    w = world(session)
    sign_in(client, w["outsider"])
    url = f"/people/{w['ordinary'].id}"  # an ordinary person: the page stays visible without a grant
    grant = BreakGlassGrant(user_id=w["outsider"].id, record_type="case", record_id=str(w["case"].id),
                            person_id=str(w["ordinary"].id), reason="Checking a safeguarding concern",
                            granted_at=utcnow() - timedelta(minutes=61), expires_at=utcnow() + timedelta(minutes=5))
    session.add(grant)
    session.flush()
    assert banner(client.get(url)) is not None  # live: shown
    grant.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()
    response = client.get(url)
    assert response.status_code == 200 and banner(response) is None
    grant.expires_at = utcnow() + timedelta(minutes=30)
    grant.revoked_at = utcnow()
    session.flush()
    assert banner(client.get(url)) is None
    # a sealed person whose grant expired is not shown at all (the policy's rule), so no banner either
    session.add(BreakGlassGrant(user_id=w["outsider"].id, record_type="person", record_id=str(w["sealed"].id),
                                person_id=str(w["sealed"].id), reason="Checking a safeguarding concern",
                                granted_at=utcnow() - timedelta(minutes=90),
                                expires_at=utcnow() - timedelta(minutes=30)))
    session.flush()
    assert client.get(f"/people/{w['sealed'].id}").status_code == 404


def test_another_users_grant_gives_no_banner(client, session):
    w = world(session)
    session.add(BreakGlassGrant(user_id=w["outsider"].id, record_type="person", record_id=str(w["ordinary"].id),
                                person_id=str(w["ordinary"].id), reason="Checking a safeguarding concern",
                                granted_at=utcnow(), expires_at=utcnow() + timedelta(minutes=60)))
    session.flush()
    sign_in(client, w["manager"])
    response = client.get(f"/people/{w['ordinary'].id}")
    assert response.status_code == 200 and banner(response) is None
