"""Writing to the case record from the workspace: case notes (draft -> complete -> corrections), documents
(upload with a type, new versions, a document page listing every version, download) and chronology (an entry by
hand, CSV / PDF export).

Thin pages over the records services (``casework.records.service_note``, ``service_document``,
``service_chronology``): the services decide who may do what and what is valid; these views parse the GOV.UK
form fields, show the services' refusals next to the field they name (422, nothing typed is lost) and commit once.
Works without JavaScript."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from casework.accounts.models import User
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from casework.records import codes
from casework.records import service_chronology as chrono
from casework.records import service_document as docs
from casework.records import service_note as notes
from casework.records.access import can_edit_person, get_visible_person, visible_cases_clause
from casework.records.models_case import Case
from casework.records.models_note import CaseNote
from casework.records.models_person import Person
from casework.records.service_relationship import household, relationships_of
from casework.web.context import current_actor, db_session
from casework.web.downloads import chronology_export, document_download
from casework.web.errors import error_response
from workspace.views import blueprint

LONDON = ZoneInfo("Europe/London")
MAX_SUBJECT = 300
MAX_BODY = 100_000
MAX_REASON = 500
MAX_DETAIL = 10_000
# service field name -> the id of its first control (where the error summary links to)
ANCHORS = {"occurred_at": "occurred_at-day", "linked_person_ids": "linked_person_ids", "person_id": "file",
           "version": "subject", "status": "body", "_form": "main-content"}
# chronology kinds a person may choose for an entry added by hand (workflow events come from the processes)
MANUAL_KINDS = {k: v for k, v in codes.CHRONOLOGY_KINDS.items() if k != "workflow"}


# -- template filters used by these pages and the case view ---------------------------------------------


@blueprint.app_template_filter("casework_when")
def _when_text(value: datetime | None) -> str:
    """An aware datetime as UK date and time, e.g. "3 March 2026, 14:30"."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y, %H:%M}"


@blueprint.app_template_filter("casework_case_option")
def _case_option(case: Case, current: str) -> dict:
    status = "" if case.status == "open" else f" ({case.status})"
    return {"value": str(case.id), "text": f"{case.reference}{status}", "selected": str(case.id) == current}


@blueprint.app_template_filter("casework_person_checkbox")
def _person_checkbox(person: dict, chosen: list[str]) -> dict:
    return {"value": str(person["id"]), "text": person["name"], "hint": {"text": person["hint"]},
            "checked": str(person["id"]) in chosen}


FILE_TYPES = {"application/pdf": "PDF", "image/png": "PNG image", "image/jpeg": "JPEG image",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheet",
              "text/plain": "Text", "text/csv": "CSV"}


@blueprint.app_template_filter("casework_file_type")
def _file_type(mime: str) -> str:
    return FILE_TYPES.get(mime, mime)


@blueprint.app_template_filter("casework_file_size")
def _file_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


# -- shared helpers --------------------------------------------------------------------------------------


def _error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    return [{"text": message, "href": f"#{ANCHORS.get(field, field)}"} for field, message in errors.items()]


def _service_errors(exc: Invalid) -> dict[str, str]:
    return {field: str(message) for field, message in (exc.details or {}).items()} or {"_form": exc.message}


def _editable_person(person_id: int) -> Person:
    """The person, 404 if hidden; 403 if the actor may see but not change the record."""
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    return person


def _case_choices(person_id: int) -> list[Case]:
    """The person's cases the actor may see (newest first)."""
    return list(db_session().scalars(select(Case).where(Case.person_id == person_id, visible_cases_clause(
        current_actor())).order_by(Case.id.desc())))


def _case_id(raw: str | None, choices: list[Case], errors: dict[str, str]) -> int | None:
    if not raw:
        return None
    if raw.isdigit() and int(raw) in {c.id for c in choices}:
        return int(raw)
    errors["case_id"] = "Select a case of this person"
    return None


def _local_now() -> datetime:
    return datetime.now(LONDON)


def _when_fields(value: datetime | None) -> dict[str, str]:
    """Form values for the date and time inputs from an aware datetime (shown in UK time)."""
    if value is None:
        return {"day": "", "month": "", "year": "", "time": ""}
    local = value.astimezone(LONDON)
    return {"day": str(local.day), "month": str(local.month), "year": str(local.year),
            "time": local.strftime("%H:%M")}


