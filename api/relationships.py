"""Relationships, household view and professional involvements."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api import blueprint
from api.openapi import documented
from api.records_common import PersonBriefSchema, Strict, expected_version, json_body
from casework import audit
from casework.audit import AuditAction
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.records import service_relationship as rels
from casework.records.access import get_visible_person
from casework.web.context import current_actor, db_session


class RelationshipSchema(Schema):
    id = fields.Int()
    person_id = fields.Int()
    related_person_id = fields.Int()
    rel_type = fields.Str()
    parental_responsibility = fields.Bool()
    same_household = fields.Bool()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    version = fields.Int()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)
    updated_at = fields.DateTime()
    updated_by = fields.Int(allow_none=True)


class RelationshipInSchema(Strict):
    related_person_id = fields.Int(required=True)
    rel_type = fields.Str(required=True)
    parental_responsibility = fields.Bool(load_default=False)
    same_household = fields.Bool(load_default=False)
    start_date = fields.Date(load_default=None, allow_none=True)
    end_date = fields.Date(load_default=None, allow_none=True)


class RelationshipUpdateSchema(Strict):
    parental_responsibility = fields.Bool()
    same_household = fields.Bool()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    version = fields.Int(load_default=None)


class InvolvementSchema(Strict):
    id = fields.Int(dump_only=True)
    role = fields.Str(required=True)
    organisation = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    professional_name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))
    contact = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=254))
    start_date = fields.Date(load_default=None, allow_none=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    version = fields.Int(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.Int(dump_only=True, allow_none=True)


class InvolvementUpdateSchema(Strict):
    organisation = fields.Str(validate=validate.Length(min=1, max=200))
    professional_name = fields.Str(allow_none=True)
    contact = fields.Str(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    version = fields.Int(load_default=None)


# Audited field names of each view (names only, never values). Other people shown in a list appear with the
# PersonBriefSchema fields, named "related.<field>".
RELATED_FIELDS = tuple(f"related.{name}" for name in ("display_name", "forename", "surname", "date_of_birth",
                                                     "date_of_death", "nhs_number", "alerts"))
RELATIONSHIP_LIST_FIELDS = ("rel_type", "parental_responsibility", "same_household", "start_date", "end_date",
                            *RELATED_FIELDS)
HOUSEHOLD_FIELDS = ("address", "household_reason", "rel_type", *RELATED_FIELDS)
INVOLVEMENT_FIELDS = ("role", "organisation", "professional_name", "contact", "start_date", "end_date")


def _rel_row(row):  # type: ignore[no-untyped-def]
    return {"relationship": RelationshipSchema().dump(row["relationship"]), "other_is": row["other_is"],
            "person": PersonBriefSchema().dump(row["person"])}


@blueprint.get("/people/<int:person_id>/relationships")
@requires(Permission.RECORDS_VIEW)
@documented("A person's relationships, phrased from their side (other_is: the other person's role)")
def list_relationships(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    items = [_rel_row(r) for r in rels.relationships_of(session, actor, person)]
    audit.record(session, actor, AuditAction.VIEW, record_type="person_relationships", record_id=person.id,
                 person_id=person.id, fields=RELATIONSHIP_LIST_FIELDS)
    session.commit()  # the audit row of the view
    return {"items": items}


@blueprint.post("/people/<int:person_id>/relationships")
@requires(Permission.RECORDS_EDIT)
@documented("Record a relationship: this person is <rel_type> of the related person", body=RelationshipInSchema,
            response=RelationshipSchema, status=201)
def add_relationship(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = RelationshipInSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    rel = rels.add_relationship(session, actor, person, data)
    session.commit()
    return RelationshipSchema().dump(rel), 201


@blueprint.patch("/relationships/<int:rel_id>")
@requires(Permission.RECORDS_EDIT)
@documented("Change or end a relationship (versioned)", body=RelationshipUpdateSchema, response=RelationshipSchema)
def update_relationship(rel_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = RelationshipUpdateSchema().load(json_body())
    version = expected_version(data)
    data.pop("version", None)
    rel = rels.update_relationship(session, actor, rel_id, data, version)
    session.commit()
    return RelationshipSchema().dump(rel)


@blueprint.get("/people/<int:person_id>/household")
@requires(Permission.RECORDS_VIEW)
@documented("The household: people at the same address or in a same-household relationship")
def get_household(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    body = {"person": PersonBriefSchema().dump(person),
            "members": [{"person": PersonBriefSchema().dump(m["person"]), "reason": m["reason"],
                         "other_is": m.get("other_is")} for m in rels.household(session, actor, person)]}
    audit.record(session, actor, AuditAction.VIEW, record_type="household", record_id=person.id,
                 person_id=person.id, fields=HOUSEHOLD_FIELDS)
    session.commit()  # the audit row of the view
    return body


@blueprint.get("/people/<int:person_id>/involvements")
@requires(Permission.RECORDS_VIEW)
@documented("Professionals involved (GP, school, health visitor...)", response=InvolvementSchema(many=True))
def list_involvements(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    items = InvolvementSchema(many=True).dump(rels.involvements_of(session, person))
    audit.record(session, actor, AuditAction.VIEW, record_type="involvements", record_id=person.id,
                 person_id=person.id, fields=INVOLVEMENT_FIELDS)
    session.commit()  # the audit row of the view
    return {"items": items}


@blueprint.post("/people/<int:person_id>/involvements")
@requires(Permission.RECORDS_EDIT)
@documented("Add a professional involvement", body=InvolvementSchema, response=InvolvementSchema, status=201)
def add_involvement(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = InvolvementSchema().load(json_body())
    person = get_visible_person(session, actor, person_id)
    inv = rels.add_involvement(session, actor, person, data)
    session.commit()
    return InvolvementSchema().dump(inv), 201


@blueprint.patch("/people/<int:person_id>/involvements/<int:inv_id>")
@requires(Permission.RECORDS_EDIT)
@documented("Change or end an involvement (versioned)", body=InvolvementUpdateSchema, response=InvolvementSchema)
def update_involvement(person_id: int, inv_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    data = InvolvementUpdateSchema().load(json_body())
    version = expected_version(data)
    data.pop("version", None)
    person = get_visible_person(session, actor, person_id)
    inv = rels.update_involvement(session, actor, person, inv_id, data, version)
    session.commit()
    return InvolvementSchema().dump(inv)
