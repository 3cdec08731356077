"""Finance pages for finance officers: agreements (list, one agreement with its payment lines and the payment
authorisation process it came from) and payment runs (list, prepare -> preview -> confirm, one run with its
lines, download its file). The services in casework.finance do the work, as they do for api/finance.py.

Preview writes nothing: the finance service's ``runs.preview_run`` names exactly the lines ``runs.create_run``
would pay (the same selection code). Confirming sends the preview's digest; the service keeps the run only if
it paid exactly those lines (otherwise it writes nothing and the new figures are shown with a 409 error), so a
second submit of the same preview, or a run made by someone else in between, never pays anything twice or
anything the officer did not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from casework import audit
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Conflict, Invalid
from casework.finance import agreements, export, providers, runs, schedule
from casework.finance.codes import KINDS, SERVICE_TYPES, AgreementStatus, LineStatus
from casework.finance.common import local_date
from casework.finance.models import Agreement, PaymentRun, ScheduleLine
from casework.records.access import visible_case_ids, visible_person_ids
from casework.records.models_case import Case, CaseProcess
from casework.records.models_person import Person
from casework.web.context import current_actor, db_session
from casework.web.downloads import payment_file
from casework.web.navigation import NavEntry, register_nav
from engine.schema import process_definition, process_instance
from workspace import services
from workspace.views import blueprint

register_nav(NavEntry("Finance", "workspace.finance_agreements", Permission.FINANCE, order=50))

PER_PAGE = 25
RUN_LINES_PER_PAGE = 100
AGREEMENT_LINES_PER_PAGE = 50
REASON_MAX = 2000
PREVIEW_ROWS = 200
STATUS_LABELS = {AgreementStatus.REQUESTED: "Requested", AgreementStatus.AUTHORISED: "Active",
                 AgreementStatus.ENDED: "Ended", AgreementStatus.REJECTED: "Rejected"}
STATUS_TAGS = {AgreementStatus.REQUESTED: "govuk-tag--yellow", AgreementStatus.AUTHORISED: "govuk-tag--green",
               AgreementStatus.ENDED: "govuk-tag--grey", AgreementStatus.REJECTED: "govuk-tag--red"}
LINE_LABELS = {LineStatus.PENDING: "Not paid yet", LineStatus.EXPORTED: "Paid", LineStatus.CANCELLED: "Cancelled"}
FIRST_YEAR = 2000


# ---- template helpers ---------------------------------------------------------------------------------------

@blueprint.app_template_filter("finance_pounds")
def _pounds(pence: int | None) -> str:
    if pence is None:
        return "–"
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"


@blueprint.app_template_filter("finance_date")
def _date(value: date | None) -> str:
    if value is None:
        return "–"
    return f"{value.day} {value:%B %Y}"


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        return 1


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _people(person_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Person id -> name, only for people the records policy lets this user see ("Restricted record" else)."""
    actor = current_actor()
    ids = sorted(person_ids)
    if not ids:
        return {}
    visible = visible_person_ids(db_session(), actor, ids) if actor.can(Permission.RECORDS_VIEW) else set()
    names = {pid: f"{preferred or fore} {sur}" for pid, fore, preferred, sur in db_session().execute(
        select(Person.id, Person.forename, Person.preferred_name, Person.surname)
        .where(Person.id.in_(sorted(visible))))} if visible else {}
    return {pid: {"visible": pid in visible, "name": names.get(pid, "Restricted record")} for pid in ids}


# ---- agreements ---------------------------------------------------------------------------------------------

