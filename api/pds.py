"""NHS PDS lookup: candidates by NHS number or name + date of birth; link a person on confirmation."""

from __future__ import annotations

from flask import current_app, request
from marshmallow import fields
from sqlalchemy import select

from api import blueprint
from api.openapi import documented
from api.records_common import Strict, arg_date, expected_version, json_body
from casework import audit
from casework.audit import AuditAction
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import DomainError
from casework.records import pds
from casework.records.access import get_visible_person
from casework.records.models_person import Person
from casework.web.context import current_actor, db_session


class PdsUnavailableError(DomainError):
    status, code = 503, "pds_unavailable"


class PdsLinkSchema(Strict):
    nhs_number = fields.Str(required=True)
    version = fields.Int(load_default=None)


def _client() -> pds.PdsClient:
    return pds.PdsClient(current_app.config["SETTINGS"].pds_base_url)


@blueprint.get("/pds/patients")
@requires(Permission.RECORDS_EDIT)
@documented("Look up NHS PDS: by nhs_number, or by family (+ given, birthdate); returns candidates",
            query={"nhs_number": "10 digits", "family": "family name", "given": "given name",
                   "birthdate": "YYYY-MM-DD"})
def pds_search():  # type: ignore[no-untyped-def]
    params = {k: v for k, v in {"nhs_number": request.args.get("nhs_number"), "family": request.args.get("family"),
                                "given": request.args.get("given"), "birthdate": arg_date("birthdate")}.items() if v}
    try:
        candidates = pds.lookup(_client(), params)
    except pds.PdsUnavailable as exc:
        raise PdsUnavailableError(f"The NHS PDS service is not available: {exc}") from None
    body = {"candidates": [c.as_dict() for c in candidates]}
    _audit_lookup(sorted(params), candidates)
    return body


def _audit_lookup(searched_by: list[str], candidates: list[pds.PdsCandidate]) -> None:
    """One view event per lookup: what it searched by ("search.<param>", names only) and which PDS fields came
    back ("result.<field>"). A single candidate (always so for an NHS number lookup) is the record: its NHS
    number, and the local person holding that number if there is one (so the person's access log shows it)."""
    session, actor = db_session(), current_actor()
    record_id = person_id = None
    if len(candidates) == 1:
        record_id = candidates[0].nhs_number
        person_id = session.scalar(select(Person.id).where(Person.nhs_number == record_id))
    shown = {name for c in candidates for name, value in c.as_dict().items() if value not in (None, [], "")}
    audit.record(session, actor, AuditAction.VIEW, record_type="pds_patient", record_id=record_id,
                 person_id=person_id, fields=[f"search.{p}" for p in searched_by] + [f"result.{f}" for f in shown])
    session.commit()  # the audit row of the lookup


@blueprint.post("/people/<int:person_id>/pds-link")
@requires(Permission.RECORDS_EDIT)
@documented("Link a person to their PDS record (after the worker confirmed the candidate)", body=PdsLinkSchema)
def pds_link(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PdsLinkSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    before = {"nhs_number": person.nhs_number, "date_of_birth": person.date_of_birth}
    try:
        person, candidate = pds.link_person(session, actor, person, _client(), nhs_number=data["nhs_number"],
                                            expected_version=expected_version(data))
    except pds.PdsUnavailable as exc:
        raise PdsUnavailableError(f"The NHS PDS service is not available: {exc}") from None
    changed = [name for name, value in before.items() if getattr(person, name) != value] + ["pds_linked_at"]
    audit.record(session, actor, AuditAction.UPDATE, record_type="person", record_id=person.id,
                 person_id=person.id, fields=changed, reason="linked to NHS PDS")
    session.commit()
    return {"person_id": person.id, "nhs_number": person.nhs_number, "version": person.version,
            "pds_linked_at": person.pds_linked_at.isoformat(), "candidate": candidate.as_dict()}
