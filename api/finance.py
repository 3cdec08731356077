"""Finance API (finance officers): providers, agreements, payment runs and their CSV files."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy.exc import OperationalError

from api import blueprint
from api.openapi import documented
from casework import audit
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.errors import Invalid
from casework.finance import agreements, providers, runs, schedule
from casework.finance.codes import KINDS, SERVICE_TYPES, UNITS, AgreementStatus
from casework.finance.common import load, local_date
from casework.finance.providers import ProviderInput, ProviderUpdate
from casework.web.context import current_actor, db_session
from casework.web.downloads import payment_file


class ProviderSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    reference = fields.Str()
    cqc_location_id = fields.Str(allow_none=True)
    bank_details_reference = fields.Str(allow_none=True)
    active = fields.Bool()
    version = fields.Int()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProviderVersionSchema(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Int(required=True, strict=True)


class ScheduleLineSchema(Schema):
    id = fields.Int()
    period_start = fields.Date()
    period_end = fields.Date()
    units = fields.Decimal(as_string=True)
    amount_pence = fields.Int()
    status = fields.Str()
    payment_run_id = fields.Int(allow_none=True)


class AgreementSchema(Schema):
    id = fields.Int()
    reference = fields.Str()
    kind = fields.Str()
    person_id = fields.Int()
    case_id = fields.Int(allow_none=True)
    provider_id = fields.Int(allow_none=True)
    provider_name = fields.Function(lambda a: a.provider.name if a.provider else None)
    payee_reference = fields.Str(allow_none=True)
    service_type = fields.Str()
    unit = fields.Str()
    unit_cost_pence = fields.Int()
    units_per_week = fields.Decimal(as_string=True)
    weekly_cost_pence = fields.Int()
    annual_cost_pence = fields.Int()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    status = fields.Str()
    process_instance_id = fields.Int(allow_none=True)
    requested_by = fields.Str(allow_none=True)
    authorised_by = fields.Str(allow_none=True)
    authorised_at = fields.DateTime(allow_none=True)
    decision_reason = fields.Str(allow_none=True)
    version = fields.Int()


class AgreementEndSchema(Schema):
    class Meta:
        unknown = RAISE

    end_date = fields.Date(required=True)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    version = fields.Int(required=True, strict=True)


class AgreementCancelSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    version = fields.Int(required=True, strict=True)


class PaymentRunCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    period_end = fields.Date(required=True)
    # the `digest` of GET /finance/payment-runs/preview: the run is kept only if it pays exactly those lines
    expected_digest = fields.Str(load_default=None, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class PaymentRunPreviewQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    period_end = fields.Date(required=True)


class PaymentRunSchema(Schema):
    id = fields.Int()
    period_end = fields.Date()
    status = fields.Str()
    line_count = fields.Int()
    total_pence = fields.Int()
    file_name = fields.Str(allow_none=True)
    file_sha256 = fields.Str(allow_none=True)
    created_by = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    download_count = fields.Int()


class DueLineSchema(Schema):
    agreement_id = fields.Int()
    period_start = fields.Date()
    period_end = fields.Date()
    amount_pence = fields.Int()
    line_id = fields.Int(allow_none=True)  # null: a schedule line the run adds first


class PaymentRunPreviewSchema(Schema):
    period_end = fields.Date()
    line_count = fields.Int()
    agreement_count = fields.Int()
    total_pence = fields.Int()
    digest = fields.Str()
    latest_run_id = fields.Int()
    paid_by = fields.Nested(PaymentRunSchema, allow_none=True)
    lines = fields.List(fields.Nested(DueLineSchema))


def _now():  # type: ignore[no-untyped-def]
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def _int_arg(name: str, default: int | None = None, *, maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a whole number", details={name: "Must be a whole number"}) from None
    if value < 0 or (maximum is not None and value > maximum):
        raise Invalid(f"{name} is out of range", details={name: f"Must be 0 to {maximum}"})
    return value


def _page() -> tuple[int, int]:
    return _int_arg("limit", 50, maximum=200) or 50, _int_arg("offset", 0) or 0


def _body() -> Any:
    return request.get_json(silent=False)


# ---- code lists ---------------------------------------------------------------------------------------------

@blueprint.get("/finance/service-types")
@requires(Permission.FINANCE)
@documented("Service types, agreement kinds and units")
def finance_codes():  # type: ignore[no-untyped-def]
    return {"service_types": [{"code": s.code, "label": s.label, "kind": s.kind, "default_unit": s.default_unit}
                              for s in SERVICE_TYPES.values()],
            "kinds": KINDS, "units": UNITS}


# ---- providers ----------------------------------------------------------------------------------------------

@blueprint.get("/finance/providers")
@requires(Permission.FINANCE)
@documented("List providers", response=ProviderSchema(many=True),
            query={"q": "name or reference contains", "active": "true|false", "limit": "max 200", "offset": ""})
def finance_providers():  # type: ignore[no-untyped-def]
    limit, offset = _page()
    active_arg = request.args.get("active")
    active = None if active_arg in (None, "") else active_arg.lower() in ("1", "true", "yes")
    rows, total = providers.list_providers(db_session(), q=request.args.get("q"), active=active, limit=limit,
                                           offset=offset)
    return {"items": ProviderSchema(many=True).dump(rows), "total": total}


@blueprint.post("/finance/providers")
@requires(Permission.FINANCE)
@documented("Create a provider (bank details reference only, never bank details)", body=ProviderInput,
            response=ProviderSchema, status=201)
def finance_provider_create():  # type: ignore[no-untyped-def]
    session = db_session()
    provider = providers.create_provider(session, _body(), user_id=current_actor().user_id)
    audit.record(session, current_actor(), "create", record_type="finance_provider", record_id=provider.id)
    session.commit()
    return ProviderSchema().dump(provider), 201


@blueprint.get("/finance/providers/<int:provider_id>")
@requires(Permission.FINANCE)
@documented("A provider", response=ProviderSchema)
def finance_provider(provider_id: int):  # type: ignore[no-untyped-def]
    return ProviderSchema().dump(providers.get_provider(db_session(), provider_id))


@blueprint.patch("/finance/providers/<int:provider_id>")
@requires(Permission.FINANCE)
@documented("Update a provider (send the version you read; a stale version gets 409)", body=ProviderUpdate,
            response=ProviderSchema)
def finance_provider_update(provider_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    body = _body()
    provider = providers.update_provider(session, provider_id, body, user_id=current_actor().user_id)
    audit.record(session, current_actor(), "update", record_type="finance_provider", record_id=provider.id,
                 fields=sorted(k for k in body if k != "version"))
    session.commit()
    return ProviderSchema().dump(provider)


@blueprint.delete("/finance/providers/<int:provider_id>")
@requires(Permission.FINANCE)
@documented("Delete a provider that has no agreements (otherwise make it inactive)", body=ProviderVersionSchema,
            status=204)
def finance_provider_delete(provider_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    data = load(ProviderVersionSchema(), _body())
    providers.delete_provider(session, provider_id, version=data["version"])
    audit.record(session, current_actor(), "delete", record_type="finance_provider", record_id=provider_id)
    session.commit()
    return "", 204


# ---- agreements ---------------------------------------------------------------------------------------------

@blueprint.get("/finance/agreements")
@requires(Permission.FINANCE)
@documented("List agreements with weekly and annual cost", response=AgreementSchema(many=True),
            query={"person_id": "", "case_id": "", "provider_id": "", "status": "requested|authorised|rejected|ended",
                   "limit": "max 200", "offset": ""})
def finance_agreements():  # type: ignore[no-untyped-def]
    status = request.args.get("status") or None
    if status is not None and status not in AgreementStatus.ALL:
        raise Invalid("Unknown status", details={"status": f"One of {', '.join(AgreementStatus.ALL)}"})
    limit, offset = _page()
    rows, total = agreements.list_agreements(
        db_session(), person_id=_int_arg("person_id"), provider_id=_int_arg("provider_id"),
        case_id=_int_arg("case_id"), status=status, limit=limit, offset=offset)
    return {"items": AgreementSchema(many=True).dump(rows), "total": total}


@blueprint.post("/finance/agreements")
@requires(Permission.FINANCE)
@documented("Record a requested agreement (authorisation happens in the payment authorisation process)",
            body=agreements.AgreementInput, response=AgreementSchema, status=201)
def finance_agreement_create():  # type: ignore[no-untyped-def]
    session = db_session()
    data = _body()
    if isinstance(data, dict):
        data = {**data, "requested_by": current_actor().username}
    agreement = agreements.request_agreement(session, data, now=_now())
    audit.record(session, current_actor(), "create", record_type="finance_agreement", record_id=agreement.id,
                 person_id=agreement.person_id)
    session.commit()
    return AgreementSchema().dump(agreement), 201


@blueprint.get("/finance/agreements/<int:agreement_id>")
@requires(Permission.FINANCE)
@documented("An agreement with its costs and payment schedule", response=AgreementSchema)
def finance_agreement(agreement_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    agreement = agreements.get_agreement(session, agreement_id)
    return AgreementSchema().dump(agreement) | {
        "schedule": ScheduleLineSchema(many=True).dump(schedule.lines_for(session, agreement.id)),
        "schedule_summary": schedule.schedule_summary(session, agreement.id)}


@blueprint.post("/finance/agreements/<int:agreement_id>/end")
@requires(Permission.FINANCE)
@documented("End (cancel) an authorised agreement: no payments for periods after the end date",
            body=AgreementEndSchema, response=AgreementSchema)
def finance_agreement_end(agreement_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    data = load(AgreementEndSchema(), _body())
    agreement = agreements.get_agreement(session, agreement_id)
    outcome = agreements.end(session, agreement, end_date=data["end_date"], reason=data["reason"],
                             version=data["version"], now=_now())
    audit.record(session, current_actor(), "update", record_type="finance_agreement", record_id=agreement.id,
                 person_id=agreement.person_id, fields=["end_date", "status"], reason=data["reason"])
    session.commit()
    return AgreementSchema().dump(agreement) | outcome


@blueprint.post("/finance/agreements/<int:agreement_id>/cancel")
@requires(Permission.FINANCE)
@documented("Cancel an authorised agreement: every payment not yet exported is stopped",
            body=AgreementCancelSchema, response=AgreementSchema)
def finance_agreement_cancel(agreement_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    data = load(AgreementCancelSchema(), _body())
    agreement = agreements.get_agreement(session, agreement_id)
    outcome = agreements.cancel(session, agreement, reason=data["reason"], version=data["version"], now=_now())
    audit.record(session, current_actor(), "update", record_type="finance_agreement", record_id=agreement.id,
                 person_id=agreement.person_id, fields=["end_date", "status"], reason=data["reason"])
    session.commit()
    return AgreementSchema().dump(agreement) | outcome


# ---- payment runs -------------------------------------------------------------------------------------------

@blueprint.get("/finance/payment-runs")
@requires(Permission.FINANCE)
@documented("List payment runs", response=PaymentRunSchema(many=True), query={"limit": "max 200", "offset": ""})
def finance_runs():  # type: ignore[no-untyped-def]
    limit, offset = _page()
    rows, total = runs.list_runs(db_session(), limit=limit, offset=offset)
    return {"items": PaymentRunSchema(many=True).dump(rows), "total": total}


@blueprint.get("/finance/payment-runs/preview")
@requires(Permission.FINANCE)
@documented("What a payment run up to period_end would pay now, writing nothing: every line (line_id null for "
            "a line the run adds first), the total, a digest to pass as expected_digest when creating the run, "
            "and paid_by, the newest run whose period end covers this one",
            response=PaymentRunPreviewSchema, query={"period_end": "YYYY-MM-DD, required; not in the future"})
def finance_run_preview():  # type: ignore[no-untyped-def]
    data = load(PaymentRunPreviewQuerySchema(), request.args.to_dict())
    preview = runs.preview_run(db_session(), data["period_end"], today=local_date(_now()))
    return PaymentRunPreviewSchema().dump({
        "period_end": preview.period_end, "line_count": len(preview.lines),
        "agreement_count": preview.agreement_count, "total_pence": preview.total_pence, "digest": preview.digest,
        "latest_run_id": preview.latest_run_id, "paid_by": preview.paid_by, "lines": preview.lines})


@blueprint.post("/finance/payment-runs")
@requires(Permission.FINANCE)
@documented("Collect due payments up to period_end and export them (each payment exported exactly once). "
            "A run that would pay nothing is refused: 409 already_paid (details.run_id names the run that paid "
            "up to this period end, e.g. a repeated request), 409 run_in_progress, 422 nothing_due. With "
            "expected_digest (from the preview) the run is made only if it pays exactly the previewed lines "
            "(else 409 preview_changed); nothing is written when refused",
            body=PaymentRunCreateSchema, response=PaymentRunSchema, status=201)
def finance_run_create():  # type: ignore[no-untyped-def]
    session = db_session()
    data = load(PaymentRunCreateSchema(), _body())
    now = _now()
    try:
        run = runs.create_run(session, period_end=data["period_end"], created_by=current_actor().username,
                              today=local_date(now), now=now, expected_digest=data["expected_digest"])
    except OperationalError as exc:
        conflict = runs.busy_conflict(exc)
        if conflict is None:
            raise
        raise conflict from None
    audit.record(session, current_actor(), "export", record_type="finance_payment_run", record_id=run.id)
    session.commit()
    return PaymentRunSchema().dump(run), 201


@blueprint.get("/finance/payment-runs/<int:run_id>")
@requires(Permission.FINANCE)
@documented("A payment run", response=PaymentRunSchema)
def finance_run(run_id: int):  # type: ignore[no-untyped-def]
    return PaymentRunSchema().dump(runs.get_run(db_session(), run_id))


@blueprint.get("/finance/payment-runs/<int:run_id>/file")
@requires(Permission.FINANCE)
@documented("Download the run's CSV file again (the same bytes each time)")
def finance_run_file(run_id: int):  # type: ignore[no-untyped-def]
    return payment_file(run_id)
