"""Break-glass in the workspace: the offer on the record pages' 404, the reason page, the grant through the
policy service (audit event with the reason, alerts to the record's managers), and no leak of existence."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.auth.models import AccessAlert, BreakGlassGrant
from casework.records import service_case as cases
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person

REASON = "Police at the door out of hours asking whether the child is known"


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def same_page(a, b, a_id: int, b_id: int) -> bool:  # type: ignore[no-untyped-def]
    """The two responses are the same but for the record's address (and the per-request CSP nonce)."""
    def norm(response, record_id: int) -> str:  # type: ignore[no-untyped-def]
        text = response.get_data(as_text=True).replace(f"/people/{record_id}/", "/people/ID/")
        return re.sub(r'nonce="[^"]*"', 'nonce=""', text)
    return norm(a, a_id) == norm(b, b_id)


def grants(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count(BreakGlassGrant.id)))


def world(session):  # type: ignore[no-untyped-def]
    """A sealed person (restricted to the safeguarding team, whose manager answers for it), an ordinary person
    with a case of the safeguarding team, and an outsider practitioner of another team."""
    safeguarding = create_team(session, code="sg-team")
    manager = create_user(session, username="sg.manager", roles=["team_manager"], teams=[safeguarding],
                          manages=[safeguarding])
    insider = actor_for(manager)
    sealed = create_person(session, insider, forename="Sealed", surname="Person", restricted=True,
                           restricted_to_teams=[safeguarding.id])
    ordinary = create_person(session, insider, forename="Open", surname="Record")
    case = cases.open_case(session, insider, ordinary, {"service_area": "children", "open_reason": "referral",
                                                        "team_id": safeguarding.id})
    outsider = create_user(session, username="outsider", teams=[create_team(session, code="other-team")])
    session.flush()
    return {"manager": manager, "sealed": sealed, "ordinary": ordinary, "case": case, "outsider": outsider}


def test_refusal_page_offers_emergency_access_and_says_nothing_about_existence(client, session):
    w = world(session)
    sign_in(client, w["outsider"])
    hidden = client.get(f"/people/{w['sealed'].id}")
    missing_id = w["sealed"].id + 10_000
    missing = client.get(f"/people/{missing_id}")
    assert hidden.status_code == missing.status_code == 404
    link = page(hidden).find("a", string="Request emergency access")
    assert link["href"] == f"/people/{w['sealed'].id}/break-glass"
    assert page(hidden).title.get_text(strip=True) == "Page not found – casework"
    # byte for byte the same page, but for the address in the link
    assert same_page(hidden, missing, w["sealed"].id, missing_id)
    # the reason page is the same too, and asking for it writes nothing
    a = client.get(f"/people/{w['sealed'].id}/break-glass")
    b = client.get(f"/people/{missing_id}/break-glass")
    assert a.status_code == b.status_code == 200
    assert same_page(a, b, w["sealed"].id, missing_id)
    assert grants(session) == 0


def test_reason_page_explains_duration_and_alert_and_requires_a_reason(client, session):
    w = world(session)
    csrf = sign_in(client, w["outsider"])
    url = f"/people/{w['sealed'].id}/break-glass"
    doc = page(client.get(url))
    assert doc.title.get_text(strip=True) == "Request emergency access – casework"
    text = doc.get_text(" ", strip=True)
    assert "Access lasts 60 minutes" in text and "managers are alerted" in text
    for reason in ("", "too short"):
        response = client.post(url, data={"csrf_token": csrf, "reason": reason})
        assert response.status_code == 422
        summary = page(response).select_one(".govuk-error-summary a")
        assert summary["href"] == "#reason" and "at least 10 characters" in summary.get_text()
        assert page(response).select_one("#reason").get_text() == reason
    # a missing record answers a bad reason the same way (no probing without the audit a real request writes)
    response = client.post(f"/people/{w['sealed'].id + 10_000}/break-glass", data={"csrf_token": csrf, "reason": ""})
    assert response.status_code == 422
    assert grants(session) == 0
    assert client.post(url, data={"reason": REASON}).status_code == 400  # no CSRF token
    assert grants(session) == 0


