"""People: search, create (duplicate check), read, update (versioned), names, addresses, contacts, alerts,
restriction and the case summary."""

from __future__ import annotations

from flask import make_response
from marshmallow import Schema, fields, validate

from api import blueprint
from api.openapi import documented
from api.records_common import (
    PersonAddressInSchema,
    PersonAddressSchema,
    PersonAlertSchema,
    PersonBriefSchema,
    Strict,
    arg_date,
    expected_version,
    json_body,
    page,
    page_args,
)
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.records import service_details as details
from casework.records import service_person as people
from casework.records.access import get_visible_person
from casework.records.service_summary import person_summary
from casework.web.context import current_actor, db_session


class PersonNameSchema(Strict):
    id = fields.Int(dump_only=True)
    name_type = fields.Str(load_default="alias")
    forename = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    middle_names = fields.Str(load_default=None, allow_none=True)
    surname = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    valid_from = fields.Date(dump_only=True, allow_none=True)
    valid_to = fields.Date(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.Int(dump_only=True, allow_none=True)


class PersonContactSchema(Strict):
    id = fields.Int(dump_only=True)
    kind = fields.Str(required=True)
    value = fields.Str(required=True, validate=validate.Length(min=1, max=254))
    preferred = fields.Bool(load_default=False)
    created_at = fields.DateTime(dump_only=True)
    ended_at = fields.DateTime(dump_only=True, allow_none=True)


class PersonSchema(PersonBriefSchema):
    middle_names = fields.Str(allow_none=True)
    preferred_name = fields.Str(allow_none=True)
    sex = fields.Str(allow_none=True)
    gender = fields.Str(allow_none=True)
    ethnicity = fields.Str(allow_none=True)
    disabilities = fields.List(fields.Str())
    first_language = fields.Str(allow_none=True)
    interpreter_needed = fields.Bool()
    upn = fields.Str(allow_none=True)
    pds_linked_at = fields.DateTime(allow_none=True)
    names = fields.List(fields.Nested(PersonNameSchema))
    current_address = fields.Nested(PersonAddressSchema, allow_none=True)
    addresses = fields.List(fields.Nested(PersonAddressSchema))
    contacts = fields.Function(lambda p: PersonContactSchema(many=True).dump([c for c in p.contacts if not c.ended_at]))
    restricted_to_users = fields.Function(lambda p: sorted(r.user_id for r in p.restrictions if r.user_id))
    restricted_to_teams = fields.Function(lambda p: sorted(r.team_id for r in p.restrictions if r.team_id))
    version = fields.Int()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)
    updated_at = fields.DateTime()
    updated_by = fields.Int(allow_none=True)


class _PersonFields(Strict):
    forename = fields.Str(validate=validate.Length(min=1, max=100))
    middle_names = fields.Str(allow_none=True, validate=validate.Length(max=200))
    surname = fields.Str(validate=validate.Length(min=1, max=100))
    preferred_name = fields.Str(allow_none=True, validate=validate.Length(max=100))
    date_of_birth = fields.Date(allow_none=True)
    dob_is_expected = fields.Bool()
    date_of_death = fields.Date(allow_none=True)
    sex = fields.Str(allow_none=True)
    gender = fields.Str(allow_none=True)
    ethnicity = fields.Str(allow_none=True)
    disabilities = fields.List(fields.Str())
    first_language = fields.Str(allow_none=True)
    interpreter_needed = fields.Bool()
    nhs_number = fields.Str(allow_none=True)
    upn = fields.Str(allow_none=True)


class PersonCreateSchema(_PersonFields):
    forename = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    surname = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    restricted = fields.Bool(load_default=False)
    restricted_to_users = fields.List(fields.Int(), load_default=list)
    restricted_to_teams = fields.List(fields.Int(), load_default=list)
    address = fields.Nested(PersonAddressInSchema, load_default=None, allow_none=True)
    confirm_not_duplicate = fields.Bool(load_default=False)


class PersonUpdateSchema(_PersonFields):
    version = fields.Int(load_default=None)
    name_valid_from = fields.Date()


class DuplicateCheckSchema(Strict):
    forename = fields.Str(required=True)
    surname = fields.Str(required=True)
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    nhs_number = fields.Str(load_default=None, allow_none=True)


class PersonAlertInSchema(Strict):
    alert_type = fields.Str(required=True)
    description = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class AddressEndSchema(Strict):
    end_date = fields.Date(required=True)


