"""Chronology per person: workflow history, significant notes, case events and entries added by hand."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from casework import audit
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.db import utcnow
from casework.errors import Forbidden, Invalid
from casework.records import codes
from casework.records.access import can_edit_person, case_link_clause, get_visible_person, require_case_link
from casework.records.common import stamp_new
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_person import Person

MAX_ENTRIES = 5000


def add_entry(session: Session, *, person_id: int, source: str, kind: str, title: str, occurred_at: datetime,
              source_ref: str | None = None, detail: str | None = None, case_id: int | None = None,
              actor: Actor | None = None) -> ChronologyEntry:
    """Add one entry; an entry with the same (person, source, source_ref) is returned, not duplicated."""
    if source_ref is not None:
        existing = session.scalar(select(ChronologyEntry).where(
            ChronologyEntry.person_id == person_id, ChronologyEntry.source == source,
            ChronologyEntry.source_ref == source_ref))
        if existing is not None:
            return existing
    entry = ChronologyEntry(person_id=person_id, source=source, kind=kind, title=title[:300], detail=detail,
                            occurred_at=occurred_at, source_ref=source_ref, case_id=case_id)
    stamp_new(entry, actor)
    session.add(entry)
    session.flush()
    return entry


def add_workflow_entry(session: Session, person_id: int, kind: str, title: str, occurred_at: datetime,
                       source_ref: str, *, detail: str | None = None, case_id: int | None = None) -> ChronologyEntry:
    """Called by the engine hook layer for a workflow history event (idempotent on source_ref).

    kind: one of codes.CHRONOLOGY_KINDS (e.g. 'referral_received', 'assessment_completed'); unknown kinds are
    kept as 'workflow'. source_ref: a stable reference to the event, e.g. 'history:1234'.
    """
    if session.get(Person, person_id) is None:
        raise Invalid("Unknown person", details={"person_id": f"No person {person_id}"})
    if occurred_at.tzinfo is None:
        raise Invalid("occurred_at must be timezone-aware", details={"occurred_at": "Give a UTC time"})
    kind = kind if kind in codes.CHRONOLOGY_KINDS else "workflow"
    try:
        with session.begin_nested():
            return add_entry(session, person_id=person_id, source="workflow", kind=kind, title=title,
                             occurred_at=occurred_at, source_ref=source_ref, detail=detail, case_id=case_id)
    except IntegrityError:  # a concurrent hook call added it first
        return session.scalars(select(ChronologyEntry).where(
            ChronologyEntry.person_id == person_id, ChronologyEntry.source == "workflow",
            ChronologyEntry.source_ref == source_ref)).one()


def add_manual_entry(session: Session, actor: Actor, person: Person, *, kind: str, title: str,
                     occurred_at: datetime, detail: str | None = None, case_id: int | None = None
                     ) -> ChronologyEntry:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    codes.check_code(codes.CHRONOLOGY_KINDS, kind, "kind")
    if occurred_at > utcnow():
        raise Invalid("A chronology entry cannot be in the future", details={"occurred_at": "Cannot be in the future"})
    if case_id is not None:
        from casework.records.models_case import Case

        case = session.get(Case, case_id)
        if case is None or case.person_id != person.id:
            raise Invalid("Unknown case", details={"case_id": "Not a case of this person"})
        require_case_link(session, actor, case_id)
    entry = add_entry(session, person_id=person.id, source="manual", kind=kind, title=title, detail=detail,
                      occurred_at=occurred_at, case_id=case_id, actor=actor)
    audit.record(session, actor, AuditAction.CREATE, record_type="chronology_entry", record_id=entry.id,
                 person_id=person.id, fields=("kind", "title", "detail", "occurred_at", "case_id"))
    return entry


def chronology(session: Session, actor: Actor, person_id: int, *, kinds: list[str] | None = None,
               sources: list[str] | None = None, date_from: date | None = None, date_to: date | None = None,
               limit: int = MAX_ENTRIES, offset: int = 0, audit_action: AuditAction | None = None,
               with_detail: bool = True) -> list[ChronologyEntry]:
    """Entries for a person the actor may see, newest first, filtered by kind/source/date range; entries of
    cases the actor may not see are left out. audit_action (VIEW or EXPORT) writes one audit event.
    with_detail=False leaves ``detail`` (e.g. a step's full answers) unread until asked for (a list of titles)."""
    get_visible_person(session, actor, person_id)
    for kind in kinds or []:
        codes.check_code(codes.CHRONOLOGY_KINDS, kind, "kind")
    if date_from and date_to and date_to < date_from:
        raise Invalid("The date range is back to front", details={"date_to": "Must be on or after date_from"})
    stmt = select(ChronologyEntry).where(ChronologyEntry.person_id == person_id,
                                         case_link_clause(actor, ChronologyEntry.case_id))
    if kinds:
        stmt = stmt.where(ChronologyEntry.kind.in_(kinds))
    if sources:
        stmt = stmt.where(ChronologyEntry.source.in_(sources))
    if date_from:
        stmt = stmt.where(ChronologyEntry.occurred_at >= datetime.combine(date_from, time.min, tzinfo=utcnow().tzinfo))
    if date_to:
        stmt = stmt.where(ChronologyEntry.occurred_at <= datetime.combine(date_to, time.max, tzinfo=utcnow().tzinfo))
    stmt = stmt.order_by(ChronologyEntry.occurred_at.desc(), ChronologyEntry.id.desc())
    if not with_detail:
        stmt = stmt.options(defer(ChronologyEntry.detail))
    rows = list(session.scalars(stmt.limit(max(1, min(limit, MAX_ENTRIES))).offset(max(0, offset))))
    if audit_action is not None:
        audit.record(session, actor, audit_action, record_type="chronology", record_id=person_id,
                     person_id=person_id, fields=EXPORT_COLUMNS)
    return rows


EXPORT_COLUMNS = ("occurred_at", "kind", "source", "title", "detail", "case_id", "recorded_at")


def _row(entry: ChronologyEntry) -> list[str]:
    return [entry.occurred_at.strftime("%Y-%m-%d %H:%M"), codes.CHRONOLOGY_KINDS.get(entry.kind, entry.kind),
            entry.source, entry.title, entry.detail or "", str(entry.case_id or ""),
            entry.created_at.strftime("%Y-%m-%d %H:%M")]


def _safe_cell(value: str) -> str:
    # CSV injection: a cell starting with = + - @ would be run as a formula by spreadsheet software
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(entries: list[ChronologyEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for entry in entries:
        writer.writerow([_safe_cell(cell) for cell in _row(entry)])
    return out.getvalue()


def export_pdf(person: Person, entries: list[ChronologyEntry]) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=f"Chronology – {person.display_name}")
    story: list[Any] = [
        Paragraph(escape(f"Chronology: {person.display_name} ({person.local_id})"), styles["Title"]),
        Paragraph(escape(f"OFFICIAL-SENSITIVE. Produced {utcnow():%d %B %Y %H:%M} UTC."), styles["Normal"]),
    ]
    data: list[list[Any]] = [["Date", "Type", "Event", "Detail"]]
    for entry in entries:
        row = _row(entry)
        data.append([row[0], Paragraph(escape(row[1]), styles["BodyText"]), Paragraph(escape(row[3]),
                     styles["BodyText"]), Paragraph(escape(row[4][:1500]), styles["BodyText"])])
    table = Table(data, colWidths=[90, 120, 220, 330], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]))
    story.append(table)
    doc.build(story)
    return buffer.getvalue()
