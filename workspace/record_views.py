"""Person search, the case view (summary, alerts, identifiers, relationships, cases and their current steps,
chronology, notes) and a read-only BPMN diagram of a case's process with done and current steps marked."""

from __future__ import annotations

import json
from datetime import date

from flask import jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from casework import audit
from casework.audit import AuditAction
from casework.auth.access import requires
from casework.auth.models import BreakGlassGrant
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.errors import Invalid, NotFound
from casework.records import codes
from casework.records.access import can_edit_person, get_visible_person, visible_cases_clause
from casework.records.models_case import Case, CaseProcess
from casework.records.models_document import DocumentVersion
from casework.records.models_note import NoteCorrection
from casework.records.service_case import case_by_reference, get_visible_case
from casework.records.service_chronology import chronology
from casework.records.service_document import documents_for_person
from casework.records.service_note import notes_for_person
from casework.records.service_person import search_people
from casework.records.service_relationship import household, relationships_of
from casework.records.service_summary import SUMMARY_FIELDS, person_summary
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav
from engine.schema import history_event, process_definition, process_instance
from workspace import queries, services
from workspace.case_record_views import user_names
from workspace.views import blueprint

register_nav(NavEntry("Find a person", "workspace.people", Permission.RECORDS_VIEW, order=30))
DONE_EVENTS = ("task_completed", "step_completed")
# What the person page shows, by field name (audited as one view of the person)
PAGE_FIELDS = (*SUMMARY_FIELDS, "upn", "relationships", "household", "notes", "note_corrections", "documents",
               "process_steps")
CHRONOLOGY_PER_PAGE = 50
NOTES_PER_PAGE = 10


def _page_number(name: str) -> int:
    try:
        return max(1, min(int(request.args.get(name, 1)), 10_000))
    except (TypeError, ValueError):
        return 1


@blueprint.get("/people")
@requires(Permission.RECORDS_VIEW)
def people():  # type: ignore[no-untyped-def]
    actor = current_actor()
    q = (request.args.get("q") or "").strip()[:200]
    parts = {p: (request.args.get(f"dob-{p}") or "").strip() for p in ("day", "month", "year")}
    errors: dict[str, str] = {}
    dob = None
    if any(parts.values()):
        try:
            dob = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            errors["dob"] = "Date of birth must be a real date, like 27 3 2015"
    searched = bool(q or any(parts.values()))
    results, more = [], False
    if searched and not errors:
        digits = "".join(ch for ch in q if ch.isdigit())
        by_nhs = len(digits) == 10 and q.replace(" ", "").isdigit()
        try:
            results, more = search_people(db_session(), actor, q=None if by_nhs else (q or None),
                                          nhs_number=digits if by_nhs else None, date_of_birth=dob, limit=25)
        except Invalid as exc:
            errors["q"] = next(iter(exc.details.values()), exc.message)
    status = 422 if errors else 200
    return render_template("workspace/people.html", title="Find a person", q=q, dob=parts, results=results,
                           more=more, searched=searched, errors=errors), status


