"""Council settings: closure days (working-day calendar) and default timescales."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from admin.common import actor_name
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import settings as council
from casework.engine_host import get_engine
from casework.errors import DomainError
from casework.web.context import db_session


@blueprint.route("/settings", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def settings():  # type: ignore[no-untyped-def]
    session = db_session()
    errors: dict[str, str] = {}
    closure_text = "\n".join(d.isoformat() for d in council.closure_days(session))
    timescales = {k: str(v) for k, v in council.timescales(session).items()}
    if request.method == "POST":
        closure_text = request.form.get("closure_days", "")
        timescales = {k: request.form.get(k, "") for k in council.DEFAULT_TIMESCALES}
        try:
            days = council.parse_closure_days(closure_text)
        except DomainError as exc:
            errors.update(exc.details)
            days = None
        try:
            if days is not None:
                council.set_closure_days(session, days, actor=actor_name())
            council.set_timescales(session, timescales, actor=actor_name())
        except DomainError as exc:
            errors.update(exc.details)
        if not errors:
            session.commit()
            get_engine().calendar.refresh()  # this process sees new closure days now; others within a minute
            flash("Settings saved")
            return redirect(url_for("admin.settings"))
        session.rollback()
    updated = council.setting_updated(session, council.CLOSURE_DAYS)
    return render_template("admin/settings.html", title="Council settings", errors=errors,
                           closure_text=closure_text, timescales=timescales, labels=council.TIMESCALE_LABELS,
                           updated=updated), (422 if errors else 200)
