"""Relationships between people, professional involvements, and the household view."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from casework import audit
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from casework.records import codes
from casework.records.access import can_edit_person, get_visible_person, visible_people_clause
from casework.records.common import apply_changes, check_period, check_version, stamp_new, touch
from casework.records.models_person import Person, PersonAddress
from casework.records.models_relationship import Involvement, PersonRelationship


def add_relationship(session: Session, actor: Actor, person: Person, data: dict[str, Any]) -> PersonRelationship:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    codes.check_code(codes.RELATIONSHIP_TYPES, data["rel_type"], "rel_type")
    if data["related_person_id"] == person.id:
        raise Invalid("A person cannot be related to themselves", details={"related_person_id": "Choose someone else"})
    try:
        get_visible_person(session, actor, data["related_person_id"])
    except NotFound:
        raise Invalid("Unknown person", details={"related_person_id": "No such person"}) from None
    check_period(data.get("start_date"), data.get("end_date"))
    existing = session.scalar(select(PersonRelationship).where(
        PersonRelationship.end_date.is_(None),
        or_(and_(PersonRelationship.person_id == person.id,
                 PersonRelationship.related_person_id == data["related_person_id"],
                 PersonRelationship.rel_type == data["rel_type"]),
            and_(PersonRelationship.person_id == data["related_person_id"],
                 PersonRelationship.related_person_id == person.id,
                 PersonRelationship.rel_type == codes.RELATIONSHIP_INVERSE[data["rel_type"]]))))
    if existing is not None and data.get("end_date") is None:
        raise Conflict("That relationship is already recorded", details={"rel_type": "Already recorded"})
    rel = PersonRelationship(person_id=person.id, **data)
    stamp_new(rel, actor)
    session.add(rel)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, record_type="person_relationship", record_id=rel.id,
                 person_id=person.id, fields=sorted(data))
    return rel


def update_relationship(session: Session, actor: Actor, rel_id: int, changes: dict[str, Any],
                        expected_version: int | None) -> PersonRelationship:
    rel = session.get(PersonRelationship, rel_id)
    if rel is None:
        raise NotFound("No such relationship")
    person = get_visible_person(session, actor, rel.person_id)
    get_visible_person(session, actor, rel.related_person_id)
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    check_version(rel, expected_version)
    check_period(changes.get("start_date", rel.start_date), changes.get("end_date", rel.end_date))
    changed = apply_changes(session, actor, rel, changes, record_type="person_relationship",
                            person_id=rel.person_id)
    touch(rel, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="person_relationship", record_id=rel.id,
                 person_id=rel.person_id, fields=changed)
    session.flush()
    return rel


def relationships_of(session: Session, actor: Actor, person: Person, *, current_only: bool = False
                     ) -> list[dict[str, Any]]:
    """Both directions, phrased from this person's side, only towards people the actor may see."""
    stmt = select(PersonRelationship, Person).join(
        Person, or_(and_(PersonRelationship.person_id == person.id, Person.id == PersonRelationship.related_person_id),
                    and_(PersonRelationship.related_person_id == person.id, Person.id == PersonRelationship.person_id))
    ).where(visible_people_clause(actor)).order_by(PersonRelationship.id)
    if current_only:
        stmt = stmt.where(or_(PersonRelationship.end_date.is_(None), PersonRelationship.end_date >= date.today()))
    out = []
    for rel, other in session.execute(stmt):
        # rel says: rel.person is <rel_type> of rel.related. From `person`'s side, other is ...
        if rel.person_id == other.id:
            other_is = rel.rel_type
        else:
            other_is = codes.RELATIONSHIP_INVERSE[rel.rel_type]
        out.append({"relationship": rel, "person": other, "other_is": other_is})
    return out


def household(session: Session, actor: Actor, person: Person, *,
              relationships: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """People living with this person: same current address, or a current same-household relationship.
    ``relationships``: this person's relationships_of() rows when the caller has them already (the current
    ones are picked from them instead of asking again)."""
    members: dict[int, dict[str, Any]] = {}
    current = person.current_address
    if current is not None and current.postcode:
        stmt = select(Person).join(PersonAddress, PersonAddress.person_id == Person.id).where(
            PersonAddress.end_date.is_(None), PersonAddress.postcode == current.postcode,
            PersonAddress.line1 == current.line1, Person.id != person.id, visible_people_clause(actor))
        for other in session.scalars(stmt):
            members[other.id] = {"person": other, "reason": "Same address", "other_is": None}
    if relationships is None:
        current_rows = relationships_of(session, actor, person, current_only=True)
    else:
        today = date.today()
        current_rows = [row for row in relationships
                        if row["relationship"].end_date is None or row["relationship"].end_date >= today]
    for row in current_rows:
        if row["relationship"].same_household or row["other_is"] == "household_member" or row["person"].id in members:
            entry = members.setdefault(row["person"].id, {"person": row["person"], "reason": "Relationship"})
            entry["other_is"] = row["other_is"]
    return list(members.values())


def add_involvement(session: Session, actor: Actor, person: Person, data: dict[str, Any]) -> Involvement:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    codes.check_code(codes.INVOLVEMENT_ROLES, data["role"], "role")
    check_period(data.get("start_date"), data.get("end_date"))
    inv = Involvement(person_id=person.id, **data)
    stamp_new(inv, actor)
    session.add(inv)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, record_type="involvement", record_id=inv.id,
                 person_id=person.id, fields=sorted(data))
    return inv


def update_involvement(session: Session, actor: Actor, person: Person, inv_id: int, changes: dict[str, Any],
                       expected_version: int | None) -> Involvement:
    inv = session.get(Involvement, inv_id)
    if inv is None or inv.person_id != person.id:
        raise NotFound("No such involvement")
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    check_version(inv, expected_version)
    check_period(changes.get("start_date", inv.start_date), changes.get("end_date", inv.end_date))
    changed = apply_changes(session, actor, inv, changes, record_type="involvement", person_id=person.id)
    touch(inv, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="involvement", record_id=inv.id,
                 person_id=person.id, fields=changed)
    session.flush()
    return inv


def involvements_of(session: Session, person: Person) -> list[Involvement]:
    return list(session.scalars(select(Involvement).where(Involvement.person_id == person.id)
                                .order_by(Involvement.end_date.is_not(None), Involvement.id)))
