"""The case summary a practitioner opens first: person, alerts, cases and allocation, chronology.

Kept lean (two round trips on PostgreSQL; chronology and cases as rows, not ORM objects): it is the
most-opened page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, joinedload

from casework import audit
from casework.accounts.models import Team, User
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.errors import NotFound
from casework.records.access import can_view_person, case_link_clause, visible_cases_clause
from casework.records.models_case import Case
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_person import Person

SUMMARY_CHRONOLOGY = 500
BUILD_JSON_IN_POSTGRES = True  # chronology rows as one JSON array built by PostgreSQL


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


SUMMARY_FIELDS = ("display_name", "date_of_birth", "date_of_death", "nhs_number", "address", "alerts", "cases",
                  "chronology")


def person_summary(session: Session, actor: Actor, person_id: int, *, chronology_limit: int = SUMMARY_CHRONOLOGY,
                   audited: bool = True) -> dict[str, Any]:
    """The summary (cases and chronology only as far as the actor may see them); audited as one view."""
    # round trips: person with alerts and addresses joined; then cases (with team, worker) and chronology
    person = session.scalars(select(Person).where(Person.id == person_id)
                             .options(joinedload(Person.alerts), joinedload(Person.addresses))).unique().first()
    if person is None or not can_view_person(actor, person, session):
        raise NotFound("No such person")
    alerts = person.active_alerts
    current = person.current_address
    address = None if current is None else (current.line1, current.line2, current.town, current.postcode)
    cases_stmt = (select(Case.id, Case.reference, Case.service_area, Case.status, Case.opened_on, Case.closed_on,
                         Case.version, Team.name.label("team"), User.display_name.label("worker"))
                  .outerjoin(Team, Team.id == Case.team_id).outerjoin(User, User.id == Case.worker_id)
                  .where(Case.person_id == person_id, visible_cases_clause(actor))
                  .order_by(Case.status.desc(), Case.opened_on.desc()))
    # chronology_limit=0: a page that shows the chronology itself (paged) and not the summary's
    latest = None if chronology_limit <= 0 else (
        select(ChronologyEntry.id, ChronologyEntry.occurred_at, ChronologyEntry.kind, ChronologyEntry.source,
               ChronologyEntry.title, ChronologyEntry.case_id)
        .where(ChronologyEntry.person_id == person_id, case_link_clause(actor, ChronologyEntry.case_id))
        .order_by(ChronologyEntry.occurred_at.desc(), ChronologyEntry.id.desc()).limit(chronology_limit))
    if BUILD_JSON_IN_POSTGRES and session.get_bind().dialect.name == "postgresql":
        cases, chronology = _cases_and_chronology_pg(session, cases_stmt, latest)  # one more round trip
    else:
        cases = [{"id": c.id, "reference": c.reference, "service_area": c.service_area, "status": c.status,
                  "opened_on": _iso(c.opened_on), "closed_on": _iso(c.closed_on), "team": c.team,
                  "worker": c.worker, "version": c.version} for c in session.execute(cases_stmt)]
        chronology = [] if latest is None else [
            {"id": e.id, "occurred_at": e.occurred_at.isoformat(), "kind": e.kind, "source": e.source,
             "title": e.title, "case_id": e.case_id} for e in session.execute(latest)]
    if audited:  # last: on PostgreSQL the audit append locks the chain head until commit, so read first
        audit.record(session, actor, AuditAction.VIEW, record_type="person_summary", record_id=person.id,
                     person_id=person.id, fields=SUMMARY_FIELDS)
    return {
        "person": {
            "id": person.id, "local_id": person.local_id, "display_name": person.display_name,
            "date_of_birth": _iso(person.date_of_birth), "dob_is_expected": person.dob_is_expected,
            "date_of_death": _iso(person.date_of_death), "nhs_number": person.nhs_number,
            "restricted": person.restricted, "version": person.version,
            "address": None if address is None else ", ".join(filter(None, address)),
        },
        "alerts": [{"id": a.id, "alert_type": a.alert_type, "description": a.description} for a in alerts],
        "cases": cases,
        "chronology": chronology,
    }


def _cases_and_chronology_pg(session: Session, cases_stmt: Any, latest: Any
                             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """PostgreSQL builds both lists as JSON arrays in one statement (one round trip, little Python per row)."""
    c = cases_stmt.subquery()
    case_obj = func.json_build_object(
        "id", c.c.id, "reference", c.c.reference, "service_area", c.c.service_area, "status", c.c.status,
        "opened_on", c.c.opened_on, "closed_on", c.c.closed_on, "team", c.c.team, "worker", c.c.worker,
        "version", c.c.version)
    cases_json = select(func.coalesce(func.json_agg(aggregate_order_by(case_obj, c.c.status.desc(),
                                                                       c.c.opened_on.desc())),
                                      text("'[]'::json"))).scalar_subquery()
    if latest is None:
        return session.execute(select(cases_json)).scalar_one() or [], []
    e = latest.subquery()
    entry_obj = func.json_build_object(
        "id", e.c.id, "occurred_at", func.to_char(func.timezone("UTC", e.c.occurred_at),
                                                  'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
        "kind", e.c.kind, "source", e.c.source, "title", e.c.title, "case_id", e.c.case_id)
    chronology_json = select(func.coalesce(func.json_agg(aggregate_order_by(entry_obj, e.c.occurred_at.desc(),
                                                                            e.c.id.desc())),
                                           text("'[]'::json"))).scalar_subquery()
    row = session.execute(select(cases_json, chronology_json)).one()
    return row[0] or [], row[1] or []
