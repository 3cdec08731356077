"""The case summary a practitioner opens first: person, alerts, cases and allocation, chronology.

Kept lean (five small indexed queries, rows not ORM objects) because it is the most-opened page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import Team, User
from casework.auth.access import Actor
from casework.errors import NotFound
from casework.records.access import can_view_person
from casework.records.models_case import Case
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_person import Person, PersonAddress, PersonAlert

SUMMARY_CHRONOLOGY = 500


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def person_summary(session: Session, actor: Actor, person_id: int, *, chronology_limit: int = SUMMARY_CHRONOLOGY
                   ) -> dict[str, Any]:
    person = session.get(Person, person_id)
    if person is None or not can_view_person(actor, person):
        raise NotFound("No such person")
    alerts = session.execute(
        select(PersonAlert.id, PersonAlert.alert_type, PersonAlert.description)
        .where(PersonAlert.person_id == person_id, PersonAlert.ended_at.is_(None)).order_by(PersonAlert.id)).all()
    address = session.execute(
        select(PersonAddress.line1, PersonAddress.line2, PersonAddress.town, PersonAddress.postcode)
        .where(PersonAddress.person_id == person_id, PersonAddress.end_date.is_(None))
        .order_by(PersonAddress.id.desc()).limit(1)).first()
    cases = session.execute(
        select(Case.id, Case.reference, Case.service_area, Case.status, Case.opened_on, Case.closed_on,
               Case.version, Team.name.label("team"), User.display_name.label("worker"))
        .outerjoin(Team, Team.id == Case.team_id).outerjoin(User, User.id == Case.worker_id)
        .where(Case.person_id == person_id).order_by(Case.status.desc(), Case.opened_on.desc())).all()
    entries = session.execute(
        select(ChronologyEntry.id, ChronologyEntry.occurred_at, ChronologyEntry.kind, ChronologyEntry.source,
               ChronologyEntry.title, ChronologyEntry.case_id)
        .where(ChronologyEntry.person_id == person_id)
        .order_by(ChronologyEntry.occurred_at.desc(), ChronologyEntry.id.desc()).limit(chronology_limit)).all()
    return {
        "person": {
            "id": person.id, "local_id": person.local_id, "display_name": person.display_name,
            "date_of_birth": _iso(person.date_of_birth), "dob_is_expected": person.dob_is_expected,
            "date_of_death": _iso(person.date_of_death), "nhs_number": person.nhs_number,
            "restricted": person.restricted, "version": person.version,
            "address": None if address is None else ", ".join(filter(None, address)),
        },
        "alerts": [{"id": a.id, "alert_type": a.alert_type, "description": a.description} for a in alerts],
        "cases": [{"id": c.id, "reference": c.reference, "service_area": c.service_area, "status": c.status,
                   "opened_on": _iso(c.opened_on), "closed_on": _iso(c.closed_on), "team": c.team,
                   "worker": c.worker, "version": c.version} for c in cases],
        "chronology": [{"id": e.id, "occurred_at": e.occurred_at.isoformat(), "kind": e.kind, "source": e.source,
                        "title": e.title, "case_id": e.case_id} for e in entries],
    }
