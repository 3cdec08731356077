"""Audit search page for information governance officers."""

from __future__ import annotations

from flask import render_template, request

from admin.views import blueprint
from casework import audit
from casework.audit import AuditAction
from casework.audit.query import event_to_dict, parse_query
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Invalid
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav

register_nav(NavEntry("Audit", "admin.audit", Permission.AUDIT_VIEW, order=95))
FORM_FIELDS = ("person_id", "user", "from", "to", "action")


@blueprint.get("/audit", endpoint="audit")
@requires(Permission.AUDIT_VIEW)
def audit_page():  # type: ignore[no-untyped-def]
    form = {k: request.args.get(k, "") for k in FORM_FIELDS}
    searched = any(form.values())
    errors: dict[str, str] = {}
    events: list[dict] = []
    if searched:
        try:
            query = parse_query({k: v for k, v in request.args.items() if v}, strict=False)
        except Invalid as exc:
            errors = exc.details
        else:
            session = db_session()
            events = [event_to_dict(e) for e in audit.search(session, query)]
            audit.record(session, current_actor(), "view", record_type="audit_search", record_id=None,
                         person_id=query.person_id, fields=sorted(k for k, v in form.items() if v))
            session.commit()
    status = 422 if errors else 200
    return render_template("admin/audit.html", title="Audit trail", form=form, errors=errors, events=events,
                           searched=searched, actions=[a.value for a in AuditAction]), status

