"""Break-glass in the workspace: the person and case pages' "not found" answer offers emergency access, and a
page asks for the reason before granting it through the existing policy service.

How the offer reaches the refusal page without touching the person and case views: those views load the
record through the access policy, which raises ``NotFound`` for a missing record and for one the actor may not
see alike. This blueprint-level handler catches that ``NotFound`` for the two record pages only and renders the
ordinary error page with one extra value (the break-glass address). Everybody who reaches those pages holds
``records.view`` (the views' own decorator refuses the others with 403 first), and the policy lets every
holder of ``records.view`` break the glass on a sealed person or on another team's case. So the offer is made on
*every* such 404, for a missing record exactly as for a hidden one: the page is the same byte for byte and
says nothing about whether the record exists. Existence is only confirmed once a reason has been given and the
grant written, which is audited and alerts the record's managers (the service's rule, as in the API).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from casework.auth import policy
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Conflict, Invalid, NotFound
from casework.records.access import break_glass_case, can_view_person, visible_cases_clause
from casework.records.models_case import Case
from casework.records.models_person import Person
from casework.web.context import current_actor, db_session
from casework.web.errors import TITLES, error_response, wants_json
from workspace.views import blueprint

RECORD_PAGES = {"workspace.person": "person", "workspace.case": "case"}


@blueprint.errorhandler(NotFound)
def _not_found(exc: NotFound):  # type: ignore[no-untyped-def]
    kind = RECORD_PAGES.get(request.endpoint or "")
    actor = current_actor() if kind else None
    if kind is None or wants_json() or actor is None or not actor.can(Permission.RECORDS_VIEW):
        return error_response(exc.status, exc.code, exc.message, exc.details)
    args = request.view_args or {}
    url = (url_for("workspace.break_glass_person", person_id=args["person_id"]) if kind == "person"
           else url_for("workspace.break_glass_case", reference=args["reference"]))
    message = "There is no record at this address that you can see."
    return render_template("error.html", status=404, title=TITLES[404], message=message, details={},
                           break_glass_url=url, break_glass_minutes=policy.BREAK_GLASS_DEFAULT_MINUTES), 404


def _page(kind: str, action: str, *, reason: str = "", errors: dict[str, str] | None = None,
          status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("workspace/break_glass.html", title="Request emergency access", kind=kind,
                           action=action, reason=reason, errors=errors or {},
                           minutes=policy.BREAK_GLASS_DEFAULT_MINUTES, min_length=policy.MIN_REASON_LENGTH), status


def _reason_problem(reason: str) -> Invalid | None:
    """The policy's own request check, before the record is looked up: otherwise a missing record (404) and a
    hidden one (422 "enter a reason") would answer an empty reason differently, and existence could be
    probed without the audit and alert a real request writes."""
    try:
        policy.check_break_glass_request(current_actor(), reason, policy.BREAK_GLASS_DEFAULT_MINUTES)
    except Invalid as exc:
        return exc
    return None


def _invalid(kind: str, action: str, exc: Invalid, reason: str):  # type: ignore[no-untyped-def]
    db_session().rollback()
    problems = {"reason": str(exc.details.get("reason") or exc.message)}
    return _page(kind, action, reason=reason, errors=problems, status=422)


@blueprint.route("/people/<int:person_id>/break-glass", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def break_glass_person(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    action = url_for("workspace.break_glass_person", person_id=person_id)
    if request.method == "GET":
        # already visible: nothing to break (and nothing secret to confirm); otherwise the same page whether the
        # record exists or not
        person = session.get(Person, person_id)
        if person is not None and can_view_person(actor, person, session):
            return redirect(url_for("workspace.person", person_id=person_id))
        return _page("person", action)
    reason = request.form.get("reason") or ""
    problem = _reason_problem(reason)
    if problem is not None:
        return _invalid("person", action, problem, reason)
    try:
        policy.break_glass_person(session, actor, person_id, reason)
    except Invalid as exc:
        return _invalid("person", action, exc, reason)
    except Conflict:  # could see it already
        return redirect(url_for("workspace.person", person_id=person_id))
    session.commit()
    return redirect(url_for("workspace.person", person_id=person_id))


@blueprint.route("/cases/<reference>/break-glass", methods=["GET", "POST"], endpoint="break_glass_case")
@requires(Permission.RECORDS_VIEW)
def break_glass_case_page(reference: str):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    action = url_for("workspace.break_glass_case", reference=reference)
    if request.method == "GET":
        visible = session.scalar(select(Case.id).where(Case.reference == reference, visible_cases_clause(actor)))
        if visible is not None:  # nothing to break
            return redirect(url_for("workspace.case", reference=reference))
        return _page("case", action)
    reason = request.form.get("reason") or ""
    problem = _reason_problem(reason)
    if problem is not None:
        return _invalid("case", action, problem, reason)
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    if case_id is None:
        raise NotFound("No such case")  # the service answers the same for a case whose person is hidden
    try:
        break_glass_case(session, actor, case_id, reason)
    except Invalid as exc:
        return _invalid("case", action, exc, reason)
    except Conflict:
        return redirect(url_for("workspace.case", reference=reference))
    session.commit()
    return redirect(url_for("workspace.case", reference=reference))

