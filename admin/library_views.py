"""Process library: every process, its versions, instances per version, history, diffs, export, retire."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from admin.common import actor_name, reason
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import bundles, changes, drafts, library, review, transfer
from casework.configuration.changes import ACTION_LABELS
from casework.configuration.models import STATE_LABELS
from casework.errors import DomainError
from casework.web.context import db_session
from casework.web.navigation import NavEntry, register_nav

register_nav(NavEntry("Processes", "admin.processes", Permission.CONFIGURE, order=80))


@blueprint.get("/processes")
@requires(Permission.CONFIGURE)
def processes():  # type: ignore[no-untyped-def]
    return render_template("admin/processes.html", title="Processes", entries=library.library(db_session()),
                           state_labels=STATE_LABELS)


def _entry_or_404(process_key: str):  # type: ignore[no-untyped-def]
    entry = library.process_entry(db_session(), process_key)
    if entry is None:
        abort(404)
    return entry


def _render_process(process_key: str, *, errors=None, status=200, diff=None, diff_pair=None):  # type: ignore[no-untyped-def]
    session = db_session()
    entry = _entry_or_404(process_key)
    return render_template(
        "admin/process.html", title=entry.name, entry=entry, history=changes.history(session, process_key),
        action_labels=ACTION_LABELS, state_labels=STATE_LABELS, details_of=changes.details_of,
        errors=errors or {}, diff=diff, diff_pair=diff_pair), status


@blueprint.get("/processes/<process_key>")
@requires(Permission.CONFIGURE)
def process(process_key: str):  # type: ignore[no-untyped-def]
    diff = pair = None
    if request.args.get("from") and request.args.get("to"):
        try:
            old, new = int(request.args["from"]), int(request.args["to"])
        except ValueError:
            return _render_process(process_key, errors={"from": "Choose two versions to compare"}, status=400)
        diff = library.diff_versions(db_session().connection(), process_key, old, new)
        pair = (old, new)
    return _render_process(process_key, diff=diff, diff_pair=pair)


@blueprint.post("/processes/<process_key>/drafts")
@requires(Permission.CONFIGURE)
def start_draft(process_key: str):  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        draft = drafts.start_from_version(session, session.connection(), process_key=process_key, version=None,
                                          actor=actor_name(), reason=changes.clean_reason(reason(), required=False))
    except DomainError as exc:
        return _render_process(process_key, errors={"draft": exc.message}, status=exc.status)
    session.commit()
    return redirect(url_for("admin.draft", draft_id=draft.id))


@blueprint.post("/processes/<process_key>/versions/<int:version>/rollback")
@requires(Permission.CONFIGURE)
def rollback(process_key: str, version: int):  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        draft = review.start_rollback(session, session.connection(), process_key=process_key, version=version,
                                      actor=actor_name(), reason=reason())
    except DomainError as exc:
        field = "reason" if "reason" in exc.details else "draft"
        return _render_process(process_key, errors={field: exc.details.get("reason", exc.message)},
                               status=exc.status)
    session.commit()
    flash(f"Started a draft from version {version}. Submit it for review to republish it as a new version.")
    return redirect(url_for("admin.draft", draft_id=draft.id))


@blueprint.post("/processes/<process_key>/versions/<int:version>/status")
@requires(Permission.CONFIGURE)
def version_status(process_key: str, version: int):  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        review.set_version_status(session, process_key=process_key, version=version,
                                  status=request.form.get("status", ""), actor=actor_name(),
                                  reason=request.form.get("status_reason", ""))
    except DomainError as exc:
        return _render_process(process_key, errors={"status_reason": exc.details.get("reason", exc.message)},
                               status=exc.status)
    session.commit()
    return redirect(url_for("admin.process", process_key=process_key))


@blueprint.get("/processes/<process_key>/versions/<int:version>/export")
@requires(Permission.CONFIGURE)
def export_version(process_key: str, version: int):  # type: ignore[no-untyped-def]
    row = library.definition_row(db_session().connection(), process_key, version)
    data = transfer.export_zip(bundles.files_from_definition(row), manifest={
        "process_key": process_key, "version": version, "content_hash": row["content_hash"],
        "published_by": row["published_by"], "published_at": row["published_at"]})
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{process_key}-v{version}.zip"'})
