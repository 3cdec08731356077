"""Providers (care providers / suppliers): create, update with version check, list, delete if unused."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, fields, validate, validates
from marshmallow import ValidationError as MValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.db import utcnow
from casework.errors import Conflict, Invalid, NotFound
from casework.finance.common import check_version, load
from casework.finance.models import Agreement, Provider

MAX_PAGE = 200
CQC_LOCATION = re.compile(r"^1-\d{6,12}$")
# What full bank details look like: a sort code, an 8-digit account number, an IBAN.
_SORT_CODE = re.compile(r"\b\d{2}[- ]?\d{2}[- ]?\d{2}\b")
_ACCOUNT = re.compile(r"\d{8}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}\s?[A-Z]{4}", re.IGNORECASE)
BANK_MESSAGE = ("Give the reference of the bank details held in the finance system, "
                "never the sort code, account number or IBAN themselves")


def _check_bank_reference(value: str | None) -> None:
    if value and (_SORT_CODE.search(value) or _ACCOUNT.search(value) or _IBAN.search(value)):
        raise MValidationError(BANK_MESSAGE)


class ProviderInput(Schema):
    class Meta:
        unknown = RAISE

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    reference = fields.Str(required=True, validate=[validate.Length(min=1, max=40),
                                                    validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$",
                                                                    error="Letters, digits and / _ . - only")])
    cqc_location_id = fields.Str(load_default=None, allow_none=True,
                                 validate=validate.Regexp(CQC_LOCATION.pattern,
                                                          error="A CQC location id looks like 1-123456789"))
    bank_details_reference = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    active = fields.Bool(load_default=True)

    @validates("bank_details_reference")
    def _bank(self, value: str | None, **_: Any) -> None:
        _check_bank_reference(value)

    @validates("name")
    def _name(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise MValidationError("Enter the provider's name")


class ProviderUpdate(ProviderInput):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    reference = fields.Str(validate=ProviderInput._declared_fields["reference"].validate)
    cqc_location_id = fields.Str(allow_none=True, validate=ProviderInput._declared_fields["cqc_location_id"].validate)
    bank_details_reference = fields.Str(allow_none=True, validate=validate.Length(max=64))
    active = fields.Bool()
    version = fields.Int(required=True, strict=True)


def _check_reference_free(session: Session, reference: str, exclude_id: int | None = None) -> None:
    stmt = select(Provider.id).where(func.lower(Provider.reference) == reference.lower())
    if exclude_id is not None:
        stmt = stmt.where(Provider.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Invalid("That provider reference is already used",
                      details={"reference": "Another provider already has this reference"})


def create_provider(session: Session, data: dict[str, Any], *, user_id: int | None) -> Provider:
    values = load(ProviderInput(), data)
    values["name"] = values["name"].strip()
    _check_reference_free(session, values["reference"])
    provider = Provider(**values, created_by=user_id, updated_by=user_id)
    session.add(provider)
    session.flush()
    return provider


def get_provider(session: Session, provider_id: int) -> Provider:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("No such provider")
    return provider


def update_provider(session: Session, provider_id: int, data: dict[str, Any], *, user_id: int | None) -> Provider:
    provider = get_provider(session, provider_id)
    values = load(ProviderUpdate(), data)
    check_version(provider, values.pop("version"))
    if "reference" in values:
        _check_reference_free(session, values["reference"], exclude_id=provider.id)
    if "name" in values:
        values["name"] = values["name"].strip()
    for key, value in values.items():
        setattr(provider, key, value)
    provider.version += 1
    provider.updated_at = utcnow()
    provider.updated_by = user_id
    session.flush()
    return provider


def delete_provider(session: Session, provider_id: int, *, version: int | None) -> None:
    provider = get_provider(session, provider_id)
    check_version(provider, version)
    if session.scalar(select(Agreement.id).where(Agreement.provider_id == provider.id).limit(1)) is not None:
        raise Conflict("This provider has agreements; make it inactive instead of deleting it",
                       details={"active": "Set active to false"}, code="provider_in_use")
    session.delete(provider)
    session.flush()


def list_providers(session: Session, *, q: str | None = None, active: bool | None = None,
                   limit: int = 50, offset: int = 0) -> tuple[list[Provider], int]:
    stmt = select(Provider)
    if q:
        pattern = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Provider.name).like(pattern), func.lower(Provider.reference).like(pattern)))
    if active is not None:
        stmt = stmt.where(Provider.active.is_(active))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Provider.name, Provider.id).limit(min(limit, MAX_PAGE)).offset(offset))
    return list(rows), total


def find_provider(session: Session, *, provider_id: int | None = None, reference: str | None = None
                  ) -> Provider | None:
    if provider_id is not None:
        return session.get(Provider, provider_id)
    if reference:
        return session.scalar(select(Provider).where(func.lower(Provider.reference) == reference.lower()))
    return None