@blueprint.get("/people/<int:person_id>")
@requires(Permission.RECORDS_VIEW)
def person(person_id: int):  # type: ignore[no-untyped-def]
    actor = current_actor()
    session = db_session()
    # the record first, and held: the summary's query then fills its alerts and addresses (no second load)
    record = get_visible_person(session, actor, person_id)
    summary = person_summary(session, actor, person_id, chronology_limit=0, audited=False)  # audited below
    kind = request.args.get("kind") or ""
    kinds = [kind] if kind in codes.CHRONOLOGY_KINDS else None
    # chronology and notes are paged: a long-open case has thousands of entries
    chronology_page, notes_page = _page_number("chronology_page"), _page_number("notes_page")
    entries = chronology(session, actor, person_id, kinds=kinds, limit=CHRONOLOGY_PER_PAGE + 1,
                         offset=(chronology_page - 1) * CHRONOLOGY_PER_PAGE, with_detail=False)
    entries, more_entries = entries[:CHRONOLOGY_PER_PAGE], len(entries) > CHRONOLOGY_PER_PAGE
    notes, more_notes = notes_for_person(session, actor, person_id, limit=NOTES_PER_PAGE,
                                         offset=(notes_page - 1) * NOTES_PER_PAGE, with_details=False)
    links = list(session.execute(select(CaseProcess.case_id, CaseProcess.instance_id, CaseProcess.process_key)
                                 .join(Case, Case.id == CaseProcess.case_id)
                                 .where(Case.person_id == person_id, visible_cases_clause(actor))
                                 .order_by(CaseProcess.id)))
    steps: dict[int, list[dict]] = {}
    conn = services.conn()
    current_steps = queries.current_steps(conn, [instance_id for _case, instance_id, _key in links])
    for case_id, instance_id, process_key in links:
        current = current_steps[instance_id]
        steps.setdefault(case_id, []).append({"instance_id": instance_id, "process_key": process_key,
                                              "work_items": current["work_items"], "timers": current["timers"]})
    relationships = relationships_of(session, actor, record)
    members = household(session, actor, record, relationships=relationships)
    # corrections of the notes on this page and the current version of each document: one query each
    corrections: dict[int, list[NoteCorrection]] = {}
    if notes:
        for c in session.scalars(select(NoteCorrection).where(NoteCorrection.note_id.in_([n.id for n in notes]))
                                 .order_by(NoteCorrection.id)):
            corrections.setdefault(c.note_id, []).append(c)
    documents = documents_for_person(session, actor, record)
    current_versions: dict[int, DocumentVersion] = {}
    if documents:
        current = {d.id: d.current_version for d in documents}
        for v in session.scalars(select(DocumentVersion).where(DocumentVersion.document_id.in_(list(current)))):
            if v.version_no == current[v.document_id]:
                current_versions[v.document_id] = v
    names = user_names({n.created_by for n in notes} | {n.completed_by for n in notes}
                       | {c.created_by for cs in corrections.values() for c in cs}
                       | {v.created_by for v in current_versions.values()})
    # one view event for the whole page, written last (the chain head stays locked only until the commit)
    audit.record(session, actor, AuditAction.VIEW, record_type="person_summary", record_id=person_id,
                 person_id=person_id, fields=PAGE_FIELDS)
    session.commit()  # the audit row of the page view
    return render_template(
        "workspace/person.html", title=summary["person"]["display_name"], s=summary, record=record,
        relationships=relationships, household=members,
        entries=entries, kind=kind, kinds=codes.CHRONOLOGY_KINDS, notes=notes, more_notes=more_notes,
        chronology_page=chronology_page, more_entries=more_entries, notes_page=notes_page,
        steps=steps, relationship_labels=codes.RELATIONSHIP_TYPES, corrections=corrections, documents=documents,
        current_versions=current_versions, names=names, note_types=codes.NOTE_TYPES,
        can_write=can_edit_person(actor, record), emergency=emergency_grant(session, actor.user_id, person_id),
        processes=startable_processes() if actor.can(Permission.RECORDS_EDIT) and actor.can(Permission.WORK) else [])


def emergency_grant(session, user_id: int, person_id: int) -> BreakGlassGrant | None:  # type: ignore[no-untyped-def]
    """The user's live break-glass grant on this person or on one of their cases (both carry person_id), the one
    lasting longest: the page says until when and why (read only)."""
    return session.scalar(select(BreakGlassGrant).where(
        BreakGlassGrant.user_id == user_id, BreakGlassGrant.person_id == str(person_id),
        BreakGlassGrant.record_type.in_(("person", "case")), BreakGlassGrant.expires_at > utcnow(),
        BreakGlassGrant.revoked_at.is_(None)).order_by(BreakGlassGrant.expires_at.desc()).limit(1))


@blueprint.get("/cases/<reference>")
@requires(Permission.RECORDS_VIEW)
def case(reference: str):  # type: ignore[no-untyped-def]
    found = case_by_reference(db_session(), current_actor(), reference)
    return redirect(url_for("workspace.person", person_id=found.person_id, _anchor=f"case-{found.id}"))


def _visible_instance(instance_id: int, *, xml: bool = False) -> tuple[Case, dict]:
    """The instance's case (404 unless visible) and its row; ``xml``: with the definition's BPMN files (only
    the diagram endpoint needs them: the page itself stays small)."""
    session = db_session()
    link = session.scalars(select(CaseProcess).where(CaseProcess.instance_id == instance_id)).first()
    if link is None:
        raise NotFound("No case process at this address")
    found = get_visible_case(session, current_actor(), link.case_id)
    row = services.conn().execute(
        select(process_instance.c.id, process_instance.c.process_key, process_instance.c.status,
               process_definition.c.name, process_definition.c.version,
               *([process_definition.c.bpmn_xml] if xml else []))
        .join(process_definition, process_definition.c.id == process_instance.c.definition_id)
        .where(process_instance.c.id == instance_id)).mappings().first()
    if row is None:
        raise NotFound("No process at this address")
    return found, dict(row)


