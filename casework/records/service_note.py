"""Case notes: drafts are editable; completing is final; corrections are appended, never overwritten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select, union_all
from sqlalchemy.orm import Session, selectinload

from casework import audit
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from casework.records import codes
from casework.records.access import (
    can_edit_person,
    case_link_clause,
    get_visible_person,
    require_case_link,
    visible_case_ids,
    visible_people_clause,
    visible_person_ids,
)
from casework.records.common import check_version, stamp_new, touch
from casework.records.models_case import Case
from casework.records.models_note import CaseNote, NoteCorrection, NotePerson
from casework.records.models_person import Person

EDITABLE = ("note_type", "subject", "body", "occurred_at", "significant", "case_id")


def _check(session: Session, actor: Actor, person: Person, data: dict[str, Any]) -> None:
    if "note_type" in data:
        codes.check_code(codes.NOTE_TYPES, data["note_type"], "note_type")
    if data.get("occurred_at") and data["occurred_at"] > utcnow():
        raise Invalid("A note cannot record something in the future",
                      details={"occurred_at": "Cannot be in the future"})
    if data.get("case_id") is not None:
        case = session.get(Case, data["case_id"])
        if case is None or case.person_id != person.id or not visible_case_ids(session, actor, [case.id]):
            raise Invalid("Unknown case", details={"case_id": "Not a case of this person"})
    linked = data.get("linked_person_ids") or []
    if person.id in linked:
        raise Invalid("The note is already about this person", details={"linked_person_ids": "Remove the person"})
    if set(linked) - visible_person_ids(session, actor, list(linked)):
        raise Invalid("Unknown person", details={"linked_person_ids": "No such person"})


def create_note(session: Session, actor: Actor, person: Person, data: dict[str, Any], *,
                complete: bool = False) -> CaseNote:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    _check(session, actor, person, data)
    note = CaseNote(person_id=person.id, **{k: v for k, v in data.items() if k in EDITABLE})
    note.occurred_at = data.get("occurred_at") or utcnow()
    stamp_new(note, actor)
    for pid in sorted(set(data.get("linked_person_ids") or [])):
        note.linked.append(NotePerson(person_id=pid))
    session.add(note)
    session.flush()
    if complete:
        complete_note(session, actor, note, expected_version=note.version, audited=False)
    fields = sorted(k for k in data if k in EDITABLE or k == "linked_person_ids")
    audit.record(session, actor, AuditAction.CREATE, record_type="note", record_id=note.id, person_id=note.person_id,
                 fields=fields + ["status"])
    return note


def get_visible_note(session: Session, actor: Actor, note_id: int) -> CaseNote:
    note = session.get(CaseNote, note_id)
    if note is None:
        raise NotFound("No such note")
    get_visible_person(session, actor, note.person_id)
    try:
        require_case_link(session, actor, note.case_id)  # a case note: the case's team (or a grant) only
    except NotFound:
        raise NotFound("No such note") from None
    return note


def view_note(session: Session, actor: Actor, note_id: int) -> CaseNote:
    """Read one note (audited once); others' drafts do not exist."""
    note = get_visible_note(session, actor, note_id)
    if note.status == "draft" and note.created_by != actor.user_id:
        raise NotFound("No such note")
    audit.record(session, actor, AuditAction.VIEW, record_type="note", record_id=note.id, person_id=note.person_id,
                 fields=("subject", "body", "corrections", "linked_person_ids"))
    return note


def update_draft(session: Session, actor: Actor, note: CaseNote, changes: dict[str, Any],
                 expected_version: int | None) -> CaseNote:
    person = get_visible_person(session, actor, note.person_id)
    require_case_link(session, actor, note.case_id)
    if note.status != "draft":
        raise Conflict("A completed note cannot be edited; add a correction instead",
                       details={"status": "Completed notes can only be corrected"}, code="note_completed")
    if note.created_by != actor.user_id:
        raise Forbidden("Only the author can edit a draft note")
    check_version(note, expected_version)
    _check(session, actor, person, changes)
    for key in EDITABLE:
        if key in changes:
            setattr(note, key, changes[key])
    if "linked_person_ids" in changes:
        note.linked.clear()
        session.flush()
        for pid in sorted(set(changes["linked_person_ids"])):
            note.linked.append(NotePerson(person_id=pid))
    touch(note, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="note", record_id=note.id, person_id=note.person_id,
                 fields=sorted(k for k in changes if k in EDITABLE or k == "linked_person_ids"))
    session.flush()
    return note


