"""Chronology per person: list with filters, add by hand, export CSV / PDF."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from api import blueprint
from api.openapi import documented
from api.records_common import Strict, arg_date, json_body, page_args
from casework.audit import AuditAction
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Invalid
from casework.records import service_chronology as chrono
from casework.records.access import get_visible_person
from casework.web.context import current_actor, db_session
from casework.web.downloads import chronology_export


class ChronologyEntrySchema(Schema):
    id = fields.Int()
    person_id = fields.Int()
    case_id = fields.Int(allow_none=True)
    source = fields.Str()
    kind = fields.Str()
    title = fields.Str()
    detail = fields.Str(allow_none=True)
    occurred_at = fields.DateTime()
    source_ref = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)


class ChronologyEntryInSchema(Strict):
    kind = fields.Str(load_default="manual")
    title = fields.Str(required=True, validate=validate.Length(min=1, max=300))
    detail = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
    occurred_at = fields.AwareDateTime(required=True)
    case_id = fields.Int(load_default=None, allow_none=True)


def _list_arg(name: str) -> list[str] | None:
    values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v]
    return values or None


@blueprint.get("/people/<int:person_id>/chronology")
@requires(Permission.RECORDS_VIEW)
@documented("A person's chronology, newest first (format=csv or pdf to export)",
            response=ChronologyEntrySchema(many=True),
            query={"kind": "comma-separated kinds", "source": "workflow,note,manual,case", "from": "YYYY-MM-DD",
                   "to": "YYYY-MM-DD", "format": "json|csv|pdf", "limit": "max 100 (json)", "offset": "skip"})
def get_chronology(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv", "pdf"):
        raise Invalid("Unknown format", details={"format": "Use json, csv or pdf"})
    sources = _list_arg("source")
    for source in sources or []:
        if source not in chrono.codes.CHRONOLOGY_SOURCES:
            raise Invalid("Unknown source", details={"source": f"Use {', '.join(chrono.codes.CHRONOLOGY_SOURCES)}"})
    filters = {"kinds": _list_arg("kind"), "sources": sources, "date_from": arg_date("from"),
               "date_to": arg_date("to")}
    if fmt == "json":
        limit, offset = page_args(default=100)
        rows = chrono.chronology(session, actor, person_id, limit=limit + 1, offset=offset,
                                 audit_action=AuditAction.VIEW, **filters)
        session.commit()  # the audit row of the view
        return {"items": ChronologyEntrySchema(many=True).dump(rows[:limit]), "limit": limit, "offset": offset,
                "next_offset": offset + limit if len(rows) > limit else None}
    return chronology_export(person_id, fmt, filters)


@blueprint.post("/people/<int:person_id>/chronology")
@requires(Permission.RECORDS_EDIT)
@documented("Add a chronology entry by hand", body=ChronologyEntryInSchema, response=ChronologyEntrySchema, status=201)
def add_chronology_entry(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = ChronologyEntryInSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    entry = chrono.add_manual_entry(session, actor, person, **data)
    session.commit()
    return ChronologyEntrySchema().dump(entry), 201
