"""Drafts: create, import, look at problems and changes, edit files as text, and move through review."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from admin.common import actor_name, engine, problem_rows, reason
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import bundles, changes, drafts, library, review, transfer
from casework.configuration.changes import ACTION_LABELS
from casework.configuration.models import STATE_LABELS
from casework.errors import DomainError, Invalid
from casework.web.context import db_session

ACTIONS = {
    "submit": lambda s, d, a, r: review.submit(s, d, actor=a, reason=r, engine=engine(),
                                               expected_version=_form_version()),
    "approve": lambda s, d, a, r: review.approve(s, d, actor=a, reason=r, engine=engine()),
    "send_back": lambda s, d, a, r: review.send_back(s, d, actor=a, reason=r),
    "publish": lambda s, d, a, r: review.publish(s, d, actor=a, reason=r, engine=engine()),
    "withdraw": lambda s, d, a, r: drafts.withdraw(s, d, actor=a, reason=r),
}
DONE = {"submit": "Submitted for review", "approve": "Approved: another configurator can now publish it",
        "send_back": "Sent back for changes", "withdraw": "Draft withdrawn"}


def _form_version() -> int | None:
    value = request.form.get("version", "")
    return int(value) if value.isdigit() else None


def render_draft(draft_id: int, *, errors=None, problems=None, status=200, imported=None, skipped=None):  # type: ignore[no-untyped-def]
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    files = drafts.files_of(draft)
    check = bundles.check_files(files, engine())
    rows = problem_rows(draft.id, problems if problems is not None else check.problems)
    try:
        diff = library.diff_draft(session.connection(), draft)
    except DomainError:
        diff = None
    return render_template(
        "admin/draft.html", title=f"Draft of {draft.title}", draft=draft, files=files, problems=rows,
        can_run=check.ok, diff=diff, history=changes.history(session, draft_id=draft.id),
        action_labels=ACTION_LABELS, state_labels=STATE_LABELS, errors=errors or {}, me=_actor(),
        skipped=skipped or [], imported=imported), status


def _actor():  # type: ignore[no-untyped-def]
    from casework.web.context import current_actor

    return current_actor()


@blueprint.get("/drafts/<int:draft_id>")
@requires(Permission.CONFIGURE)
def draft(draft_id: int):  # type: ignore[no-untyped-def]
    return render_draft(draft_id)


@blueprint.post("/drafts/<int:draft_id>/<action>")
@requires(Permission.CONFIGURE)
def draft_action(draft_id: int, action: str):  # type: ignore[no-untyped-def]
    if action not in ACTIONS:
        abort(404)
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    try:
        result = ACTIONS[action](session, draft, actor_name(), reason())
    except review.ProblemsFound as exc:
        session.rollback()
        return render_draft(draft_id, errors={"reason": exc.message}, problems=exc.problems, status=422)
    except DomainError as exc:
        session.rollback()
        message = exc.details.get("reason") if isinstance(exc.details.get("reason"), str) else exc.message
        return render_draft(draft_id, errors={"reason": message}, status=exc.status)
    session.commit()
    if action == "publish":
        flash(f"Published {draft.process_key} version {result['version']}")
        return redirect(url_for("admin.process", process_key=draft.process_key))
    flash(DONE[action])
    return redirect(url_for("admin.draft", draft_id=draft_id))


@blueprint.get("/drafts/<int:draft_id>/export")
@requires(Permission.CONFIGURE)
def export_draft(draft_id: int):  # type: ignore[no-untyped-def]
    draft = drafts.get_draft(db_session(), draft_id)
    data = transfer.export_zip(drafts.files_of(draft), manifest={
        "process_key": draft.process_key, "draft": draft.id, "based_on_version": draft.based_on_version})
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{draft.process_key}-draft-{draft.id}.zip"'})


# ------------------------------------------------------------------------------------------- new / import
@blueprint.route("/processes/new", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def new_process():  # type: ignore[no-untyped-def]
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form
        session = db_session()
        if not values.get("title", "").strip():
            errors["title"] = "Enter the process name"
        else:
            try:
                draft = drafts.start_blank(session, process_key=values.get("process_key", ""),
                                           title=values.get("title", ""), actor=actor_name(), reason=reason())
            except DomainError as exc:
                errors = {k: v for k, v in exc.details.items() if isinstance(v, str)} or {"process_key": exc.message}
            else:
                session.commit()
                return redirect(url_for("admin.draft", draft_id=draft.id))
    return render_template("admin/new_process.html", title="Create a process", errors=errors, values=values), \
        (422 if errors else 200)


@blueprint.route("/import", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def import_files():  # type: ignore[no-untyped-def]
    errors = {}
    if request.method == "POST":
        upload = request.files.get("file")
        session = db_session()
        try:
            if upload is None or not upload.filename:
                raise Invalid("Choose a file", details={"file": "Choose a file to import"})
            result = transfer.read_upload(upload.filename, upload.stream.read(transfer.MAX_UPLOAD_BYTES + 1))
            draft, problems = drafts.import_files(session, files=result.files, actor=actor_name(),
                                                  reason=reason(), engine=engine())
        except DomainError as exc:
            errors = {"file": exc.details.get("file") or exc.message}
        else:
            session.commit()
            return render_draft(draft.id, imported=True, skipped=result.skipped)
    return render_template("admin/import.html", title="Import files", errors=errors), (422 if errors else 200)


@blueprint.post("/drafts/<int:draft_id>/upload")
@requires(Permission.CONFIGURE)
def upload_into_draft(draft_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Invalid("Choose a file", details={"file": "Choose a file to upload"})
        result = transfer.read_upload(upload.filename, upload.stream.read(transfer.MAX_UPLOAD_BYTES + 1))
        drafts.import_files(session, files=result.files, actor=actor_name(), reason=reason(), engine=engine(),
                            draft=draft, expected_version=_form_version())
    except DomainError as exc:
        session.rollback()
        return render_draft(draft_id, errors={"file": exc.details.get("file") or exc.message}, status=exc.status)
    session.commit()
    return render_draft(draft_id, imported=True, skipped=result.skipped)


# ------------------------------------------------------------------------------------------- text editing
@blueprint.route("/drafts/<int:draft_id>/files/<kind>/<name>", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def edit_file(draft_id: int, kind: str, name: str):  # type: ignore[no-untyped-def]
    """Edit one file as text (works without JavaScript); a stale save keeps the typed text to copy."""
    if kind not in bundles.KINDS:
        abort(404)
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    files = drafts.files_of(draft)
    if request.method == "GET" and name not in files[kind]:
        abort(404)
    errors, status, text, version = {}, 200, files[kind].get(name, ""), draft.version
    conflict = False
    if request.method == "POST":
        text, version = request.form.get("content", ""), _form_version()
        remove = request.form.get("remove") == "1"
        try:
            drafts.save_files(session, draft, changes={kind: {name: None if remove else text}}, actor=actor_name(),
                              expected_version=version, reason=request.form.get("reason"),
                              action="file_removed" if remove else "saved")
        except DomainError as exc:
            session.rollback()
            conflict = exc.status == 409
            errors, status = {"content": exc.message}, exc.status
        else:
            session.commit()
            flash(f"Removed {name}" if remove else f"Saved {name}")
            return redirect(url_for("admin.draft", draft_id=draft_id))
    return render_template("admin/edit_file.html", title=f"Edit {name}", draft=draft, kind=kind, name=name,
                           content=text, version=version, errors=errors, conflict=conflict,
                           current=files[kind].get(name, "")), status
