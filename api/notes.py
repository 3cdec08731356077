"""Case notes: draft -> complete; completed notes are corrected by appended corrections only."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from api import blueprint
from api.openapi import documented
from api.records_common import Strict, expected_version, json_body, page, page_args
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Invalid
from casework.records import service_note as notes
from casework.records.access import get_visible_person
from casework.web.context import current_actor, db_session


class NoteCorrectionSchema(Schema):
    id = fields.Int()
    body = fields.Str()
    reason = fields.Str()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)


class NoteSchema(Schema):
    id = fields.Int()
    person_id = fields.Int()
    case_id = fields.Int(allow_none=True)
    note_type = fields.Str()
    subject = fields.Str()
    body = fields.Str()
    occurred_at = fields.DateTime()
    significant = fields.Bool()
    status = fields.Str()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.Int(allow_none=True)
    linked_person_ids = fields.Function(lambda n: sorted(link.person_id for link in n.linked))
    corrections = fields.List(fields.Nested(NoteCorrectionSchema))
    version = fields.Int()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)
    updated_at = fields.DateTime()
    updated_by = fields.Int(allow_none=True)


class NoteInSchema(Strict):
    note_type = fields.Str(required=True)
    subject = fields.Str(required=True, validate=validate.Length(min=1, max=300))
    body = fields.Str(required=True, validate=validate.Length(max=100_000))
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    significant = fields.Bool(load_default=False)
    case_id = fields.Int(load_default=None, allow_none=True)
    linked_person_ids = fields.List(fields.Int(), load_default=list)
    complete = fields.Bool(load_default=False)


class NoteUpdateSchema(Strict):
    note_type = fields.Str()
    subject = fields.Str(validate=validate.Length(min=1, max=300))
    body = fields.Str(validate=validate.Length(max=100_000))
    occurred_at = fields.AwareDateTime()
    significant = fields.Bool()
    case_id = fields.Int(allow_none=True)
    linked_person_ids = fields.List(fields.Int())
    version = fields.Int(load_default=None)


class NoteCorrectionInSchema(Strict):
    body = fields.Str(required=True, validate=validate.Length(min=1, max=100_000))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


@blueprint.get("/people/<int:person_id>/notes")
@requires(Permission.RECORDS_VIEW)
@documented("Notes about a person (own and linked), newest first", response=NoteSchema(many=True),
            query={"note_type": "code", "significant": "true|false", "case_id": "id", "limit": "max 100",
                   "offset": "skip"})
def list_notes(person_id: int):  # type: ignore[no-untyped-def]
    limit, offset = page_args()
    significant = request.args.get("significant")
    if significant not in (None, "true", "false"):
        raise Invalid("significant must be true or false", details={"significant": "Use true or false"})
    rows, more = notes.notes_for_person(
        db_session(), current_actor(), person_id, note_type=request.args.get("note_type"),
        significant=None if significant is None else significant == "true",
        case_id=request.args.get("case_id", type=int), limit=limit, offset=offset, audited=True)
    db_session().commit()  # the audit row of the view
    return page(NoteSchema(many=True).dump(rows), more, limit, offset)


@blueprint.post("/people/<int:person_id>/notes")
@requires(Permission.RECORDS_EDIT)
@documented("Write a note (a draft unless complete=true)", body=NoteInSchema, response=NoteSchema, status=201)
def create_note(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = NoteInSchema().load(json_body())
    complete = data.pop("complete")
    person = get_visible_person(session, actor, person_id)
    note = notes.create_note(session, actor, person, data, complete=complete)
    session.commit()
    return NoteSchema().dump(note), 201


@blueprint.get("/notes/<int:note_id>")
@requires(Permission.RECORDS_VIEW)
@documented("A note with its corrections", response=NoteSchema)
def get_note(note_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    note = notes.view_note(session, current_actor(), note_id)
    session.commit()  # the audit row of the view
    return NoteSchema().dump(note)


@blueprint.patch("/notes/<int:note_id>")
@requires(Permission.RECORDS_EDIT)
@documented("Edit a draft note (a completed note gets 409: add a correction)", body=NoteUpdateSchema,
            response=NoteSchema)
def update_note(note_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = NoteUpdateSchema().load(json_body())
    note = notes.get_visible_note(session, actor, note_id)
    version = expected_version(data)
    data.pop("version", None)
    notes.update_draft(session, actor, note, data, version)
    session.commit()
    return NoteSchema().dump(note)


@blueprint.post("/notes/<int:note_id>/complete")
@requires(Permission.RECORDS_EDIT)
@documented("Complete a draft note (final from then on)", response=NoteSchema)
def complete_note(note_id: int):  # type: ignore[no-untyped-def]
    from api.records_common import VersionOnly

    session, actor = db_session(), current_actor()
    data = VersionOnly().load(request.get_json(silent=True) or {})
    note = notes.get_visible_note(session, actor, note_id)
    notes.complete_note(session, actor, note, expected_version=expected_version(data))
    session.commit()
    return NoteSchema().dump(note)


@blueprint.post("/notes/<int:note_id>/corrections")
@requires(Permission.RECORDS_EDIT)
@documented("Append a correction to a completed note (the original is kept)", body=NoteCorrectionInSchema,
            response=NoteCorrectionSchema, status=201)
def add_correction(note_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = NoteCorrectionInSchema().load(json_body())
    note = notes.get_visible_note(session, actor, note_id)
    correction = notes.add_correction(session, actor, note, **data)
    session.commit()
    return NoteCorrectionSchema().dump(correction), 201