def _progress(instance_id: int) -> tuple[list[dict], list[dict]]:
    conn = services.conn()
    done = [dict(r) for r in conn.execute(
        select(history_event.c.task_spec, history_event.c.task_title, history_event.c.actor, history_event.c.at)
        .where(history_event.c.instance_id == instance_id, history_event.c.event_type.in_(DONE_EVENTS))
        .order_by(history_event.c.id)).mappings()]
    current = services.engine().current_steps(conn, instance_id)
    now = [{"task_spec": w["task_spec"], "title": w["title"], "assignee": w["assignee"]}
           for w in current["work_items"]]
    now += [{"task_spec": t["task_spec"], "title": f"Waiting until {t['due_at']:%-d %B %Y}", "assignee": None}
            for t in current["timers"]]
    return done, now


@blueprint.get("/processes/<int:instance_id>")
@requires(Permission.RECORDS_VIEW)
def process(instance_id: int):  # type: ignore[no-untyped-def]
    found, row = _visible_instance(instance_id)
    done, now = _progress(instance_id)
    return render_template("workspace/process.html", title=row["name"] or row["process_key"], case=found,
                           row=row, done=done, now=now)


@blueprint.get("/processes/<int:instance_id>/diagram.json")
@requires(Permission.RECORDS_VIEW)
def process_diagram(instance_id: int):  # type: ignore[no-untyped-def]
    _found, row = _visible_instance(instance_id, xml=True)
    done, now = _progress(instance_id)
    files = json.loads(row["bpmn_xml"])
    xml = next(iter(files.values())) if isinstance(files, dict) and files else ""
    current = sorted({s["task_spec"] for s in now if s["task_spec"]})
    return jsonify(xml=xml, done=sorted({s["task_spec"] for s in done if s["task_spec"]} - set(current)),
                   current=current)


def startable_processes() -> list[tuple[str, str]]:
    """(process key, name) of the latest published version of each process."""
    latest: dict[str, str] = {}
    for d in services.engine().definitions(services.conn()):
        latest[d["process_key"]] = d.get("name") or d["process_key"]
    return sorted(latest.items(), key=lambda kv: kv[1])


@blueprint.post("/cases/<reference>/start")
@requires(Permission.WORK, Permission.RECORDS_EDIT)
def start_process(reference: str):  # type: ignore[no-untyped-def]
    from flask import flash

    from casework.processes import running_instance
    from casework.records.service_case import attach_process

    actor = current_actor()
    session = db_session()
    found = case_by_reference(session, actor, reference)
    get_visible_person(session, actor, found.person_id)
    key = request.form.get("process_key") or ""
    names = dict(startable_processes())
    if key not in names:
        raise Invalid("Choose a process to start", details={"process_key": "Choose a process to start"})
    if found.status != "open":
        raise Invalid("This case is closed", details={"process_key": "Reopen the case before starting work"})
    running = running_instance(services.conn(), found.reference, key)
    if running is not None and request.form.get("start_another") != "yes":
        # a second one is sometimes right (two services to pay for), never by accident: ask first
        return render_template("workspace/start_another.html", title=f"{names[key]} is already running",
                               case=found, process_key=key, process_name=names[key], running=running), 409
    result = services.engine().start(services.conn(), key, business_key=found.reference,
                                     data={"person_id": found.person_id, "referral_date": date.today().isoformat()},
                                     actor=actor.username)
    attach_process(session, found, instance_id=result.instance_id, process_key=key, actor=actor)
    session.commit()
    for item in services.engine().work_items_for(services.conn(), result.instance_id):
        full = queries.get_item(services.conn(), item["id"])
        if full is not None and services.may_open(actor, full):
            return redirect(url_for("workspace.task", item_id=item["id"]))
    flash(f"{names[key]} started for {found.reference}.")
    return redirect(url_for("workspace.person", person_id=found.person_id, _anchor=f"case-{found.id}"))
