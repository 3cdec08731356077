"""Service agreements (care packages), direct payments and one-off payments: request, authorise, reject, end.

Every check runs before the first write, so refused input leaves nothing behind.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.db import utcnow
from casework.errors import Conflict, Invalid, NotFound
from casework.finance import money, schedule
from casework.finance.codes import KINDS, SERVICE_TYPES, UNITS, AgreementStatus
from casework.finance.common import check_version, load, local_date
from casework.finance.models import Agreement, Provider
from casework.finance.providers import find_provider
from casework.records.models import Case, Person

MAX_PAGE = 200
MAX_UNIT_COST_PENCE = 10_000_000  # GBP 100,000 per unit: anything above is a typing error


class AgreementInput(Schema):
    """A request for a service agreement, direct payment or one-off payment. Money in integer pence."""

    class Meta:
        unknown = RAISE

    kind = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(sorted(KINDS)))
    person_id = fields.Int(strict=True, load_default=None, allow_none=True)
    case_id = fields.Int(strict=True, load_default=None, allow_none=True)
    case_reference = fields.Str(load_default=None, allow_none=True)
    provider_id = fields.Int(strict=True, load_default=None, allow_none=True)
    provider_reference = fields.Str(load_default=None, allow_none=True)
    payee_reference = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    service_type = fields.Str(required=True, validate=validate.OneOf(sorted(SERVICE_TYPES)))
    unit = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(sorted(UNITS)))
    unit_cost_pence = fields.Int(required=True, strict=True, validate=validate.Range(
        min=1, max=MAX_UNIT_COST_PENCE, error="Must be a whole number of pence from 1 to 10000000"))
    units_per_week = fields.Decimal(required=True, allow_nan=False, as_string=False)
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    process_instance_id = fields.Int(strict=True, load_default=None, allow_none=True)
    requested_by = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=120))
    cost_code = fields.Str(load_default=None, allow_none=True,
                           validate=validate.Regexp(r"^[A-Z0-9]{2,12}$", error="2 to 12 capital letters or digits"))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, str] = {}
        st = SERVICE_TYPES.get(data.get("service_type") or "")
        kind = data.get("kind") or (st.kind if st else None)
        unit = data.get("unit") or ("item" if kind == "one_off" else (st.default_unit if st else None))
        units = data.get("units_per_week")
        if units is not None:
            if units <= 0:
                errors["units_per_week"] = "Must be more than 0"
            elif units != units.quantize(Decimal("0.01")):
                errors["units_per_week"] = "At most 2 decimal places"
            elif unit in UNITS and units > UNITS[unit]:
                errors["units_per_week"] = f"At most {UNITS[unit]} per week for unit '{unit}'"
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            errors["end_date"] = "Must be on or after the start date"
        if kind == "one_off":
            if unit != "item":
                errors["unit"] = "A one-off payment is paid per item"
            if start and end and end != start:
                errors["end_date"] = "A one-off payment has a single date (leave end_date empty)"
        elif unit == "item":
            errors["unit"] = "'item' is only for one-off payments"
        if data.get("person_id") is None and not data.get("case_id") and not data.get("case_reference"):
            errors["person_id"] = "Give the person (or the case)"
        if errors:
            raise MValidationError(errors)


def agreement_kind(values: dict[str, Any]) -> str:
    return values.get("kind") or SERVICE_TYPES[values["service_type"]].kind


def _resolve(session: Session, values: dict[str, Any]) -> tuple[Person, Case | None, Provider | None]:
    errors: dict[str, str] = {}
    case: Case | None = None
    if values.get("case_id") is not None:
        case = session.get(Case, values["case_id"])
        if case is None:
            errors["case_id"] = "No such case"
    elif values.get("case_reference"):
        case = session.scalar(select(Case).where(Case.reference == values["case_reference"]))
        if case is None:
            errors["case_reference"] = "No such case"
    person_id = values.get("person_id") if values.get("person_id") is not None else (case.person_id if case else None)
    person = session.get(Person, person_id) if person_id is not None else None
    if person is None and "case_id" not in errors and "case_reference" not in errors:
        errors["person_id"] = "No such person"
    if case is not None and person is not None and case.person_id != person.id:
        errors["case_id"] = "That case belongs to another person"
    kind = agreement_kind(values)
    provider = None
    if values.get("provider_id") is not None or values.get("provider_reference"):
        provider = find_provider(session, provider_id=values.get("provider_id"),
                                 reference=values.get("provider_reference"))
        field = "provider_id" if values.get("provider_id") is not None else "provider_reference"
        if provider is None:
            errors[field] = "No such provider"
        elif not provider.active:
            errors[field] = "That provider is not active"
    elif kind == "service":
        errors["provider_id"] = "A service agreement needs a provider"
    elif not values.get("payee_reference"):
        errors["payee_reference"] = "Give the provider or the payee's bank details reference"
    if errors:
        raise Invalid("Check the agreement details", details=errors)
    assert person is not None
    return person, case, provider


def _fields(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Validated agreement columns from request data (raises Invalid before anything is written)."""
    values = load(AgreementInput(), data, "Check the agreement details")
    person, case, provider = _resolve(session, values)
    st = SERVICE_TYPES[values["service_type"]]
    kind = agreement_kind(values)
    return {
        "kind": kind, "cost_code": values.get("cost_code"), "person_id": person.id,
        "case_id": case.id if case else None, "provider_id": provider.id if provider else None,
        "payee_reference": values.get("payee_reference"), "service_type": st.code,
        "unit": values.get("unit") or ("item" if kind == "one_off" else st.default_unit),
        "unit_cost_pence": values["unit_cost_pence"], "units_per_week": Decimal(values["units_per_week"]),
        "start_date": values["start_date"],
        "end_date": values["start_date"] if kind == "one_off" else values.get("end_date"),
        "process_instance_id": values.get("process_instance_id"), "requested_by": values.get("requested_by"),
    }