def _parse_when(form: Any, errors: dict[str, str], label: str) -> datetime | None:
    """The date (day, month, year) and optional time (HH:MM, UK time) -> an aware UTC datetime."""
    parts = {p: (form.get(f"occurred_at-{p}") or "").strip() for p in ("day", "month", "year")}
    raw_time = (form.get("occurred_time") or "").strip().replace(".", ":")
    if not any(parts.values()):
        errors["occurred_at"] = f"Enter the date {label}"
        return None
    missing = [p for p in ("day", "month", "year") if not parts[p]]
    if missing:
        errors["occurred_at"] = f"The date {label} must include a {missing[0]}"
        return None
    try:
        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        if day.year < 1900:
            raise ValueError
    except ValueError:
        errors["occurred_at"] = f"The date {label} must be a real date"
        return None
    at = time(0, 0)
    if raw_time:
        try:
            hours, minutes = raw_time.split(":") if ":" in raw_time else (raw_time, "0")
            at = time(int(hours), int(minutes))
        except ValueError:
            errors["occurred_time"] = "Enter a real time, like 14:30"
            return None
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(ZoneInfo("UTC"))


def _text(form: Any, name: str, errors: dict[str, str], *, required: str | None, max_len: int,
          label: str) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = required
    elif len(value) > max_len:
        errors[name] = f"{label} must be {max_len:,} characters or fewer"
    return value


