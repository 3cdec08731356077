"""Cases (episodes): open, list, read, allocate (history), close, attach workflow instances."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from api import blueprint
from api.openapi import documented
from api.records_common import Strict, expected_version, json_body, page, page_args
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.records import service_case as cases
from casework.records.access import get_visible_person
from casework.web.context import current_actor, db_session


class AllocationSchema(Schema):
    id = fields.Int()
    team_id = fields.Int(allow_none=True)
    worker_id = fields.Int(allow_none=True)
    reason = fields.Str(allow_none=True)
    started_at = fields.DateTime()
    allocated_by = fields.Int(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.Int(allow_none=True)


class CaseProcessSchema(Schema):
    instance_id = fields.Int()
    process_key = fields.Str()
    created_at = fields.DateTime()


class CaseSchema(Schema):
    id = fields.Int()
    reference = fields.Str()
    person_id = fields.Int()
    service_area = fields.Str()
    status = fields.Str()
    opened_on = fields.Date()
    open_reason = fields.Str()
    closed_on = fields.Date(allow_none=True)
    close_reason = fields.Str(allow_none=True)
    summary = fields.Str(allow_none=True)
    team_id = fields.Int(allow_none=True)
    worker_id = fields.Int(allow_none=True)
    allocations = fields.List(fields.Nested(AllocationSchema))
    process_instance_ids = fields.Function(lambda c: [p.instance_id for p in c.processes])
    processes = fields.List(fields.Nested(CaseProcessSchema))
    version = fields.Int()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)
    updated_at = fields.DateTime()
    updated_by = fields.Int(allow_none=True)


class CaseOpenSchema(Strict):
    service_area = fields.Str(required=True)
    open_reason = fields.Str(required=True)
    opened_on = fields.Date(load_default=None, allow_none=True)
    summary = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    team_id = fields.Int(load_default=None, allow_none=True)
    worker_id = fields.Int(load_default=None, allow_none=True)


class CaseAllocateSchema(Strict):
    team_id = fields.Int(load_default=None, allow_none=True)
    worker_id = fields.Int(load_default=None, allow_none=True)
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=300))
    version = fields.Int(load_default=None)


class CaseCloseSchema(Strict):
    close_reason = fields.Str(required=True)
    closed_on = fields.Date(load_default=None, allow_none=True)
    version = fields.Int(load_default=None)


class CaseAttachSchema(Strict):
    instance_id = fields.Int(required=True, validate=validate.Range(min=1))
    process_key = fields.Str(required=True, validate=validate.Length(min=1, max=200))


@blueprint.get("/cases")
@requires(Permission.RECORDS_VIEW)
@documented("List cases", response=CaseSchema(many=True),
            query={"status": "open|closed", "service_area": "children|adults|finance", "team_id": "id",
                   "worker_id": "id", "limit": "max 100", "offset": "skip"})
def list_cases():  # type: ignore[no-untyped-def]
    limit, offset = page_args()
    args = request.args
    rows, more = cases.list_cases(db_session(), current_actor(), status=args.get("status"),
                                  service_area=args.get("service_area"), team_id=args.get("team_id", type=int),
                                  worker_id=args.get("worker_id", type=int), limit=limit, offset=offset)
    return page(CaseSchema(many=True).dump(rows), more, limit, offset)


@blueprint.get("/people/<int:person_id>/cases")
@requires(Permission.RECORDS_VIEW)
@documented("A person's cases", response=CaseSchema(many=True))
def person_cases(person_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    person = get_visible_person(session, current_actor(), person_id)
    return {"items": CaseSchema(many=True).dump(cases.cases_for_person(session, person.id, current_actor()))}


@blueprint.post("/people/<int:person_id>/cases")
@requires(Permission.RECORDS_EDIT)
@documented("Open a case for a person", body=CaseOpenSchema, response=CaseSchema, status=201)
def open_case(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = CaseOpenSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    case = cases.open_case(session, actor, person, data)
    session.commit()
    return CaseSchema().dump(case), 201


@blueprint.get("/cases/<int:case_id>")
@requires(Permission.RECORDS_VIEW)
@documented("A case with its allocation history and process instances", response=CaseSchema)
def get_case(case_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    case = cases.view_case(session, current_actor(), case_id)
    session.commit()  # the audit row of the view
    return CaseSchema().dump(case)


@blueprint.get("/cases/by-reference/<reference>")
@requires(Permission.RECORDS_VIEW)
@documented("A case by its business key (e.g. CH-0000042)", response=CaseSchema)
def get_case_by_reference(reference: str):  # type: ignore[no-untyped-def]
    return CaseSchema().dump(cases.case_by_reference(db_session(), current_actor(), reference))


@blueprint.post("/cases/<int:case_id>/allocation")
@requires(Permission.RECORDS_EDIT)
@documented("Allocate (or reallocate) the case to a worker and team", body=CaseAllocateSchema, response=CaseSchema)
def allocate_case(case_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = CaseAllocateSchema().load(json_body())
    case = cases.get_visible_case(session, actor, case_id)
    cases.allocate(session, actor, case, team_id=data["team_id"], worker_id=data["worker_id"],
                   reason=data["reason"], expected_version=expected_version(data))
    session.commit()
    return CaseSchema().dump(case)


@blueprint.post("/cases/<int:case_id>/close")
@requires(Permission.RECORDS_EDIT)
@documented("Close the case", body=CaseCloseSchema, response=CaseSchema)
def close_case(case_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = CaseCloseSchema().load(json_body())
    case = cases.get_visible_case(session, actor, case_id)
    cases.close_case(session, actor, case, closed_on=data["closed_on"], close_reason=data["close_reason"],
                     expected_version=expected_version(data))
    session.commit()
    return CaseSchema().dump(case)


@blueprint.post("/cases/<int:case_id>/processes")
@requires(Permission.RECORDS_EDIT)
@documented("Attach a workflow instance to the case", body=CaseAttachSchema, response=CaseSchema, status=201)
def attach_process(case_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = CaseAttachSchema().load(json_body())
    case = cases.get_visible_case(session, actor, case_id)
    cases.attach_process(session, case, instance_id=data["instance_id"], process_key=data["process_key"],
                         actor=actor)
    session.commit()
    return CaseSchema().dump(case), 201