class RestrictionSchema(Strict):
    restricted = fields.Bool(required=True)
    restricted_to_users = fields.List(fields.Int(), load_default=list)
    restricted_to_teams = fields.List(fields.Int(), load_default=list)
    version = fields.Int(load_default=None)


def _person_response(person, status: int = 200):  # type: ignore[no-untyped-def]
    response = make_response(PersonSchema().dump(person), status)
    response.headers["ETag"] = f'W/"{person.version}"'
    return response


@blueprint.get("/people")
@requires(Permission.RECORDS_VIEW)
@documented("Search people (NHS number, surname prefix + date of birth, partial name)",
            response=PersonBriefSchema(many=True),
            query={"q": "partial name words", "nhs_number": "exact", "surname": "prefix",
                   "forename": "prefix", "date_of_birth": "YYYY-MM-DD", "local_id": "exact",
                   "limit": "max 100", "offset": "skip"})
def search_people():  # type: ignore[no-untyped-def]
    from flask import request

    limit, offset = page_args()
    rows, more = people.search_people(
        db_session(), current_actor(), q=request.args.get("q"), nhs_number=request.args.get("nhs_number"),
        surname=request.args.get("surname"), forename=request.args.get("forename"),
        date_of_birth=arg_date("date_of_birth"), local_id=request.args.get("local_id"), limit=limit, offset=offset)
    return page(PersonBriefSchema(many=True).dump(rows), more, limit, offset)


@blueprint.post("/people/duplicates")
@requires(Permission.RECORDS_VIEW)
@documented("Likely matches for a new person (before creating)", body=DuplicateCheckSchema)
def check_duplicates():  # type: ignore[no-untyped-def]
    data = DuplicateCheckSchema().load(json_body())
    matches = people.find_duplicates(db_session(), current_actor(), forename=data["forename"],
                                     surname=data["surname"], date_of_birth=data["date_of_birth"],
                                     nhs_number=people.normalise_nhs_number(data["nhs_number"]))
    return {"matches": [people.match_summary(p, why) for p, why in matches]}


@blueprint.post("/people")
@requires(Permission.RECORDS_EDIT)
@documented("Create a person (409 with likely matches unless confirm_not_duplicate)", body=PersonCreateSchema,
            response=PersonSchema, status=201)
def create_person():  # type: ignore[no-untyped-def]
    data = PersonCreateSchema().load(json_body())
    confirm = data.pop("confirm_not_duplicate")
    address = data.pop("address")
    session, actor = db_session(), current_actor()
    person = people.create_person(session, actor, data, confirm_not_duplicate=confirm)
    if address:
        details.add_address(session, actor, person, address)
        person.version = 1
    session.commit()
    return _person_response(person, 201)


