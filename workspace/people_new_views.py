"""The front door: add a new person (the records service's duplicate check first, never a silent create when
there are likely matches), open a case for them (or for anyone already on the system), then record a contact
(the existing POST /cases/<reference>/start with process_key=referral).

The rules live in the services (casework.records.service_person.create_person, service_details.add_address,
service_case.open_case); these views only read the form, call them and show their messages on GOV.UK pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from api.records_common import PersonAddressInSchema
from casework.accounts.models import Team
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import DomainError, Invalid
from casework.records import codes
from casework.records import service_details as details
from casework.records.access import get_visible_person
from casework.records.service_case import case_by_reference, open_case, view_case
from casework.records.service_person import DuplicateSuspected, create_person
from casework.web.context import current_actor, db_session
from workspace.views import blueprint

NAME_FIELDS = ("forename", "middle_names", "surname")
ADDRESS_FIELDS = ("line1", "line2", "town", "postcode")
DATE_PARTS = ("day", "month", "year")
CONTACT_PROCESS = "referral"
# where each service field's message links to in the error summary (the field's first control)
ANCHORS = {"date_of_birth": "dob-day", "nhs_number": "nhs_number", "sex": "sex", "forename": "forename",
           "surname": "surname", "middle_names": "middle_names", "line1": "address-line1",
           "line2": "address-line2", "town": "address-town", "postcode": "address-postcode",
           "service_area": "service_area", "open_reason": "open_reason", "team_id": "team_id",
           "summary": "summary", "opened_on": "service_area"}
MAX_LENGTHS = {"forename": ("First name", 100), "middle_names": ("Middle names", 200),
               "surname": ("Last name", 100)}  # the API schema's limits (the columns' sizes)


def _error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    return [{"text": message, "href": "#" + ANCHORS.get(field, field)} for field, message in errors.items()]


def _typed_person(form: Any) -> dict[str, Any]:
    """Everything typed, as typed (the page comes back with it on a problem, and the duplicate page carries it)."""
    typed = {f: (form.get(f) or "").strip() for f in NAME_FIELDS + ("sex", "nhs_number")}
    typed["dob"] = {p: (form.get(f"dob-{p}") or "").strip() for p in DATE_PARTS}
    typed["dob_is_expected"] = form.get("dob_is_expected") == "yes"
    typed["address"] = {f: (form.get(f"address-{f}") or "").strip() for f in ADDRESS_FIELDS}
    return typed


def _read_person(typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, str]]:
    """(data for create_person, address for add_address or None, problems the form itself can see)."""
    errors: dict[str, str] = {}
    for field, label in (("forename", "first name"), ("surname", "last name")):
        if not typed[field]:
            errors[field] = f"Enter the person's {label}"
    for field, (label, most) in MAX_LENGTHS.items():
        if len(typed[field]) > most:
            errors[field] = f"{label} must be {most} characters or fewer"
    dob = None
    parts = typed["dob"]
    if not any(parts.values()):
        errors["date_of_birth"] = ("Enter the expected date of birth" if typed["dob_is_expected"]
                                   else "Enter the date of birth, or the expected date if the baby is not born yet")
    else:
        try:
            dob = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            errors["date_of_birth"] = "Date of birth must be a real date, like 27 3 2015"
    if typed["sex"] not in codes.SEX:
        errors["sex"] = "Select the person's sex (choose 'Not known' if you do not know)"
    data = {"forename": typed["forename"], "surname": typed["surname"],
            "middle_names": typed["middle_names"] or None, "date_of_birth": dob,
            "dob_is_expected": typed["dob_is_expected"], "sex": typed["sex"] or None,
            "nhs_number": typed["nhs_number"] or None}
    address = None
    if any(typed["address"].values()):
        raw = {k: v or None for k, v in typed["address"].items()}
        raw["line1"] = raw["line1"] or ""
        try:
            address = PersonAddressInSchema().load(raw)  # the API's own address rules (postcode format, lengths)
        except ValidationError as exc:
            for field, messages in exc.messages.items():
                text = " ".join(messages) if isinstance(messages, list) else str(messages)
                if field == "line1":
                    text = "Enter the first line of the address, or leave the whole address blank"
                errors[field] = text
    return data, address, errors


def _long_date(iso: str | None) -> str:
    if not iso:
        return "Not known"
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _person_form(typed: dict[str, Any], errors: dict[str, str], status: int):  # type: ignore[no-untyped-def]
    return render_template("workspace/person_new.html", title="Add a new person", typed=typed, errors=errors,
                           error_list=_error_list(errors), sexes=codes.SEX), status


def _prefill_from_search() -> dict[str, Any]:
    """From the search page: "Sam Smith" -> first name Sam, last name Smith (a bare number is an NHS number)."""
    typed = _typed_person({})
    q = " ".join((request.args.get("q") or "").split())[:200]
    if q.replace(" ", "").isdigit():
        typed["nhs_number"] = q
    elif q:
        words = q.split(" ")
        typed["surname"] = words[-1]
        typed["forename"] = " ".join(words[:-1])
    typed["dob"] = {p: (request.args.get(f"dob-{p}") or "").strip()[:4] for p in DATE_PARTS}
    return typed


@blueprint.route("/people/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_EDIT)
def new_person():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _person_form(_prefill_from_search(), {}, 200)
    typed = _typed_person(request.form)
    if request.form.get("edit") == "yes":  # "Change what I entered" on the duplicates page
        return _person_form(typed, {}, 200)
    data, address, errors = _read_person(typed)
    if errors:
        return _person_form(typed, errors, 422)
    session, actor = db_session(), current_actor()
    confirmed = request.form.get("confirm_not_duplicate") == "yes"
    try:
        person = create_person(session, actor, data, confirm_not_duplicate=confirmed)
        if address:
            details.add_address(session, actor, person, address)
    except DuplicateSuspected as exc:
        session.rollback()
        nhs_taken = "nhs_number" in exc.details
        matches = [{**m, "born": _long_date(m.get("date_of_birth"))} for m in exc.details.get("matches", [])]
        return render_template("workspace/person_duplicates.html", title="This person may already have a record",
                               typed=typed, matches=matches, nhs_taken=nhs_taken,
                               sexes=codes.SEX), 409
    except Invalid as exc:
        session.rollback()
        problems = {k: str(v) for k, v in exc.details.items()} or {"forename": exc.message}
        return _person_form(typed, problems, 422)
    session.commit()
    return redirect(url_for("workspace.new_case", person_id=person.id, new=1))


# -- open a case -----------------------------------------------------------------------------------------


def _team_choices(actor_team_ids: frozenset[int]) -> list[Team]:
    """The actor's own active teams: a case allocated elsewhere would be out of sight straight away (the
    contact could not be recorded); allocating to another team is a manager's job on the case."""
    if not actor_team_ids:
        return []
    return list(db_session().scalars(select(Team).where(Team.id.in_(sorted(actor_team_ids)),
                                                        Team.active.is_(True)).order_by(Team.name)))