@blueprint.get("/finance/agreements")
@requires(Permission.FINANCE)
def finance_agreements():  # type: ignore[no-untyped-def]
    session = db_session()
    status = request.args.get("status") or ""
    provider_text = (request.args.get("provider") or "").strip()
    errors: dict[str, str] = {}
    if status and status not in AgreementStatus.ALL:
        errors["status"] = "Choose a status from the list"
    provider_id = None
    if provider_text:
        try:
            provider_id = int(provider_text)
        except ValueError:
            errors["provider"] = "Choose a provider from the list"
        else:
            if providers.find_provider(session, provider_id=provider_id) is None:
                errors["provider"] = "Choose a provider from the list"
    page = _page_number()
    rows: list[Agreement] = []
    total = 0
    if not errors:
        rows, total = agreements.list_agreements(session, provider_id=provider_id, status=status or None,
                                                 limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    provider_options, _count = providers.list_providers(session, limit=providers.MAX_PAGE)
    return render_template(
        "workspace/finance_agreements.html", title="Agreements", rows=rows, total=total, page=page,
        pages=_pages(total, PER_PAGE), status=status, provider=provider_text, provider_options=provider_options,
        people=_people({a.person_id for a in rows}), status_labels=STATUS_LABELS, status_tags=STATUS_TAGS,
        service_types=SERVICE_TYPES, errors=errors), 422 if errors else 200


def _process(instance_id: int | None) -> dict[str, Any] | None:
    """The payment authorisation process an agreement came from; ``visible``: the user may open its page
    (/processes/<id> shows only instances of a case the user may see)."""
    if instance_id is None:
        return None
    row = services.conn().execute(
        select(process_instance.c.id, process_instance.c.process_key, process_instance.c.status,
               process_definition.c.name)
        .join(process_definition, process_definition.c.id == process_instance.c.definition_id)
        .where(process_instance.c.id == instance_id)).mappings().first()
    info: dict[str, Any] = {"id": instance_id, "name": (row["name"] or row["process_key"]) if row else None,
                            "status": row["status"] if row else None, "visible": False}
    actor = current_actor()
    if row is not None and actor.can(Permission.RECORDS_VIEW):
        case_id = db_session().scalar(select(CaseProcess.case_id).where(CaseProcess.instance_id == instance_id)
                                      .limit(1))
        info["visible"] = case_id is not None and bool(visible_case_ids(db_session(), actor, [case_id]))
    return info


@blueprint.get("/finance/agreements/<int:agreement_id>")
@requires(Permission.FINANCE)
def finance_agreement(agreement_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    agreement = agreements.get_agreement(session, agreement_id)
    summary = schedule.schedule_summary(session, agreement.id)
    line_total = sum(summary[f"{status}_lines"] for status in LineStatus.ALL)
    pages = _pages(line_total, AGREEMENT_LINES_PER_PAGE)
    page = min(_page_number(), pages)
    lines = list(session.scalars(select(ScheduleLine).where(ScheduleLine.agreement_id == agreement.id)
                                 .order_by(ScheduleLine.period_start, ScheduleLine.id)
                                 .limit(AGREEMENT_LINES_PER_PAGE).offset((page - 1) * AGREEMENT_LINES_PER_PAGE)))
    case_reference = None
    if agreement.case_id is not None and current_actor().can(Permission.RECORDS_VIEW) \
            and visible_case_ids(session, current_actor(), [agreement.case_id]):
        case_reference = session.scalar(select(Case.reference).where(Case.id == agreement.case_id))
    return render_template(
        "workspace/finance_agreement.html", title=f"Agreement {agreement.reference}", a=agreement, lines=lines,
        line_total=line_total, page=page, pages=pages, per_page=AGREEMENT_LINES_PER_PAGE,
        can_end=agreement.status in AgreementStatus.PAYABLE, summary=summary, person=_people({agreement.person_id})[
            agreement.person_id], case_reference=case_reference, process=_process(agreement.process_instance_id),
        names=services.display_names({agreement.requested_by or "", agreement.authorised_by or ""}),
        status_labels=STATUS_LABELS, status_tags=STATUS_TAGS, line_labels=LINE_LABELS,
        service=SERVICE_TYPES.get(agreement.service_type), kinds=KINDS)


def _date_from_parts(parts: dict[str, str], label: str) -> tuple[date | None, str | None]:
    """A GOV.UK date input -> (date, None) or (None, error message naming ``label``, e.g. "end date")."""
    missing = [name for name in ("day", "month", "year") if not parts[name]]
    if len(missing) == 3:
        return None, f"Enter the {label}"
    if missing:
        return None, f"The {label} must include a {' and '.join(missing)}"
    try:
        value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        return None, f"The {label} must be a real date"
    if value.year < FIRST_YEAR:
        return None, f"The {label} must be in {FIRST_YEAR} or later"
    return value, None


def _end_date_from_parts(parts: dict[str, str]) -> tuple[date | None, str | None]:
    """The end date; the service's own rules (not before the start date, not after the current end date) are
    checked by ``agreements.end``."""
    return _date_from_parts(parts, "end date")


def _error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    anchors = {"end_date": "#end_date-day", "version": "#stop-heading"}
    return [{"text": message, "href": anchors.get(name, f"#{name}")} for name, message in errors.items()]


def _stop_page(agreement: Agreement, action: str, *, errors: dict[str, str] | None = None,
               parts: dict[str, str] | None = None, reason: str = "", version: int | None = None,
               status: int = 200):  # type: ignore[no-untyped-def]
    """The end or cancel page of an agreement (``action``: "end" or "cancel")."""
    session = db_session()
    errors = errors or {}
    paid_until = schedule.last_exported_day(session, agreement.id)
    summary = schedule.schedule_summary(session, agreement.id)
    verb = "End" if action == "end" else "Cancel"
    return render_template(
        "workspace/finance_agreement_stop.html", title=f"{verb} agreement {agreement.reference}", a=agreement,
        action=action, errors=errors, error_list=_error_list(errors),
        parts=parts or {"day": "", "month": "", "year": ""}, reason=reason,
        version=agreement.version if version is None else version, paid_until=paid_until, summary=summary,
        can_stop=agreement.status in AgreementStatus.PAYABLE, status_labels=STATUS_LABELS), status


@blueprint.get("/finance/agreements/<int:agreement_id>/end")
@requires(Permission.FINANCE)
def finance_agreement_end_form(agreement_id: int):  # type: ignore[no-untyped-def]
    agreement = agreements.get_agreement(db_session(), agreement_id)
    return _stop_page(agreement, "end")


@blueprint.get("/finance/agreements/<int:agreement_id>/cancel")
@requires(Permission.FINANCE)
def finance_agreement_cancel_form(agreement_id: int):  # type: ignore[no-untyped-def]
    agreement = agreements.get_agreement(db_session(), agreement_id)
    return _stop_page(agreement, "cancel")


def _stop(agreement_id: int, action: str):  # type: ignore[no-untyped-def]
    """POST end / cancel: the finance service decides (its rules, its version check); a refusal writes nothing
    and is shown with the GOV.UK error summary (422 for the details, 409 for a stale page or an agreement that
    is no longer active). Audited as the API does."""
    session = db_session()
    actor = current_actor()
    agreement = agreements.get_agreement(session, agreement_id)
    reason = (request.form.get("reason") or "").strip()
    parts = {p: (request.form.get(f"end_date-{p}") or "").strip()[:10] for p in ("day", "month", "year")}
    try:
        version = int(request.form.get("version") or "")
    except ValueError:
        version = None
    errors: dict[str, str] = {}
    end_date = None
    if action == "end":
        end_date, problem = _end_date_from_parts(parts)
        if problem:
            errors["end_date"] = problem
    if not reason:
        errors["reason"] = "Enter the reason for " + ("ending" if action == "end" else "cancelling") + \
            " the agreement"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
    if version is None:
        errors["version"] = "Open the agreement again and make your change"
    if errors:
        return _stop_page(agreement, action, errors=errors, parts=parts, reason=reason, version=version,
                          status=422)
    try:
        if action == "end":
            assert end_date is not None
            outcome = agreements.end(session, agreement, end_date=end_date, reason=reason, version=version,
                                     now=services.now())
        else:
            outcome = agreements.cancel(session, agreement, reason=reason, version=version, now=services.now())
    except (Invalid, Conflict) as exc:
        session.rollback()
        agreement = agreements.get_agreement(session, agreement_id)
        status = 422 if isinstance(exc, Invalid) else 409
        details = {k: v for k, v in (exc.details or {}).items() if k in ("end_date", "reason")}
        if status == 409 or not details:
            details = {"version": exc.message}
        return _stop_page(agreement, action, errors=details, parts=parts, reason=reason,
                          version=agreement.version if status == 409 else version, status=status)
    audit.record(session, actor, "update", record_type="finance_agreement", record_id=agreement.id,
                 person_id=agreement.person_id, fields=["end_date", "status"], reason=reason)
    session.commit()
    message = (f"Agreement {agreement.reference} ended on {_date(agreement.end_date)}." if action == "end" else
               f"Agreement {agreement.reference} cancelled.")
    cancelled = outcome.get("cancelled_lines", 0)
    message += f" {cancelled} payment{'s' if cancelled != 1 else ''} not yet paid stopped."
    if outcome.get("overpaid_pence"):
        message += (f" {_pounds(outcome['overpaid_pence'])} was already paid for days after the end date: "
                    "recover it from the payee.")
    flash(message)
    return redirect(url_for("workspace.finance_agreement", agreement_id=agreement.id), code=303)


@blueprint.post("/finance/agreements/<int:agreement_id>/end")
@requires(Permission.FINANCE)
def finance_agreement_end(agreement_id: int):  # type: ignore[no-untyped-def]
    return _stop(agreement_id, "end")


@blueprint.post("/finance/agreements/<int:agreement_id>/cancel")
@requires(Permission.FINANCE)
def finance_agreement_cancel(agreement_id: int):  # type: ignore[no-untyped-def]
    return _stop(agreement_id, "cancel")


# ---- payment runs -------------------------------------------------------------------------------------------

@blueprint.get("/finance/payment-runs")
@requires(Permission.FINANCE)
def finance_runs():  # type: ignore[no-untyped-def]
    page = _page_number()
    rows, total = runs.list_runs(db_session(), limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("workspace/finance_runs.html", title="Payment runs", rows=rows, total=total, page=page,
                           pages=_pages(total, PER_PAGE),
                           names=services.display_names({r.created_by or "" for r in rows}))


@dataclass
class Preview:
    """The page's view of ``runs.preview_run``: what a payment run up to ``period_end`` would pay now."""

    period_end: date
    lines: list[runs.DueLine] = field(default_factory=list)
    by_agreement: list[dict[str, Any]] = field(default_factory=list)
    total_pence: int = 0
    digest: str = ""  # runs.lines_digest of the lines: the confirm form sends it back to create_run
    after_run: int = 0  # the newest run when previewed (to name runs made since)
    paid_by: PaymentRun | None = None  # the newest exported run covering the day (the service's preview)


def _preview(period_end: date) -> Preview:
    """The finance service's preview (``runs.preview_run``: the lines ``create_run`` would pay, nothing written),
    grouped by agreement for the page."""
    session = db_session()
    found = runs.preview_run(session, period_end)
    preview = Preview(period_end=period_end, lines=found.lines, total_pence=found.total_pence, digest=found.digest,
                      after_run=found.latest_run_id, paid_by=found.paid_by)
    groups: dict[int, dict[str, Any]] = {}
    for line in found.lines:
        g = groups.setdefault(line.agreement_id, {"agreement_id": line.agreement_id, "lines": 0,
                                                  "from": line.period_start, "to": line.period_end, "pence": 0})
        g["lines"] += 1
        g["from"], g["to"] = min(g["from"], line.period_start), max(g["to"], line.period_end)
        g["pence"] += line.amount_pence
    shown = list(groups.values())[:PREVIEW_ROWS]
    if shown:
        facts = {a.id: a for a in session.scalars(select(Agreement).where(
            Agreement.id.in_([g["agreement_id"] for g in shown])))}
        for g in shown:
            g["agreement"] = facts[g["agreement_id"]]
    preview.by_agreement = list(groups.values())
    return preview


def _today() -> date:
    return local_date(services.now())


def _period_end_from_parts(parts: dict[str, str], today: date) -> tuple[date | None, str | None]:
    """The run's period end: a real date, and not after today (payments are made in arrears)."""
    value, problem = _date_from_parts(parts, "last day the run pays for")
    if value is None:
        return None, problem
    if value > today:
        return None, ("The last day the run pays for must be today or in the past: payments are made in arrears "
                      f"(today is {_date(today)})")
    return value, None


def _last_sunday(today: date) -> date:
    return schedule.week_start(today) - timedelta(days=1)


@blueprint.get("/finance/payment-runs/new")
@requires(Permission.FINANCE)
def finance_run_new():  # type: ignore[no-untyped-def]
    today = _today()
    parts = {p: (request.args.get(f"period_end-{p}") or "").strip()[:10] for p in ("day", "month", "year")}
    if not any(name.startswith("period_end-") for name in request.args):
        default = _last_sunday(today)
        parts = {"day": str(default.day), "month": str(default.month), "year": str(default.year)}
        return render_template("workspace/finance_run_new.html", title="Prepare a payment run", parts=parts,
                               today=today, errors={})
    period_end, problem = _period_end_from_parts(parts, today)
    if problem is not None or period_end is None:
        return render_template("workspace/finance_run_new.html", title="Prepare a payment run", parts=parts,
                               today=today, errors={"period_end": problem}), 422
    return _preview_page(_preview(period_end))


def _preview_page(preview: Preview, *, status: int = 200, problem: str | None = None,
                  made_since: list[PaymentRun] | None = None):  # type: ignore[no-untyped-def]
    return render_template(
        "workspace/finance_run_preview.html", title="Check the payment run", preview=preview,
        people=_people({g["agreement"].person_id for g in preview.by_agreement if "agreement" in g}),
        shown=[g for g in preview.by_agreement if "agreement" in g], problem=problem, made_since=made_since or [],
        errors={"confirm": problem} if problem else {},
        error_list=[{"text": problem, "href": "#what-would-be-paid"}] if problem else []), status


@blueprint.post("/finance/payment-runs")
@requires(Permission.FINANCE)
def finance_run_create():  # type: ignore[no-untyped-def]
    session = db_session()
    actor = current_actor()
    today = _today()
    try:
        period_end = date.fromisoformat(request.form.get("period_end") or "")
        after_run = int(request.form.get("after_run") or "0")
    except ValueError:
        raise Invalid("Prepare the payment run again", details={"period_end": "Enter the last day the run pays for"}
                      ) from None
    expected = request.form.get("digest") or ""
    if period_end > today or period_end.year < FIRST_YEAR:
        parts = {"day": str(period_end.day), "month": str(period_end.month), "year": str(period_end.year)}
        _value, problem = _period_end_from_parts(parts, today)
        return render_template("workspace/finance_run_new.html", title="Prepare a payment run", parts=parts,
                               today=today, errors={"period_end": problem}), 422
    now = services.now()
    try:
        # the service keeps the run only if it pays exactly the previewed lines (same digest); a second submit
        # of the same preview, another run since, or a change to an agreement is refused and writes nothing
        run = runs.create_run(session, period_end=period_end, created_by=actor.username, today=today, now=now,
                              expected_digest=expected)
    except OperationalError as exc:
        conflict = runs.busy_conflict(exc)
        if conflict is None:
            raise
        session.rollback()
        return _preview_page(_preview(period_end), status=409, problem=conflict.message)
    except (Conflict, Invalid) as exc:
        if isinstance(exc, Invalid) and exc.code != "nothing_due":
            raise
        session.rollback()
        if exc.code == "run_in_progress":
            return _preview_page(_preview(period_end), status=409, problem=exc.message)
        made_since = list(session.scalars(select(PaymentRun).where(PaymentRun.id > after_run)
                                          .order_by(PaymentRun.id)))
        return _preview_page(_preview(period_end), status=409, made_since=made_since, problem=(
            "What is due changed since you checked it, so no payment run was created. "
            + ("A payment run was made meanwhile. " if made_since else "")
            + "Check the figures below and confirm again if they are right."))
    audit.record(session, actor, "export", record_type="finance_payment_run", record_id=run.id)
    session.commit()
    flash(f"Payment run {run.id} created: {run.line_count} payment{'s' if run.line_count != 1 else ''}, "
          f"{_pounds(run.total_pence)}.")
    return redirect(url_for("workspace.finance_run", run_id=run.id), code=303)


@blueprint.get("/finance/payment-runs/<int:run_id>")
@requires(Permission.FINANCE)
def finance_run(run_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    run = runs.get_run(session, run_id)
    page = _page_number()
    lines = session.execute(export.line_query(run.id).limit(RUN_LINES_PER_PAGE)
                            .offset((page - 1) * RUN_LINES_PER_PAGE)).all()
    return render_template("workspace/finance_run.html", title=f"Payment run {run.id}", run=run, lines=lines,
                           page=page, pages=_pages(run.line_count, RUN_LINES_PER_PAGE),
                           names=services.display_names({run.created_by or ""}))


@blueprint.get("/finance/payment-runs/<int:run_id>/file")
@requires(Permission.FINANCE)
def finance_run_file(run_id: int):  # type: ignore[no-untyped-def]
    return payment_file(run_id)

