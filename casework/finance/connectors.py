"""Connectors the workflow engine calls from service tasks (process 5, payment authorisation).

A connector gets only its params dict. It writes in the engine operation's transaction, through the session
whose connection the engine is using: ``casework.engine_host.current_session()`` (set by the host for
requests, the CLI and the timer worker / incident retries), or a session bound here with
``bound_session(session)`` (tests, scripts). With neither, the connector fails (the engine records an incident
with retry) instead of writing on a separate connection that would commit independently of the workflow step.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from casework.engine_host import register_connector, register_event_listener
from casework.errors import DomainError, Invalid
from casework.finance import agreements, money
from casework.finance.codes import KINDS, SERVICE_TYPES, UNITS
from casework.finance.models import Agreement
from casework.finance.providers import find_provider

_session: ContextVar[Session | None] = ContextVar("casework_finance_session", default=None)


@contextmanager
def bound_session(session: Session) -> Iterator[Session]:
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)


@contextmanager
def _unit(session: Session) -> Iterator[None]:
    """A SAVEPOINT: a connector that fails leaves nothing half-written in the engine's transaction (the
    engine records an incident and carries on; a PostgreSQL error would otherwise poison the transaction)."""
    try:
        with session.begin_nested():
            yield
    except DomainError as exc:  # the engine's incident shows str(exc): put the field messages in it
        if not exc.details:
            raise
        fields = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
        raise type(exc)(f"{exc.message} ({fields})", details=exc.details, code=exc.code) from None


def current_session() -> Session:
    session = _session.get()
    if session is not None:
        return session
    from casework.engine_host import current_session as operation_session

    return operation_session()


def _result(agreement: Agreement) -> dict[str, Any]:
    """What a service task gets back: the agreement, its costs in pence, and the same in pounds as numbers
    (``weekly_cost`` / ``annual_cost``, what the payment_approval_level decision table reads)."""
    costs = agreements.costs(agreement)
    return {"agreement_id": agreement.id, "reference": agreement.reference, "status": agreement.status,
            "kind": agreement.kind, **costs,
            "weekly_cost": money.pence_to_pounds_number(costs["weekly_cost_pence"]),
            "annual_cost": money.pence_to_pounds_number(costs["annual_cost_pence"])}


# Agreements requested in the current engine operation without a process_instance_id: a model cannot name its
# own instance (expressions see only task data), so the agreement is linked to the instance whose history
# events the same operation writes (see link_requested_agreements).
_UNLINKED = "casework_finance_unlinked_agreements"


def _unlinked(session: Session, *, take: bool) -> list[int] | None:
    """The agreement ids waiting for their instance, kept per database transaction: if the transaction rolls
    back, they are forgotten with it (never linked to a later operation's instance)."""
    root = session.get_transaction()
    if root is None:
        return None
    store = session.info.setdefault(_UNLINKED, weakref.WeakKeyDictionary())
    return store.pop(root, None) if take else store.setdefault(root, [])


def _remember_unlinked(session: Session, agreement: Agreement) -> None:
    if agreement.process_instance_id is None:
        pending = _unlinked(session, take=False)
        if pending is not None:
            pending.append(agreement.id)


def link_requested_agreements(event: dict[str, Any]) -> None:
    """Engine event listener: give agreements requested in this operation their process_instance_id (the
    instance whose events are being written, in the same transaction), so the Approvals list and finance
    can find the agreement of a payment authorisation."""
    instance_id = event.get("instance_id")
    if not instance_id:
        return
    try:
        session = current_session()
    except RuntimeError:  # an engine operation outside any session (nothing can have been requested in it)
        return
    pending = _unlinked(session, take=True) if _UNLINKED in session.info else None
    if not pending:
        return
    for agreement_id in pending:
        agreement = session.get(Agreement, agreement_id)
        if agreement is not None and agreement.process_instance_id is None:
            agreement.process_instance_id = int(instance_id)
    session.flush()


def _agreement_for(session: Session, params: dict[str, Any]) -> Agreement:
    if params.get("agreement_id") is not None:
        return agreements.get_agreement(session, int(params["agreement_id"]))
    found = agreements.find_by_instance(session, int(params["process_instance_id"]))
    if found is None:
        raise Invalid("No agreement for this process instance",
                      details={"process_instance_id": "No agreement was requested by this process"})
    return found


_DETAILS = {"kind", "person_id", "case_id", "case_reference", "provider_id", "provider_reference",
            "payee_reference", "service_type", "unit", "unit_cost_pence", "units_per_week", "start_date",
            "end_date", "process_instance_id", "requested_by", "cost_code"}
PAYMENT_TYPES = {"care_package": "service", "direct_payment": "direct_payment", "one_off": "one_off"}


def _pence(value: Any, field: str) -> int:
    try:
        return money.pounds_to_pence(value)
    except ValueError as exc:
        raise Invalid("Check the amount", details={field: f"Give pounds with at most 2 decimal places ({exc})"}
                      ) from None


def _details(session: Session, params: dict[str, Any]) -> dict[str, Any]:
    """The agreement input from connector params: the canonical fields (pence), or the payment request form's
    vocabulary (forms/payment-request: payment_type, unit_cost / one_off_amount in pounds, provider_id as the
    provider's reference or id)."""
    data = {k: v for k, v in params.items() if k in _DETAILS and v is not None}
    if "payment_type" in params:
        data["kind"] = PAYMENT_TYPES.get(params["payment_type"], params["payment_type"])
    if params.get("unit_cost") is not None:
        data["unit_cost_pence"] = _pence(params["unit_cost"], "unit_cost")
    if data.get("kind") == "one_off" and params.get("one_off_amount") is not None:
        data["unit_cost_pence"] = _pence(params["one_off_amount"], "one_off_amount")
        data.setdefault("units_per_week", "1")
        data["unit"] = "item"
    provider = data.get("provider_id")
    if isinstance(provider, str):
        if provider.isdigit():
            data["provider_id"] = int(provider)
        else:
            data.pop("provider_id")
            if data.get("kind") == "direct_payment" and find_provider(session, reference=provider) is None:
                data.setdefault("payee_reference", provider)  # a direct payment's recipient
            else:
                data["provider_reference"] = provider
    units = data.get("units_per_week")
    if isinstance(units, int | float) and not isinstance(units, bool):
        data["units_per_week"] = str(units)
    return data


def request_agreement(params: dict[str, Any]) -> dict[str, Any]:
    """Record the requested agreement (status requested) and return it with its costs. With the agreement_id
    of an earlier request of the same process, or a process_instance_id that already has a requested
    agreement, that one is updated instead (a request returned for changes and sent again).
    Without a process_instance_id, the agreement is linked to the calling instance when the engine operation
    writes its history (link_requested_agreements)."""
    session = current_session()
    with _unit(session):
        existing = None
        if params.get("agreement_id") is not None:
            existing = agreements.get_agreement(session, int(params["agreement_id"]))
        elif params.get("process_instance_id") is not None:
            existing = agreements.find_by_instance(session, int(params["process_instance_id"]))
        if existing is not None and existing.status == "requested":  # sent again after changes
            agreement = agreements.revise(session, existing, _details(session, params))
        else:
            agreement = agreements.request_agreement(session, _details(session, params))
        result = _result(agreement)
    _remember_unlinked(session, agreement)
    return result


def authorise_agreement(params: dict[str, Any]) -> dict[str, Any]:
    """Authorise a requested agreement and create its payment schedule (idempotent). A cost_code given here
    (finance's check before authorising) is recorded on the agreement first."""
    session = current_session()
    with _unit(session):
        agreement = _agreement_for(session, params)
        if params.get("cost_code") and agreement.status == "requested":
            agreement.cost_code = str(params["cost_code"]).strip()
        today = date.fromisoformat(params["today"]) if params.get("today") else None
        agreements.authorise(session, agreement, authorised_by=params["authorised_by"], today=today)
        return _result(agreement)


def create_agreement(params: dict[str, Any]) -> dict[str, Any]:
    """One step: record the agreement from its details and authorise it (schedule created).
    With agreement_id (or a process instance that already requested one) it authorises that agreement."""
    session = current_session()
    with _unit(session):
        existing = None
        if params.get("agreement_id") is not None:
            existing = agreements.get_agreement(session, int(params["agreement_id"]))
        elif params.get("process_instance_id") is not None:
            existing = agreements.find_by_instance(session, int(params["process_instance_id"]))
        agreement = existing or agreements.request_agreement(session, _details(session, params))
        agreements.authorise(session, agreement, authorised_by=params["authorised_by"])
        return _result(agreement)


def reject_agreement(params: dict[str, Any]) -> dict[str, Any]:
    session = current_session()
    with _unit(session):
        agreement = _agreement_for(session, params)
        agreements.reject(session, agreement, reason=params["reason"], rejected_by=params.get("rejected_by"))
        return _result(agreement)


def end_agreement(params: dict[str, Any]) -> dict[str, Any]:
    session = current_session()
    with _unit(session):
        agreement = _agreement_for(session, params)
        if params.get("end_date"):
            outcome = agreements.end(session, agreement, end_date=date.fromisoformat(params["end_date"]),
                                     reason=params["reason"])
        else:
            outcome = agreements.cancel(session, agreement, reason=params["reason"])
        return _result(agreement) | outcome


def calculate_cost(params: dict[str, Any]) -> dict[str, Any]:
    """Weekly and annual cost (no database) for the DMN threshold table, before anything is saved.
    Pence figures are exact; weekly_cost / annual_cost are the same in pounds, as numbers, for the DMN."""
    kind = PAYMENT_TYPES.get(params.get("payment_type", ""), None)
    if kind == "one_off" and params.get("one_off_amount") is not None:
        pence, units = _pence(params["one_off_amount"], "one_off_amount"), Decimal(1)
    elif params.get("unit_cost") is not None:
        pence, units = _pence(params["unit_cost"], "unit_cost"), Decimal(str(params.get("units_per_week", 0)))
    else:
        pence, units = int(params["unit_cost_pence"]), Decimal(str(params["units_per_week"]))
    service_type = params.get("service_type") if params.get("service_type") in SERVICE_TYPES else "home_care"
    if kind == "one_off":
        service_type = "one_off"
    result = agreements.quote(pence, units, service_type)
    return result | {"weekly_cost": money.pence_to_pounds_number(result["weekly_cost_pence"]),
                     "annual_cost": money.pence_to_pounds_number(result["annual_cost_pence"])}


_ID = {"type": "integer", "minimum": 1}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_UNITS = {"type": ["number", "string"]}
DETAILS_PROPERTIES: dict[str, Any] = {
    "person_id": _ID, "case_id": _ID, "case_reference": {"type": "string"},
    "provider_id": {"anyOf": [_ID, {"type": "string", "minLength": 1}]}, "provider_reference": {"type": "string"},
    "payee_reference": {"type": ["string", "null"]},
    "service_type": {"enum": sorted(SERVICE_TYPES)}, "unit": {"enum": sorted(UNITS)},
    "unit_cost_pence": {"type": "integer", "minimum": 1}, "units_per_week": _UNITS,
    "start_date": _DATE, "end_date": {"anyOf": [_DATE, {"type": "null"}]},
    "process_instance_id": _ID, "requested_by": {"type": "string"}, "kind": {"enum": sorted(KINDS)},
    "cost_code": {"type": ["string", "null"]},
    # the payment request form's vocabulary (amounts in pounds)
    "payment_type": {"enum": sorted(PAYMENT_TYPES)}, "unit_cost": {"type": ["number", "string", "null"]},
    "one_off_amount": {"type": ["number", "string", "null"]},
}
_TARGET = {"agreement_id": _ID, "process_instance_id": _ID}
_ONE_TARGET = {"anyOf": [{"required": ["agreement_id"]}, {"required": ["process_instance_id"]}]}

SCHEMAS: dict[str, dict[str, Any]] = {
    "finance.request_agreement": {
        "type": "object", "properties": DETAILS_PROPERTIES | {"agreement_id": {"anyOf": [_ID, {"type": "null"}]}},
        "additionalProperties": False, "required": ["service_type", "start_date"]},
    "finance.authorise_agreement": {
        "type": "object", "properties": _TARGET | {"authorised_by": {"type": "string", "minLength": 1},
                                                   "today": _DATE, "cost_code": {"type": ["string", "null"]}},
        "required": ["authorised_by"], "additionalProperties": False, **_ONE_TARGET},
    "finance.create_agreement": {
        "type": "object", "properties": DETAILS_PROPERTIES | _TARGET | {"authorised_by": {"type": "string",
                                                                                         "minLength": 1}},
        "required": ["authorised_by"], "additionalProperties": False},
    "finance.reject_agreement": {
        "type": "object", "properties": _TARGET | {"reason": {"type": "string", "minLength": 1},
                                                   "rejected_by": {"type": "string"}},
        "required": ["reason"], "additionalProperties": False, **_ONE_TARGET},
    "finance.end_agreement": {
        "type": "object", "properties": _TARGET | {"end_date": {"anyOf": [_DATE, {"type": "null"}]},
                                                   "reason": {"type": "string", "minLength": 1}},
        "required": ["reason"], "additionalProperties": False, **_ONE_TARGET},
    "finance.calculate_cost": {
        "type": "object", "properties": {"unit_cost_pence": {"type": "integer", "minimum": 0},
                                         "units_per_week": _UNITS, "service_type": {"type": "string"},
                                         "payment_type": {"enum": sorted(PAYMENT_TYPES)},
                                         "unit_cost": {"type": ["number", "string", "null"]},
                                         "one_off_amount": {"type": ["number", "string", "null"]}},
        "additionalProperties": False},
}
FUNCTIONS = {
    "finance.request_agreement": request_agreement,
    "finance.authorise_agreement": authorise_agreement,
    "finance.create_agreement": create_agreement,
    "finance.reject_agreement": reject_agreement,
    "finance.end_agreement": end_agreement,
    "finance.calculate_cost": calculate_cost,
}

for _name, _func in FUNCTIONS.items():
    register_connector(_name, _func, SCHEMAS[_name])
register_event_listener(link_requested_agreements)
