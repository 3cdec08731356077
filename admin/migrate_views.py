"""Migrating waiting instances to a newer version: the engine's check is shown for each instance first."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from admin.common import actor_name, engine
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import instances, library
from casework.errors import DomainError
from casework.web.context import db_session


def _render(process_key: str, to: int, *, errors=None, refused=None, status=200):  # type: ignore[no-untyped-def]
    session = db_session()
    library.definition_row(session.connection(), process_key, to)  # 404 for an unknown version
    rows = instances.candidates(session, engine(), process_key, to)
    return render_template("admin/migrate.html", title=f"Migrate instances of {process_key}",
                           process_key=process_key, to=to, rows=rows, errors=errors or {},
                           refused=refused or {}), status


@blueprint.route("/processes/<process_key>/migrate", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def migrate(process_key: str):  # type: ignore[no-untyped-def]
    try:
        to = int(request.values.get("to", ""))
    except ValueError:
        return redirect(url_for("admin.process", process_key=process_key))
    if request.method == "GET":
        return _render(process_key, to)
    session = db_session()
    ids = [int(v) for v in request.form.getlist("instances") if v.isdigit()]
    try:
        moved, refused = instances.migrate(session, engine(), process_key=process_key, to_version=to,
                                           instance_ids=ids, actor=actor_name(), reason=request.form.get("reason"))
    except DomainError as exc:
        session.rollback()
        errors = {k: v for k, v in exc.details.items() if isinstance(v, str)} or {"instances": exc.message}
        return _render(process_key, to, errors=errors, status=exc.status)
    session.commit()
    if refused:
        return _render(process_key, to, refused=refused, errors={"instances": (
            f"Moved {len(moved)} instance(s); {len(refused)} could not be moved (see below)")}, status=409)
    flash(f"Moved {len(moved)} instance(s) to version {to}")
    return redirect(url_for("admin.process", process_key=process_key))