def test_break_glass_on_a_sealed_person_grants_audits_and_alerts(client, session):
    w = world(session)
    csrf = sign_in(client, w["outsider"])
    response = client.post(f"/people/{w['sealed'].id}/break-glass", data={"csrf_token": csrf, "reason": REASON})
    assert response.status_code == 302 and response.headers["Location"] == f"/people/{w['sealed'].id}"
    grant = session.scalar(select(BreakGlassGrant).where(BreakGlassGrant.user_id == w["outsider"].id))
    assert (grant.record_type, grant.record_id, grant.reason) == ("person", str(w["sealed"].id), REASON)
    assert round((grant.expires_at - grant.granted_at).total_seconds()) == 3600
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "break_glass",
                                                    AuditEvent.actor_user_id == w["outsider"].id))
    assert event.reason == REASON and event.person_id == str(w["sealed"].id)
    alerts = list(session.scalars(select(AccessAlert).where(AccessAlert.grant_id == grant.id)))
    assert [a.recipient_user_id for a in alerts] == [w["manager"].id] and REASON in alerts[0].message
    assert client.get(f"/people/{w['sealed'].id}").status_code == 200
    # once visible, the page sends the person straight to the record
    again = client.get(f"/people/{w['sealed'].id}/break-glass")
    assert again.status_code == 302 and again.headers["Location"] == f"/people/{w['sealed'].id}"


def test_missing_person_with_a_good_reason_is_404_and_writes_nothing(client, session):
    w = world(session)
    csrf = sign_in(client, w["outsider"])
    response = client.post(f"/people/{w['sealed'].id + 10_000}/break-glass",
                           data={"csrf_token": csrf, "reason": REASON})
    assert response.status_code == 404
    assert grants(session) == 0
    assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "break_glass")) == 0


def test_break_glass_on_another_teams_case(client, session):
    w = world(session)
    csrf = sign_in(client, w["outsider"])
    ref = w["case"].reference
    refused = client.get(f"/cases/{ref}")
    assert refused.status_code == 404
    assert page(refused).find("a", string="Request emergency access")["href"] == f"/cases/{ref}/break-glass"
    doc = page(client.get(f"/cases/{ref}/break-glass"))
    assert "case team's managers are alerted" in doc.get_text(" ", strip=True)
    response = client.post(f"/cases/{ref}/break-glass", data={"csrf_token": csrf, "reason": "short"})
    assert response.status_code == 422 and grants(session) == 0
    response = client.post(f"/cases/{ref}/break-glass", data={"csrf_token": csrf, "reason": REASON})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{ref}"
    grant = session.scalar(select(BreakGlassGrant).where(BreakGlassGrant.user_id == w["outsider"].id))
    assert (grant.record_type, grant.record_id) == ("case", str(w["case"].id))
    assert [a.recipient_user_id for a in session.scalars(select(AccessAlert).where(
        AccessAlert.grant_id == grant.id))] == [w["manager"].id]
    assert client.get(f"/cases/{ref}").status_code == 302  # now opens (redirect to the case on the person page)


def test_case_of_a_sealed_person_or_missing_case_cannot_be_opened_by_break_glass(client, session):
    w = world(session)
    sealed_case = cases.open_case(session, actor_for(w["manager"]), w["sealed"], {
        "service_area": "children", "open_reason": "referral"})
    session.flush()
    csrf = sign_in(client, w["outsider"])
    for ref in (sealed_case.reference, "CH-9999999"):
        assert client.post(f"/cases/{ref}/break-glass", data={"csrf_token": csrf, "reason": REASON}).status_code \
            == 404
    assert grants(session) == 0


def test_without_records_view_there_is_no_offer(client, session):
    w = world(session)
    sign_in(client, create_user(session, roles=["configurator"]))
    response = client.get(f"/people/{w['sealed'].id}")
    assert response.status_code == 403 and "emergency access" not in response.get_data(as_text=True)
    assert client.get(f"/people/{w['sealed'].id}/break-glass").status_code == 403


def test_other_not_found_pages_carry_no_offer(client, session):
    w = world(session)
    sign_in(client, w["outsider"])
    response = client.get("/processes/987654")
    assert response.status_code == 404 and "emergency access" not in response.get_data(as_text=True)