@blueprint.get("/people/<int:person_id>")
@requires(Permission.RECORDS_VIEW)
@documented("A person's record (with names and address history, contacts and alerts)", response=PersonSchema)
def get_person(person_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    person = people.view_person(session, current_actor(), person_id)
    session.commit()  # the audit row of the view
    return _person_response(person)


@blueprint.patch("/people/<int:person_id>")
@requires(Permission.RECORDS_EDIT)
@documented("Update a person (send version or If-Match; a stale version gets 409)", body=PersonUpdateSchema,
            response=PersonSchema)
def update_person(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PersonUpdateSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    version = expected_version(data)
    data.pop("version", None)
    people.update_person(session, actor, person, data, version)
    session.commit()
    return _person_response(person)


@blueprint.get("/people/<int:person_id>/summary")
@requires(Permission.RECORDS_VIEW)
@documented("Case summary: person, alerts, cases with allocation, household and chronology")
def get_summary(person_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    summary = person_summary(session, current_actor(), person_id)
    session.commit()  # the audit row of the view
    return summary


@blueprint.post("/people/<int:person_id>/names")
@requires(Permission.RECORDS_EDIT)
@documented("Add an alias, preferred or previous name", body=PersonNameSchema, response=PersonNameSchema, status=201)
def add_name(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PersonNameSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    name = people.add_alias(session, actor, person, **data)
    session.commit()
    return PersonNameSchema().dump(name), 201


@blueprint.post("/people/<int:person_id>/addresses")
@requires(Permission.RECORDS_EDIT)
@documented("Add an address (a new home address ends the current one)", body=PersonAddressInSchema,
            response=PersonAddressSchema, status=201)
def add_address(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PersonAddressInSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    address = details.add_address(session, actor, person, data)
    session.commit()
    return PersonAddressSchema().dump(address), 201


@blueprint.post("/people/<int:person_id>/addresses/<int:address_id>/end")
@requires(Permission.RECORDS_EDIT)
@documented("End an address (kept in the history)", body=AddressEndSchema, response=PersonAddressSchema)
def end_address(person_id: int, address_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = AddressEndSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    address = details.end_address(session, actor, person, address_id, data["end_date"])
    session.commit()
    return PersonAddressSchema().dump(address)


@blueprint.post("/people/<int:person_id>/contacts")
@requires(Permission.RECORDS_EDIT)
@documented("Add a telephone number or email address", body=PersonContactSchema, response=PersonContactSchema,
            status=201)
def add_contact(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PersonContactSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    contact = details.add_contact(session, actor, person, data)
    session.commit()
    return PersonContactSchema().dump(contact), 201


@blueprint.post("/people/<int:person_id>/contacts/<int:contact_id>/end")
@requires(Permission.RECORDS_EDIT)
@documented("Stop using a contact detail (kept in the history)", response=PersonContactSchema)
def end_contact(person_id: int, contact_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    contact = details.end_contact(session, actor, person, contact_id)
    session.commit()
    return PersonContactSchema().dump(contact)


@blueprint.post("/people/<int:person_id>/alerts")
@requires(Permission.RECORDS_EDIT)
@documented("Add an alert or warning", body=PersonAlertInSchema, response=PersonAlertSchema, status=201)
def add_alert(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = PersonAlertInSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    alert = details.add_alert(session, actor, person, **data)
    session.commit()
    return PersonAlertSchema().dump(alert), 201


@blueprint.post("/people/<int:person_id>/alerts/<int:alert_id>/end")
@requires(Permission.RECORDS_EDIT)
@documented("End an alert (kept in the history)", response=PersonAlertSchema)
def end_alert(person_id: int, alert_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    alert = details.end_alert(session, actor, person, alert_id)
    session.commit()
    return PersonAlertSchema().dump(alert)


@blueprint.put("/people/<int:person_id>/restriction")
@requires(Permission.RECORDS_EDIT)
@documented("Restrict (seal) a record to named users and teams, or lift the restriction", body=RestrictionSchema,
            response=PersonSchema)
def set_restriction(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = RestrictionSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    from casework.records.common import check_version

    check_version(person, expected_version(data))
    people.set_restriction(session, actor, person, restricted=data["restricted"],
                           users=data["restricted_to_users"], teams=data["restricted_to_teams"])
    session.commit()
    return _person_response(person)


class RecordChangeSchema(Schema):
    record_type = fields.Str()
    record_id = fields.Int()
    version = fields.Int()
    field = fields.Str()
    old_value = fields.Str(allow_none=True)
    new_value = fields.Str(allow_none=True)
    changed_at = fields.DateTime()
    changed_by = fields.Int(allow_none=True)


@blueprint.get("/people/<int:person_id>/changes")
@requires(Permission.RECORDS_VIEW)
@documented("Field history: every in-place change to the person, their relationships and involvements",
            response=RecordChangeSchema(many=True), query={"limit": "max 100", "offset": "skip"})
def person_changes(person_id: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from casework import audit
    from casework.audit import AuditAction
    from casework.records.models_change import RecordChange

    session, actor = db_session(), current_actor()
    get_visible_person(session, actor, person_id)
    limit, offset = page_args()
    rows = list(session.scalars(select(RecordChange).where(RecordChange.person_id == person_id)
                                .order_by(RecordChange.id.desc()).limit(limit + 1).offset(offset)))
    body = page(RecordChangeSchema(many=True).dump(rows[:limit]), len(rows) > limit, limit, offset)
    # the history shown (old and new values) is audited by field name: "<record type>.<field>"
    audit.record(session, actor, AuditAction.VIEW, record_type="person_changes", record_id=person_id,
                 person_id=person_id, fields={f"{r.record_type}.{r.field}" for r in rows[:limit]})
    session.commit()  # the audit row of the view
    return body


@blueprint.get("/people/<int:person_id>/sar")
@requires(Permission.AUDIT_VIEW)
@documented("Subject access request: a zip (index.json, index.html, documents/) of everything held about the "
            "person, with the access log; third-party data is marked for redaction review")
def subject_access_request(person_id: int):  # type: ignore[no-untyped-def]
    import io

    from flask import current_app, send_file

    from casework.records.service_sar import build_sar

    session = db_session()
    person, data = build_sar(session, current_actor(), person_id,
                             documents_dir=current_app.config["SETTINGS"].documents_dir)
    name = f"sar-{person.local_id}.zip"
    session.commit()  # the audit row of the export
    response = send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