def complete_note(session: Session, actor: Actor, note: CaseNote, *, expected_version: int | None,
                  audited: bool = True) -> CaseNote:
    get_visible_person(session, actor, note.person_id)
    require_case_link(session, actor, note.case_id)
    if note.status != "draft":
        raise Conflict("The note is already complete", details={"status": "Already complete"}, code="note_completed")
    if note.created_by != actor.user_id:
        raise Forbidden("Only the author can complete a draft note")
    check_version(note, expected_version)
    if not note.body.strip():
        raise Invalid("The note is empty", details={"body": "Write the note before completing it"})
    note.status, note.completed_at, note.completed_by = "complete", utcnow(), actor.user_id
    touch(note, actor)
    if note.significant:
        from casework.records.service_chronology import add_entry

        for pid in [note.person_id] + [link.person_id for link in note.linked]:
            add_entry(session, person_id=pid, source="note", kind="significant_event", title=note.subject,
                      detail=note.body[:2000], occurred_at=note.occurred_at, source_ref=f"note:{note.id}",
                      case_id=note.case_id, actor=actor)
    if audited:
        audit.record(session, actor, AuditAction.UPDATE, record_type="note", record_id=note.id,
                     person_id=note.person_id, fields=("status", "completed_at"))
    session.flush()
    return note


def add_correction(session: Session, actor: Actor, note: CaseNote, *, body: str, reason: str) -> NoteCorrection:
    person = get_visible_person(session, actor, note.person_id)
    require_case_link(session, actor, note.case_id)
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    if note.status != "complete":
        raise Conflict("Only a completed note is corrected; edit the draft instead",
                       details={"status": "Still a draft"})
    if not body.strip() or not reason.strip():
        raise Invalid("Say what is corrected and why", details={
            **({"body": "Enter the correction"} if not body.strip() else {}),
            **({"reason": "Enter the reason"} if not reason.strip() else {})})
    correction = NoteCorrection(body=body, reason=reason)
    stamp_new(correction, actor)
    note.corrections.append(correction)
    touch(note, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="note", record_id=note.id, person_id=note.person_id,
                 fields=("corrections.body", "corrections.reason"))
    session.flush()
    return correction


def notes_for_person(session: Session, actor: Actor, person_id: int, *, note_type: str | None = None,
                     significant: bool | None = None, case_id: int | None = None, limit: int = 25,
                     offset: int = 0, audited: bool = False, with_details: bool = True
                     ) -> tuple[list[CaseNote], bool]:
    """Notes about the person (own or linked), newest first; others' drafts are not shown, nor notes on cases
    the actor may not see. audited=True writes one view event (for a request that is just this list).
    with_details=False leaves corrections and linked people to load lazily (a list that shows neither)."""
    get_visible_person(session, actor, person_id)
    limit, offset = max(1, min(limit, 100)), max(0, offset)

    def newest(*where: Any, linked: bool = False) -> Any:
        """Ids of the first offset + limit + 1 matching notes of one kind (own or linked), newest first."""
        conditions = [(CaseNote.status == "complete") | (CaseNote.created_by == actor.user_id),
                      case_link_clause(actor, CaseNote.case_id), *where]
        if note_type:
            conditions.append(CaseNote.note_type == note_type)
        if significant is not None:
            conditions.append(CaseNote.significant.is_(significant))
        if case_id:
            conditions.append(CaseNote.case_id == case_id)
        ids = select(CaseNote.id)
        if linked:
            ids = ids.join(NotePerson, NotePerson.note_id == CaseNote.id)
            # a note about a hidden (restricted) main person stays hidden even when this person is linked:
            # the same rule as visible_person_ids, asked in the query (one primary-key probe per note read,
            # like case_link_clause) so that a page is full whenever more visible notes exist
            conditions.append(exists(select(Person.id).where(Person.id == CaseNote.person_id,
                                                             visible_people_clause(actor))
                                     .correlate_except(Person)))
        return (ids.where(*conditions).order_by(CaseNote.occurred_at.desc(), CaseNote.id.desc())
                .limit(offset + limit + 1).subquery())

    # own notes and linked notes, each read newest first from its index up to the page wanted; a single
    # "person_id = x OR id IN (linked)" read the whole table, and a plain union read every note of the person
    # (no aliased() entities: adapting their columns cost more CPU than the query itself)
    first_own = newest(CaseNote.person_id == person_id)
    first_linked = newest(NotePerson.person_id == person_id, linked=True)
    about = union_all(select(first_own.c.id), select(first_linked.c.id))
    stmt = (select(CaseNote).where(CaseNote.id.in_(about))
            .order_by(CaseNote.occurred_at.desc(), CaseNote.id.desc()).limit(limit + 1).offset(offset))
    if with_details:
        stmt = stmt.options(selectinload(CaseNote.corrections), selectinload(CaseNote.linked))
    rows = list(session.scalars(stmt))  # own notes are about this person, checked above; linked ones filtered
    if audited:
        audit.record(session, actor, AuditAction.VIEW, record_type="person_notes", record_id=person_id,
                     person_id=person_id, fields=("notes",))
    return rows[:limit], len(rows) > limit
