"""Subject access request: everything held about a person, as a zip with an index for the IG officer.

Contents: ``index.json`` (machine-readable) and ``index.html`` (to read and redact from), the person's record,
cases, notes (own and those naming them), relationships, chronology, documents (every version, under
``documents/``) and the access log from the audit trail. Other people named in notes or relationships are
third-party data: each such item is flagged ``redaction_review`` and listed under ``third_parties`` so the IG
officer reviews it before disclosure. Nothing is redacted automatically.

Who: Permission.AUDIT_VIEW (information governance). The request is statutory, so sealing and team rules do not
narrow it; the export itself is audited (action ``export``, record type ``subject_access_request``).
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casework import audit
from casework.audit import AuditAction, AuditEvent
from casework.audit.query import event_to_dict
from casework.auth.access import Actor
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.errors import NotFound
from casework.records.models_case import Case
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_document import Document
from casework.records.models_note import CaseNote, NotePerson
from casework.records.models_person import Person
from casework.records.models_relationship import PersonRelationship

SAR_FIELDS = ("record", "cases", "notes", "relationships", "chronology", "documents", "access_log")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _person(person: Person) -> dict[str, Any]:
    return {
        "id": person.id, "local_id": person.local_id, "forename": person.forename,
        "middle_names": person.middle_names, "surname": person.surname, "preferred_name": person.preferred_name,
        "date_of_birth": _iso(person.date_of_birth), "date_of_death": _iso(person.date_of_death),
        "sex": person.sex, "gender": person.gender, "ethnicity": person.ethnicity,
        "first_language": person.first_language, "nhs_number": person.nhs_number, "upn": person.upn,
        "names": [{"type": n.name_type, "forename": n.forename, "surname": n.surname} for n in person.names],
        "addresses": [{"type": a.address_type, "line1": a.line1, "line2": a.line2, "town": a.town,
                       "postcode": a.postcode, "start_date": _iso(a.start_date), "end_date": _iso(a.end_date)}
                      for a in person.addresses],
        "contacts": [{"kind": c.kind, "value": c.value, "ended_at": _iso(c.ended_at)} for c in person.contacts],
        "alerts": [{"type": a.alert_type, "description": a.description, "ended_at": _iso(a.ended_at)}
                   for a in person.alerts],
        "restricted": person.restricted,
    }


def build_sar(session: Session, actor: Actor, person_id: int, *, documents_dir: str) -> tuple[Person, bytes]:
    actor.require(Permission.AUDIT_VIEW)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person")
    names: dict[int, str] = {}

    def third(pid: int) -> str:
        if pid not in names:
            other = session.get(Person, pid)
            names[pid] = other.display_name if other is not None else f"person {pid}"
        return names[pid]

    third_parties: dict[int, dict[str, Any]] = {}

    def flag(pid: int, where: str) -> None:
        entry = third_parties.setdefault(pid, {"person_id": pid, "name": third(pid), "appears_in": []})
        entry["appears_in"].append(where)

    cases = [{"id": c.id, "reference": c.reference, "service_area": c.service_area, "status": c.status,
              "opened_on": _iso(c.opened_on), "closed_on": _iso(c.closed_on), "open_reason": c.open_reason,
              "close_reason": c.close_reason, "summary": c.summary}
             for c in session.scalars(select(Case).where(Case.person_id == person.id).order_by(Case.id))]
    linked = select(NotePerson.note_id).where(NotePerson.person_id == person.id)
    notes = []
    for note in session.scalars(select(CaseNote).where(
            or_(CaseNote.person_id == person.id, CaseNote.id.in_(linked)), CaseNote.status == "complete")
            .order_by(CaseNote.occurred_at, CaseNote.id)):
        others = sorted(({note.person_id} | {link.person_id for link in note.linked}) - {person.id})
        for pid in others:
            flag(pid, f"note {note.id}")
        notes.append({"id": note.id, "about_person_id": note.person_id, "case_id": note.case_id,
                      "note_type": note.note_type, "occurred_at": _iso(note.occurred_at), "subject": note.subject,
                      "body": note.body, "corrections": [{"body": c.body, "reason": c.reason,
                                                          "created_at": _iso(c.created_at)}
                                                         for c in note.corrections],
                      "third_party_person_ids": others, "redaction_review": bool(others)})
    relationships = []
    for rel in session.scalars(select(PersonRelationship).where(or_(
            PersonRelationship.person_id == person.id, PersonRelationship.related_person_id == person.id))
            .order_by(PersonRelationship.id)):
        other = rel.related_person_id if rel.person_id == person.id else rel.person_id
        flag(other, f"relationship {rel.id}")
        relationships.append({"id": rel.id, "person_id": rel.person_id, "related_person_id": rel.related_person_id,
                              "rel_type": rel.rel_type, "other_person": third(other),
                              "start_date": _iso(rel.start_date), "end_date": _iso(rel.end_date),
                              "redaction_review": True})
    chronology = [{"id": e.id, "occurred_at": _iso(e.occurred_at), "kind": e.kind, "source": e.source,
                   "title": e.title, "detail": e.detail, "case_id": e.case_id}
                  for e in session.scalars(select(ChronologyEntry).where(ChronologyEntry.person_id == person.id)
                                           .order_by(ChronologyEntry.occurred_at, ChronologyEntry.id))]
    buffer = io.BytesIO()
    documents = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in session.scalars(select(Document).where(Document.person_id == person.id).order_by(Document.id)):
            versions = []
            for version in doc.versions:
                member = f"documents/{doc.id}-v{version.version_no}-{Path(version.filename).name}"
                path = Path(documents_dir) / version.storage_key
                present = path.is_file()
                if present:
                    archive.writestr(member, path.read_bytes())
                versions.append({"version_no": version.version_no, "filename": version.filename,
                                 "content_type": version.content_type, "sha256": version.sha256,
                                 "file": member if present else None})
            documents.append({"id": doc.id, "title": doc.title, "case_id": doc.case_id, "note_id": doc.note_id,
                              "versions": versions, "redaction_review": True})
        access_log = [event_to_dict(e) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.person_id == str(person.id)).order_by(AuditEvent.seq))]
        index = {
            "subject_access_request": {"person_id": person.id, "generated_at": utcnow().isoformat(),
                                       "generated_by": actor.username,
                                       "note": "Items marked redaction_review name or may name other people: "
                                               "review them before disclosure."},
            "record": _person(person), "cases": cases, "notes": notes, "relationships": relationships,
            "chronology": chronology, "documents": documents, "access_log": access_log,
            "third_parties": sorted(third_parties.values(), key=lambda t: t["person_id"]),
        }
        archive.writestr("index.json", json.dumps(index, indent=2, default=str))
        archive.writestr("index.html", _html(index))
    audit.record(session, actor, AuditAction.EXPORT, record_type="subject_access_request", record_id=person.id,
                 person_id=person.id, fields=SAR_FIELDS)
    return person, buffer.getvalue()


def _html(index: dict[str, Any]) -> str:
    e = html.escape
    record = index["record"]
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>Subject access request: {e(record['forename'])} {e(record['surname'])}</title></head><body>",
             f"<h1>Subject access request: {e(record['forename'])} {e(record['surname'])} "
             f"({e(record['local_id'] or '')})</h1>",
             f"<p>Generated {e(index['subject_access_request']['generated_at'])} by "
             f"{e(index['subject_access_request']['generated_by'] or '')}. Items marked "
             "<strong>REVIEW FOR REDACTION</strong> name other people.</p>"]

    def section(title: str, rows: list[dict[str, Any]]) -> None:
        parts.append(f"<h2>{e(title)} ({len(rows)})</h2>")
        for row in rows:
            mark = " <strong>REVIEW FOR REDACTION</strong>" if row.get("redaction_review") else ""
            parts.append(f"<pre>{e(json.dumps(row, indent=1, default=str))}</pre>{mark}")

    section("Record", [record])
    section("Cases", index["cases"])
    section("Notes", index["notes"])
    section("Relationships", index["relationships"])
    section("Chronology", index["chronology"])
    section("Documents", index["documents"])
    section("Access log", index["access_log"])
    section("Third parties named", index["third_parties"])
    parts.append("</body></html>")
    return "\n".join(parts)
