"""Addresses (with history), contact details and alerts on a person."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from casework import audit
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.db import utcnow
from casework.errors import Forbidden, Invalid, NotFound
from casework.records import codes
from casework.records.access import can_edit_person
from casework.records.common import check_period, stamp_new, touch
from casework.records.models_person import Person, PersonAddress, PersonAlert, PersonContact


def _require_edit(actor: Actor, person: Person) -> None:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")


def add_address(session: Session, actor: Actor, person: Person, data: dict[str, Any]) -> PersonAddress:
    """A new address; a new home address ends the current one the day before it starts (history kept)."""
    _require_edit(actor, person)
    codes.check_code(codes.ADDRESS_TYPES, data.get("address_type", "home"), "address_type")
    start = data.get("start_date") or date.today()
    check_period(start, data.get("end_date"))
    if start > date.today():
        raise Invalid("The address start date is in the future", details={"start_date": "Cannot be in the future"})
    address = PersonAddress(**data)
    address.address_type = data.get("address_type") or "home"
    address.start_date = start
    if address.postcode:
        address.postcode = " ".join(address.postcode.upper().split())
    if address.address_type in ("home", "no_fixed_abode", "placement"):
        for old in person.addresses:
            if old.end_date is None and old.address_type in ("home", "no_fixed_abode", "placement"):
                if old.start_date and old.start_date > start:
                    raise Invalid("The new address starts before the current one",
                                  details={"start_date": f"Must be on or after {old.start_date.isoformat()}"})
                old.end_date = start
                old.ended_by = actor.user_id
    stamp_new(address, actor)
    person.addresses.append(address)
    touch(person, actor)
    session.flush()  # the new row needs its id before it is audited
    audit.record(session, actor, AuditAction.CREATE, record_type="person_address", record_id=address.id,
                 person_id=person.id,
                 fields=sorted(data))
    return address


def end_address(session: Session, actor: Actor, person: Person, address_id: int, end_date: date) -> PersonAddress:
    _require_edit(actor, person)
    address = next((a for a in person.addresses if a.id == address_id), None)
    if address is None:
        raise NotFound("No such address on this person")
    if address.end_date is not None:
        raise Invalid("That address has already ended", details={"end_date": "Already ended"})
    check_period(address.start_date, end_date)
    address.end_date, address.ended_by = end_date, actor.user_id
    touch(person, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="person_address", record_id=address.id,
                 person_id=person.id,
                 fields=("end_date",))
    session.flush()
    return address


def add_contact(session: Session, actor: Actor, person: Person, data: dict[str, Any]) -> PersonContact:
    _require_edit(actor, person)
    codes.check_code(codes.CONTACT_KINDS, data.get("kind"), "kind")
    if data["kind"] == "email" and "@" not in data["value"]:
        raise Invalid("Not an email address", details={"value": "Enter an email address like name@example.com"})
    if data["kind"] in ("phone", "mobile"):
        digits = "".join(ch for ch in data["value"] if ch.isdigit())
        if not 10 <= len(digits) <= 13:
            raise Invalid("Not a telephone number", details={"value": "Enter a telephone number, like 01632 960 001"})
    contact = PersonContact(**data)
    stamp_new(contact, actor)
    person.contacts.append(contact)
    touch(person, actor)
    session.flush()  # the new row needs its id before it is audited
    audit.record(session, actor, AuditAction.CREATE, record_type="person_contact", record_id=contact.id,
                 person_id=person.id,
                 fields=sorted(data))
    return contact


def end_contact(session: Session, actor: Actor, person: Person, contact_id: int) -> PersonContact:
    _require_edit(actor, person)
    contact = next((c for c in person.contacts if c.id == contact_id and c.ended_at is None), None)
    if contact is None:
        raise NotFound("No such current contact on this person")
    contact.ended_at = utcnow()
    touch(person, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="person_contact", record_id=contact.id,
                 person_id=person.id,
                 fields=("ended_at",))
    session.flush()
    return contact


def add_alert(session: Session, actor: Actor, person: Person, *, alert_type: str, description: str) -> PersonAlert:
    _require_edit(actor, person)
    codes.check_code(codes.ALERT_TYPES, alert_type, "alert_type")
    if not description.strip():
        raise Invalid("Describe the alert", details={"description": "Enter a description"})
    alert = PersonAlert(alert_type=alert_type, description=description.strip())
    stamp_new(alert, actor)
    person.alerts.append(alert)
    touch(person, actor)
    session.flush()  # the new row needs its id before it is audited
    audit.record(session, actor, AuditAction.CREATE, record_type="person_alert", record_id=alert.id,
                 person_id=person.id,
                 fields=("alert_type", "description"))
    return alert


def end_alert(session: Session, actor: Actor, person: Person, alert_id: int) -> PersonAlert:
    _require_edit(actor, person)
    alert = next((a for a in person.alerts if a.id == alert_id and a.ended_at is None), None)
    if alert is None:
        raise NotFound("No such active alert on this person")
    alert.ended_at, alert.ended_by = utcnow(), actor.user_id
    touch(person, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="person_alert", record_id=alert.id,
                 person_id=person.id,
                 fields=("ended_at",))
    session.flush()
    return alert