def request_agreement(session: Session, data: dict[str, Any], *, now: datetime | None = None) -> Agreement:
    """Record a requested agreement (status requested). Returns it with id, reference and costs."""
    fields_ = _fields(session, data)
    now = now or utcnow()
    agreement = Agreement(**fields_, status=AgreementStatus.REQUESTED, created_at=now, updated_at=now)
    session.add(agreement)
    session.flush()
    agreement.reference = f"SA-{agreement.id:07d}"
    session.flush()
    return agreement


def revise(session: Session, agreement: Agreement, data: dict[str, Any], *, now: datetime | None = None
           ) -> Agreement:
    """Replace the details of a still-requested agreement (a request returned for changes and sent again)."""
    if agreement.status != AgreementStatus.REQUESTED:
        raise Conflict(f"Agreement {agreement.reference} is {agreement.status}; only a requested agreement can be "
                       "changed", code="agreement_state")
    fields_ = _fields(session, data)
    for key, value in fields_.items():
        if key in ("process_instance_id", "requested_by") and value is None:
            continue
        setattr(agreement, key, value)
    _touch(agreement, now or utcnow())
    session.flush()
    return agreement


def get_agreement(session: Session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound("No such agreement")
    return agreement


def find_by_instance(session: Session, instance_id: int) -> Agreement | None:
    return session.scalar(select(Agreement).where(Agreement.process_instance_id == instance_id)
                          .order_by(Agreement.id.desc()).limit(1))


def _touch(agreement: Agreement, now: datetime) -> None:
    agreement.version += 1
    agreement.updated_at = now


def authorise(session: Session, agreement: Agreement, *, authorised_by: str, now: datetime | None = None,
              today: date | None = None) -> Agreement:
    """requested -> authorised, then create its payment schedule. Repeating it is harmless (idempotent)."""
    now = now or utcnow()
    horizon_from = today or local_date(now)
    if agreement.status == AgreementStatus.AUTHORISED:  # again (e.g. a retried service task): fill any gap
        schedule.generate(session, agreement, through=schedule.default_horizon(agreement, horizon_from))
        return agreement
    if agreement.status != AgreementStatus.REQUESTED:
        raise Conflict(f"Agreement {agreement.reference} is {agreement.status}; only a requested agreement can be "
                       "authorised", code="agreement_state")
    agreement.status = AgreementStatus.AUTHORISED
    agreement.authorised_by = authorised_by
    agreement.authorised_at = now
    _touch(agreement, now)
    session.flush()
    schedule.generate(session, agreement, through=schedule.default_horizon(agreement, horizon_from))
    return agreement


def reject(session: Session, agreement: Agreement, *, reason: str, rejected_by: str | None = None,
           now: datetime | None = None) -> Agreement:
    if agreement.status == AgreementStatus.REJECTED:
        return agreement
    if agreement.status != AgreementStatus.REQUESTED:
        raise Conflict(f"Agreement {agreement.reference} is {agreement.status}; only a requested agreement can be "
                       "rejected", code="agreement_state")
    if not reason or not reason.strip():
        raise Invalid("Give the reason for rejecting", details={"reason": "Enter the reason"})
    now = now or utcnow()
    agreement.status = AgreementStatus.REJECTED
    agreement.decision_reason = reason.strip() + (f" ({rejected_by})" if rejected_by else "")
    _touch(agreement, now)
    session.flush()
    return agreement


def end(session: Session, agreement: Agreement, *, end_date: date, reason: str, version: int | None = None,
        now: datetime | None = None) -> dict[str, int]:
    """End (cancel) an authorised agreement on `end_date`: pending lines after it are cancelled, the line
    that contains it is re-pro-rated. Exported lines are never changed; money paid for days after the end
    date is reported as ``overpaid_pence`` (for the finance team to recover)."""
    if version is not None:
        check_version(agreement, version)
    if agreement.status not in AgreementStatus.PAYABLE:
        raise Conflict(f"Agreement {agreement.reference} is {agreement.status}; only an authorised agreement can "
                       "be ended", code="agreement_state")
    errors = {}
    if end_date < agreement.start_date:
        errors["end_date"] = "Must be on or after the agreement's start date"
    elif agreement.end_date is not None and end_date > agreement.end_date:
        errors["end_date"] = f"Must be on or before the current end date {agreement.end_date.isoformat()}"
    if not reason or not reason.strip():
        errors["reason"] = "Enter the reason"
    if errors:
        raise Invalid("Check the end details", details=errors)
    now = now or utcnow()
    agreement.end_date = end_date
    agreement.status = AgreementStatus.ENDED
    agreement.decision_reason = reason.strip()
    _touch(agreement, now)
    session.flush()
    return schedule.apply_end_date(session, agreement)


def cancel(session: Session, agreement: Agreement, *, reason: str, version: int | None = None,
           now: datetime | None = None) -> dict[str, int]:
    """Stop every payment of an authorised agreement that has not been exported yet (e.g. a one-off payment
    not yet paid, or a package that never started). The end date becomes the last day already paid (or the
    start date), so no new lines are generated."""
    if version is not None:
        check_version(agreement, version)
    if agreement.status not in AgreementStatus.PAYABLE:
        raise Conflict(f"Agreement {agreement.reference} is {agreement.status}; only an authorised agreement can "
                       "be cancelled", code="agreement_state")
    if not reason or not reason.strip():
        raise Invalid("Give the reason for cancelling", details={"reason": "Enter the reason"})
    paid_until = schedule.last_exported_day(session, agreement.id)
    end = max(agreement.start_date, paid_until) if paid_until else agreement.start_date
    if agreement.end_date is not None and agreement.status == AgreementStatus.ENDED:
        # already ended earlier than the last paid day: keep that end, so the overpayment stays visible
        end = min(end, agreement.end_date)
    agreement.end_date = end
    agreement.status = AgreementStatus.ENDED
    agreement.decision_reason = f"Cancelled: {reason.strip()}"
    _touch(agreement, now or utcnow())
    session.flush()
    return {"cancelled_lines": schedule.cancel_pending(session, agreement.id), "overpaid_pence": 0}


def list_agreements(session: Session, *, person_id: int | None = None, provider_id: int | None = None,
                    status: str | None = None, case_id: int | None = None, limit: int = 50, offset: int = 0
                    ) -> tuple[list[Agreement], int]:
    stmt = select(Agreement)
    if person_id is not None:
        stmt = stmt.where(Agreement.person_id == person_id)
    if provider_id is not None:
        stmt = stmt.where(Agreement.provider_id == provider_id)
    if case_id is not None:
        stmt = stmt.where(Agreement.case_id == case_id)
    if status:
        stmt = stmt.where(Agreement.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Agreement.id.desc()).limit(min(limit, MAX_PAGE)).offset(offset))
    return list(rows.unique()), total


def costs(agreement: Agreement) -> dict[str, int]:
    return {"weekly_cost_pence": agreement.weekly_cost_pence, "annual_cost_pence": agreement.annual_cost_pence}


def quote(unit_cost_pence: int, units_per_week: Decimal, service_type: str) -> dict[str, int]:
    kind = SERVICE_TYPES[service_type].kind if service_type in SERVICE_TYPES else "service"
    return {"weekly_cost_pence": money.weekly_cost_pence(unit_cost_pence, units_per_week),
            "annual_cost_pence": money.annual_cost_pence(unit_cost_pence, units_per_week, kind=kind)}
