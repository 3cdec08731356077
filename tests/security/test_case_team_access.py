"""The case team rule in the workspace (the case view uses the records services) and the audit of a page view."""

from __future__ import annotations

from sqlalchemy import func, select

from casework.audit import AuditEvent
from casework.auth.access import Actor
from casework.records import service_case as cases
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import create_person


def test_workspace_case_view_follows_the_case_team_rule(client, session):
    a, b = create_team(session), create_team(session)
    own = create_user(session, roles=["practitioner"], teams=[a])
    other = create_user(session, roles=["practitioner"], teams=[b])
    actor = Actor.from_user(own)
    person = create_person(session, actor, surname="Teamcase")
    case = cases.open_case(session, actor, person, {"service_area": "children", "open_reason": "referral",
                                                    "team_id": a.id})
    session.flush()

    sign_in(client, own)
    before = session.scalar(select(func.max(AuditEvent.seq)))
    page = client.get(f"/people/{person.id}")
    assert page.status_code == 200 and case.reference in page.get_data(as_text=True)
    views = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [(e.action, e.record_type) for e in views] == [("view", "person_summary")]
    assert client.get(f"/cases/{case.reference}").status_code == 302

    sign_in(client, other)
    page = client.get(f"/people/{person.id}")  # the person is findable at the front door ...
    assert page.status_code == 200 and case.reference not in page.get_data(as_text=True)  # ... not the case
    assert client.get(f"/cases/{case.reference}").status_code == 404
