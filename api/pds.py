"""NHS PDS lookup: candidates by NHS number or name + date of birth; link a person on confirmation."""

from __future__ import annotations

from flask import current_app, request
from marshmallow import fields

from api import blueprint
from api.openapi import documented
from api.records_common import Strict, arg_date, expected_version, json_body
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import DomainError
from casework.records import pds
from casework.records.access import get_visible_person
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
    return {"candidates": [c.as_dict() for c in candidates]}


@blueprint.post("/people/<int:person_id>/pds-link")
@requires(Permission.RECORDS_EDIT)
@documented("Link a person to their PDS record (after the worker confirmed the candidate)", body=PdsLinkSchema)
def pds_link(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PdsLinkSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    try:
        person, candidate = pds.link_person(session, actor, person, _client(), nhs_number=data["nhs_number"],
                                            expected_version=expected_version(data))
    except pds.PdsUnavailable as exc:
        raise PdsUnavailableError(f"The NHS PDS service is not available: {exc}") from None
    session.commit()
    return {"person_id": person.id, "nhs_number": person.nhs_number, "version": person.version,
            "pds_linked_at": person.pds_linked_at.isoformat(), "candidate": candidate.as_dict()}