def user_names(user_ids: set[int | None]) -> dict[int, str]:
    """Display names of users by id (who wrote, corrected, uploaded)."""
    ids = sorted(i for i in user_ids if i is not None)
    if not ids:
        return {}
    return dict(db_session().execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _back_to_person(person_id: int, anchor: str):  # type: ignore[no-untyped-def]
    return redirect(url_for("workspace.person", person_id=person_id, _anchor=anchor))


# -- case notes ------------------------------------------------------------------------------------------


def _household_choices(person: Person) -> list[dict[str, Any]]:
    """People the note may also be about: relationships and household members the actor may see."""
    session, actor = db_session(), current_actor()
    related = relationships_of(session, actor, person)
    found: dict[int, dict[str, Any]] = {}
    for row in related:
        found.setdefault(row["person"].id, {"id": row["person"].id, "name": row["person"].display_name,
                                            "hint": codes.RELATIONSHIP_TYPES.get(row["other_is"], row["other_is"])})
    for row in household(session, actor, person, relationships=related):
        found.setdefault(row["person"].id, {"id": row["person"].id, "name": row["person"].display_name,
                                            "hint": "Lives at the same address"})
    return list(found.values())


def _note_form(person: Person, values: dict[str, Any], errors: dict[str, str], *, note: CaseNote | None = None,
               status: int = 200):  # type: ignore[no-untyped-def]
    title = "Edit a draft case note" if note is not None else "Add a case note"
    return render_template("workspace/note_form.html", title=title, person=person, note=note, values=values,
                           errors=errors, error_list=_error_list(errors), note_types=codes.NOTE_TYPES,
                           cases=_case_choices(person.id), household=_household_choices(person)), status


def _note_values_from(note: CaseNote | None, person: Person) -> dict[str, Any]:
    if note is None:
        cases = _case_choices(person.id)
        open_cases = [c for c in cases if c.status == "open"]
        return {"note_type": "", "subject": "", "body": "", "significant": False,
                "case_id": str(open_cases[0].id) if len(open_cases) == 1 else "", "linked_person_ids": [],
                **_when_fields(_local_now().replace(second=0, microsecond=0))}
    return {"note_type": note.note_type, "subject": note.subject, "body": note.body, "significant": note.significant,
            "case_id": str(note.case_id or ""), "linked_person_ids": [str(x.person_id) for x in note.linked],
            **_when_fields(note.occurred_at), "version": str(note.version)}


def _read_note_form(person: Person) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(typed values to show again, data for the service, errors)."""
    form, errors = request.form, {}
    values = {"note_type": form.get("note_type") or "", "subject": form.get("subject") or "",
              "body": form.get("body") or "", "significant": form.get("significant") == "yes",
              "case_id": form.get("case_id") or "", "linked_person_ids": form.getlist("linked_person_ids"),
              "day": form.get("occurred_at-day") or "", "month": form.get("occurred_at-month") or "",
              "year": form.get("occurred_at-year") or "", "time": form.get("occurred_time") or "",
              "version": form.get("version") or ""}
    if not values["note_type"]:
        errors["note_type"] = "Select the type of note"
    elif values["note_type"] not in codes.NOTE_TYPES:
        errors["note_type"] = "Select a type of note from the list"
    subject = _text(form, "subject", errors, required="Enter a subject", max_len=MAX_SUBJECT, label="Subject")
    body = (form.get("body") or "").strip()
    if len(body) > MAX_BODY:
        errors["body"] = f"The note must be {MAX_BODY:,} characters or fewer"
    elif not body and form.get("action") == "complete":
        errors["body"] = "Write the note before completing it"
    occurred_at = _parse_when(form, errors, "it happened")
    case_id = _case_id(values["case_id"], _case_choices(person.id), errors)
    allowed = {str(h["id"]) for h in _household_choices(person)}
    linked = [int(v) for v in values["linked_person_ids"] if v in allowed]
    if len(linked) != len(values["linked_person_ids"]):
        errors["linked_person_ids"] = "Select people from the list"
    data = {"note_type": values["note_type"], "subject": subject, "body": body, "occurred_at": occurred_at,
            "significant": values["significant"], "case_id": case_id, "linked_person_ids": linked}
    return values, data, errors


@blueprint.get("/people/<int:person_id>/notes/new")
@requires(Permission.RECORDS_EDIT)
def new_note(person_id: int):  # type: ignore[no-untyped-def]
    person = _editable_person(person_id)
    return _note_form(person, _note_values_from(None, person), {})


@blueprint.post("/people/<int:person_id>/notes")
@requires(Permission.RECORDS_EDIT)
def create_note(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = _editable_person(person_id)
    values, data, errors = _read_note_form(person)
    if errors:
        return _note_form(person, values, errors, status=422)
    complete = request.form.get("action") == "complete"
    try:
        with session.begin_nested():  # a refusal leaves nothing behind in the request's transaction
            note = notes.create_note(session, actor, person, data, complete=complete)
    except Invalid as exc:
        return _note_form(person, values, _service_errors(exc), status=422)
    session.commit()
    flash(f"Case note ‘{note.subject}’ {'completed' if complete else 'saved as a draft'}.")
    return _back_to_person(person.id, f"note-{note.id}")


def _own_draft(note_id: int) -> tuple[CaseNote, Person]:
    """A draft note of the actor (others' drafts do not exist for them); a completed note is corrected instead."""
    session, actor = db_session(), current_actor()
    note = notes.get_visible_note(session, actor, note_id)
    if note.status == "draft" and note.created_by != actor.user_id:
        raise NotFound("No such note")
    return note, _editable_person(note.person_id)


@blueprint.get("/notes/<int:note_id>/edit")
@requires(Permission.RECORDS_EDIT)
def edit_note(note_id: int):  # type: ignore[no-untyped-def]
    note, person = _own_draft(note_id)
    if note.status != "draft":
        return redirect(url_for("workspace.new_correction", note_id=note.id))
    return _note_form(person, _note_values_from(note, person), {}, note=note)


@blueprint.post("/notes/<int:note_id>/edit")
@requires(Permission.RECORDS_EDIT)
def update_note(note_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    note, person = _own_draft(note_id)
    values, data, errors = _read_note_form(person)
    if errors:
        return _note_form(person, values, errors, note=note, status=422)
    version = int(values["version"]) if values["version"].isdigit() else None
    complete = request.form.get("action") == "complete"
    try:
        with session.begin_nested():
            notes.update_draft(session, actor, note, data, version)
            if complete:
                notes.complete_note(session, actor, note, expected_version=note.version)
    except Invalid as exc:
        session.refresh(note)
        return _note_form(person, values, _service_errors(exc), note=note, status=422)
    except Conflict as exc:
        if exc.code != "stale_version":
            raise
        # saved in another window since this one was opened: keep what was typed, offer to save it over
        session.refresh(note)
        values["version"] = str(note.version)
        return _note_form(person, values, {"version": "This draft was saved in another window after you opened "
                                                      "it. Check the note below and save it again"},
                          note=note, status=409)
    session.commit()
    flash(f"Case note ‘{note.subject}’ {'completed' if complete else 'saved as a draft'}.")
    return _back_to_person(person.id, f"note-{note.id}")


def _correction_page(note: CaseNote, values: dict[str, str], errors: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    session = db_session()
    person = session.get(Person, note.person_id)
    names = user_names({note.created_by, note.completed_by, *(c.created_by for c in note.corrections)})
    return render_template("workspace/note_correction.html", title="Add a correction", note=note, person=person,
                           values=values, errors=errors, error_list=_error_list(errors), names=names,
                           note_types=codes.NOTE_TYPES), status


@blueprint.get("/notes/<int:note_id>/corrections/new")
@requires(Permission.RECORDS_EDIT)
def new_correction(note_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    note = notes.view_note(session, actor, note_id)  # audited: the page shows the note in full
    _editable_person(note.person_id)
    if note.status != "complete":
        return redirect(url_for("workspace.edit_note", note_id=note.id))
    session.commit()  # the audit row of the view
    return _correction_page(note, {"body": "", "reason": ""}, {})


@blueprint.post("/notes/<int:note_id>/corrections")
@requires(Permission.RECORDS_EDIT)
def add_correction(note_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    note = notes.get_visible_note(session, actor, note_id)
    if note.status == "draft" and note.created_by != actor.user_id:
        raise NotFound("No such note")
    _editable_person(note.person_id)
    errors: dict[str, str] = {}
    body = _text(request.form, "body", errors, required="Enter the correction", max_len=MAX_BODY,
                 label="The correction")
    reason = _text(request.form, "reason", errors, required="Enter the reason for the correction",
                   max_len=MAX_REASON, label="The reason")
    values = {"body": request.form.get("body") or "", "reason": request.form.get("reason") or ""}
    if errors:
        return _correction_page(note, values, errors, 422)
    try:
        with session.begin_nested():
            notes.add_correction(session, actor, note, body=body, reason=reason)
    except Invalid as exc:
        session.refresh(note)
        return _correction_page(note, values, _service_errors(exc), 422)
    session.commit()
    flash(f"Correction added to ‘{note.subject}’. The original note is kept.")
    return _back_to_person(note.person_id, f"note-{note.id}")


# -- documents -------------------------------------------------------------------------------------------

# the upload form's fields in page order (the error summary lists them in this order)
DOCUMENT_FIELDS = ("file", "title", "document_type", "case_id")


@blueprint.app_template_filter("casework_document_type")
def _document_type(code: str | None) -> str:
    """A document type code as its label; documents uploaded before types existed have none."""
    if not code:
        return "Not recorded"
    return codes.DOCUMENT_TYPES.get(code, code)


def _document_form(person: Person, values: dict[str, str], errors: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    max_mb = current_app.config["SETTINGS"].max_upload_mb
    ordered = {f: errors[f] for f in DOCUMENT_FIELDS if f in errors} | errors
    return render_template("workspace/document_form.html", title="Upload a document", person=person,
                           values=values, errors=ordered, error_list=_error_list(ordered),
                           cases=_case_choices(person.id), max_mb=max_mb,
                           document_types=codes.DOCUMENT_TYPES), status


def _chosen_file(errors: dict[str, str]) -> docs.Upload | None:
    file = request.files.get("file")
    if file is None or not file.filename:
        errors["file"] = "Select a file to upload"
        return None
    return docs.Upload(filename=file.filename, data=file.read())


@blueprint.get("/people/<int:person_id>/documents/new")
@requires(Permission.RECORDS_EDIT)
def new_document(person_id: int):  # type: ignore[no-untyped-def]
    return _document_form(_editable_person(person_id), {"title": "", "case_id": "", "document_type": ""}, {})


@blueprint.post("/people/<int:person_id>/documents")
@requires(Permission.RECORDS_EDIT)
def upload_document(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = _editable_person(person_id)
    settings = current_app.config["SETTINGS"]
    values = {"title": request.form.get("title") or "", "case_id": request.form.get("case_id") or "",
              "document_type": request.form.get("document_type") or ""}
    errors: dict[str, str] = {}
    title = _text(request.form, "title", errors, required="Enter a title", max_len=300, label="Title")
    if not values["document_type"]:
        errors["document_type"] = "Select the type of document"
    elif values["document_type"] not in codes.DOCUMENT_TYPES:
        errors["document_type"] = "Select a type of document from the list"
    case_id = _case_id(values["case_id"], _case_choices(person.id), errors)
    upload = _chosen_file(errors)
    if errors:
        return _document_form(person, values, errors, 422)
    assert upload is not None
    try:
        with session.begin_nested():
            doc = docs.add_document(session, actor, documents_dir=settings.documents_dir,
                                    max_bytes=settings.max_upload_mb * 1024 * 1024,
                                    person_id=None if case_id else person.id, case_id=case_id, note_id=None,
                                    title=title, upload=upload, document_type=values["document_type"],
                                    require_type=True)
    except Invalid as exc:
        return _document_form(person, values, _service_errors(exc), 422)
    session.commit()
    flash(f"Document ‘{doc.title}’ uploaded.")
    return _back_to_person(person.id, "documents")


def _document_page_data(document_id: int) -> tuple[Any, Person]:
    """The document (404 if it or its person is hidden from the actor) and its person."""
    session, actor = db_session(), current_actor()
    doc = docs.get_visible_document(session, actor, document_id)
    return doc, get_visible_person(session, actor, doc.person_id)


@blueprint.get("/documents/<int:document_id>")
@requires(Permission.RECORDS_VIEW)
def document_page(document_id: int):  # type: ignore[no-untyped-def]
    """A document's details and every version (newest first), each with who uploaded it, when, and a download."""
    doc, person = _document_page_data(document_id)
    case = db_session().get(Case, doc.case_id) if doc.case_id else None
    names = user_names({v.created_by for v in doc.versions})
    return render_template("workspace/document_page.html", title=doc.title, document=doc, person=person, case=case,
                           versions=sorted(doc.versions, key=lambda v: v.version_no, reverse=True), names=names,
                           can_write=can_edit_person(current_actor(), person))


def _version_form(doc: Any, person: Person, values: dict[str, str], errors: dict[str, str],  # type: ignore[no-untyped-def]
                  status: int = 200):
    max_mb = current_app.config["SETTINGS"].max_upload_mb
    current = next((v for v in doc.versions if v.version_no == doc.current_version), None)
    return render_template("workspace/document_version_form.html", title="Upload a new version", document=doc,
                           person=person, current=current, values=values, errors=errors,
                           error_list=_error_list(errors), max_mb=max_mb), status


def _editable_document(document_id: int) -> tuple[Any, Person]:
    doc, person = _document_page_data(document_id)
    if not can_edit_person(current_actor(), person):
        raise Forbidden("You cannot change this record")
    return doc, person


@blueprint.get("/documents/<int:document_id>/versions/new")
@requires(Permission.RECORDS_EDIT)
def new_document_version(document_id: int):  # type: ignore[no-untyped-def]
    doc, person = _editable_document(document_id)
    return _version_form(doc, person, {"version": str(doc.version)}, {})


@blueprint.post("/documents/<int:document_id>/versions")
@requires(Permission.RECORDS_EDIT)
def add_document_version(document_id: int):  # type: ignore[no-untyped-def]
    """A new version through ``add_version`` (same file checks as an upload); earlier versions are kept."""
    session, actor = db_session(), current_actor()
    doc, person = _editable_document(document_id)
    settings = current_app.config["SETTINGS"]
    raw_version = request.form.get("version") or ""
    values = {"version": raw_version}
    errors: dict[str, str] = {}
    upload = _chosen_file(errors)
    if errors:
        return _version_form(doc, person, values, errors, 422)
    assert upload is not None
    try:
        with session.begin_nested():
            added = docs.add_version(session, actor, doc, documents_dir=settings.documents_dir,
                                     max_bytes=settings.max_upload_mb * 1024 * 1024, upload=upload,
                                     # no version (a tampered form) is treated as a stale page
                                     expected_version=int(raw_version) if raw_version.isdigit() else -1)
    except Invalid as exc:
        session.refresh(doc)
        return _version_form(doc, person, values, _service_errors(exc), 422)
    except Conflict as exc:
        if exc.code != "stale_version":
            raise
        session.refresh(doc)
        return _version_form(doc, person, {"version": str(doc.version)},
                             {"file": "Someone uploaded a new version of this document after you opened this page. "
                                      "Check the versions below and upload your file again"}, 409)
    session.commit()
    flash(f"Version {added.version_no} of ‘{doc.title}’ uploaded. Earlier versions are kept.")
    return redirect(url_for("workspace.document_page", document_id=doc.id))


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """An upload over the size limit is refused before the form is read: show it on the upload form."""
    max_mb = current_app.config["SETTINGS"].max_upload_mb
    too_big = {"file": f"The file must be smaller than {max_mb} MB"}
    args = request.view_args or {}
    try:
        if request.endpoint == "workspace.upload_document" and "person_id" in args:
            person = _editable_person(int(args["person_id"]))
            return _document_form(person, {"title": "", "case_id": "", "document_type": ""}, too_big, 413)
        if request.endpoint == "workspace.add_document_version" and "document_id" in args:
            doc, person = _editable_document(int(args["document_id"]))
            return _version_form(doc, person, {"version": str(doc.version)}, too_big, 413)
    except (NotFound, Forbidden):
        pass
    return error_response(413, "request_entity_too_large", exc.description or "The file is too large")


@blueprint.get("/documents/<int:document_id>/download")
@requires(Permission.RECORDS_VIEW)
def download_document(document_id: int):  # type: ignore[no-untyped-def]
    return document_download(document_id, request.args.get("version", type=int))


# -- chronology ------------------------------------------------------------------------------------------


def _entry_form(person: Person, values: dict[str, Any], errors: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("workspace/chronology_form.html", title="Add a chronology entry", person=person,
                           values=values, errors=errors, error_list=_error_list(errors), kinds=MANUAL_KINDS,
                           cases=_case_choices(person.id)), status


@blueprint.get("/people/<int:person_id>/chronology/new")
@requires(Permission.RECORDS_EDIT)
def new_chronology_entry(person_id: int):  # type: ignore[no-untyped-def]
    person = _editable_person(person_id)
    return _entry_form(person, {"kind": "manual", "title": "", "detail": "", "case_id": "",
                                **_when_fields(_local_now().replace(second=0, microsecond=0))}, {})


@blueprint.post("/people/<int:person_id>/chronology")
@requires(Permission.RECORDS_EDIT)
def add_chronology_entry(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = _editable_person(person_id)
    form, errors = request.form, {}
    values = {"kind": form.get("kind") or "", "title": form.get("title") or "", "detail": form.get("detail") or "",
              "case_id": form.get("case_id") or "", "day": form.get("occurred_at-day") or "",
              "month": form.get("occurred_at-month") or "", "year": form.get("occurred_at-year") or "",
              "time": form.get("occurred_time") or ""}
    if values["kind"] not in MANUAL_KINDS:
        errors["kind"] = "Select the type of entry"
    title = _text(form, "title", errors, required="Enter what happened", max_len=300, label="What happened")
    detail = _text(form, "detail", errors, required=None, max_len=MAX_DETAIL, label="Detail")
    occurred_at = _parse_when(form, errors, "it happened")
    case_id = _case_id(values["case_id"], _case_choices(person.id), errors)
    if errors:
        return _entry_form(person, values, errors, 422)
    assert occurred_at is not None
    try:
        with session.begin_nested():
            chrono.add_manual_entry(session, actor, person, kind=values["kind"], title=title,
                                    occurred_at=occurred_at, detail=detail or None, case_id=case_id)
    except Invalid as exc:
        return _entry_form(person, values, _service_errors(exc), 422)
    session.commit()
    flash(f"Chronology entry ‘{title}’ added.")
    return _back_to_person(person.id, "chronology")


@blueprint.get("/people/<int:person_id>/chronology.csv")
@requires(Permission.RECORDS_VIEW)
def export_chronology_csv(person_id: int):  # type: ignore[no-untyped-def]
    return _export_chronology(person_id, "csv")


@blueprint.get("/people/<int:person_id>/chronology.pdf")
@requires(Permission.RECORDS_VIEW)
def export_chronology_pdf(person_id: int):  # type: ignore[no-untyped-def]
    return _export_chronology(person_id, "pdf")


def _export_chronology(person_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """The whole chronology (or one kind) as a download; audited as an export, as the API does."""
    kind = request.args.get("kind") or ""
    return chronology_export(person_id, fmt, {"kinds": [kind] if kind in codes.CHRONOLOGY_KINDS else None})
