"""The case summary a practitioner opens first: person, alerts, cases and allocation, chronology."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casework.accounts.models import Team, User
from casework.auth.access import Actor
from casework.errors import NotFound
from casework.records.access import can_view_person
from casework.records.models_case import Case
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_person import Person

SUMMARY_CHRONOLOGY = 500


def person_summary(session: Session, actor: Actor, person_id: int, *, chronology_limit: int = SUMMARY_CHRONOLOGY
                   ) -> dict[str, Any]:
    person = session.scalar(select(Person).where(Person.id == person_id).options(
        selectinload(Person.alerts), selectinload(Person.restrictions), selectinload(Person.addresses)))
    if person is None or not can_view_person(actor, person):
        raise NotFound("No such person")
    cases = list(session.scalars(select(Case).where(Case.person_id == person_id)
                                 .order_by(Case.status.desc(), Case.opened_on.desc())))
    user_ids = {c.worker_id for c in cases if c.worker_id}
    team_ids = {c.team_id for c in cases if c.team_id}
    users = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    teams = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) if team_ids else {}
    entries = session.execute(
        select(ChronologyEntry.id, ChronologyEntry.occurred_at, ChronologyEntry.kind, ChronologyEntry.source,
               ChronologyEntry.title, ChronologyEntry.case_id)
        .where(ChronologyEntry.person_id == person_id)
        .order_by(ChronologyEntry.occurred_at.desc(), ChronologyEntry.id.desc()).limit(chronology_limit)).all()
    address = person.current_address
    return {
        "person": {
            "id": person.id, "local_id": person.local_id, "display_name": person.display_name,
            "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
            "dob_is_expected": person.dob_is_expected,
            "date_of_death": person.date_of_death.isoformat() if person.date_of_death else None,
            "nhs_number": person.nhs_number, "restricted": person.restricted, "version": person.version,
            "address": None if address is None else
            ", ".join(filter(None, [address.line1, address.line2, address.town, address.postcode])),
        },
        "alerts": [{"id": a.id, "alert_type": a.alert_type, "description": a.description}
                   for a in person.active_alerts],
        "cases": [{"id": c.id, "reference": c.reference, "service_area": c.service_area, "status": c.status,
                   "opened_on": c.opened_on.isoformat(),
                   "closed_on": c.closed_on.isoformat() if c.closed_on else None,
                   "team": teams.get(c.team_id), "worker": users.get(c.worker_id), "version": c.version}
                  for c in cases],
        "chronology": [{"id": e.id, "occurred_at": e.occurred_at.isoformat(), "kind": e.kind, "source": e.source,
                        "title": e.title, "case_id": e.case_id} for e in entries],
    }