def _case_form(person, typed: dict[str, str], errors: dict[str, str], status: int):  # type: ignore[no-untyped-def]
    teams = _team_choices(current_actor().team_ids)
    return render_template("workspace/case_new.html", title=f"Open a case for {person.display_name}",
                           person=person, typed=typed, errors=errors, error_list=_error_list(errors), teams=teams,
                           areas=codes.SERVICE_AREAS, reasons=codes.CASE_OPEN_REASONS,
                           is_new=request.values.get("new") == "1"), status


@blueprint.route("/people/<int:person_id>/cases/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_EDIT)
def new_case(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)  # 404 if missing or not visible
    if request.method == "GET":
        teams = _team_choices(actor.team_ids)
        first = teams[0] if teams else None
        typed = {"service_area": first.service_area if first and first.service_area in codes.SERVICE_AREAS
                 else "", "team_id": str(first.id) if first else "", "open_reason": "", "summary": ""}
        return _case_form(person, typed, {}, 200)
    typed = {f: (request.form.get(f) or "").strip() for f in ("service_area", "team_id", "open_reason", "summary")}
    errors: dict[str, str] = {}
    if typed["service_area"] not in codes.SERVICE_AREAS:
        errors["service_area"] = "Select the service area"
    allowed_teams = {str(t.id): t.id for t in _team_choices(actor.team_ids)}
    if typed["team_id"] not in allowed_teams and typed["team_id"] != "none":
        errors["team_id"] = "Select the team, or 'Not allocated yet'"
    if typed["open_reason"] not in codes.CASE_OPEN_REASONS:
        errors["open_reason"] = "Select why the case is being opened"
    if len(typed["summary"]) > 5000:
        errors["summary"] = "The summary must be 5000 characters or fewer"
    if errors:
        return _case_form(person, typed, errors, 422)
    data = {"service_area": typed["service_area"], "open_reason": typed["open_reason"],
            "summary": typed["summary"] or None, "team_id": allowed_teams.get(typed["team_id"]), "worker_id": None}
    try:
        case = open_case(session, actor, person, data)
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        session.rollback()
        person = get_visible_person(session, actor, person_id)
        problems = {k: str(v) for k, v in exc.details.items() if k in ANCHORS} or {"service_area": exc.message}
        return _case_form(person, typed, problems, 422)
    session.commit()
    return redirect(url_for("workspace.case_opened", reference=case.reference))


@blueprint.get("/cases/<reference>/opened")
@requires(Permission.RECORDS_VIEW)
def case_opened(reference: str):  # type: ignore[no-untyped-def]
    from workspace.record_views import startable_processes

    session, actor = db_session(), current_actor()
    case = view_case(session, actor, case_by_reference(session, actor, reference).id)  # audited as a case view
    person = get_visible_person(session, actor, case.person_id)
    can_start = actor.can(Permission.WORK) and actor.can(Permission.RECORDS_EDIT) and case.status == "open" \
        and CONTACT_PROCESS in dict(startable_processes())
    team = session.get(Team, case.team_id) if case.team_id else None
    session.commit()  # the audit row of the view
    return render_template("workspace/case_opened.html", title=f"Case {case.reference} opened", case=case,
                           person=person, team=team, can_start=can_start, process_key=CONTACT_PROCESS,
                           areas=codes.SERVICE_AREAS, reasons=codes.CASE_OPEN_REASONS)
