"""Council settings: closure days (the working-day calendar every timescale counts in). The statutory timescales
themselves live in each process's decision tables (DMN), which the processes read: the page says so and links to
the processes whose tables hold them (edited in a draft with the decision table editor), rather than offering a
second set of numbers nothing reads."""

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

# process key -> (its timescale decision table, what it sets)
TIMESCALE_TABLES = (
    ("referral", "referral_timescales", "Referral decision and feedback to the referrer"),
    ("childrens_assessment", "childrens_assessment_timescales", "Child seen and the children's assessment"),
    ("child_protection", "child_protection_timescales",
     "Initial child protection conference, core groups, visits and reviews"),
    ("care_and_support_plan", "care_and_support_timescales", "Care Act assessment, care plan and reviews"),
    ("payment_authorisation", "payment_authorisation_timescales", "Payment approval"),
)


@blueprint.route("/settings", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def settings():  # type: ignore[no-untyped-def]
    session = db_session()
    errors: dict[str, str] = {}
    closure_text = "\n".join(d.isoformat() for d in council.closure_days(session))
    if request.method == "POST":
        closure_text = request.form.get("closure_days", "")
        try:
            council.set_closure_days(session, council.parse_closure_days(closure_text), actor=actor_name())
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
                           closure_text=closure_text, timescale_tables=TIMESCALE_TABLES,
                           updated=updated), (422 if errors else 200)
