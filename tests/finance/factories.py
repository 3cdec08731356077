"""Keyword-only factories for finance tests (people and cases inserted directly: no record service rules)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from casework.finance import agreements
from casework.finance.models import Agreement, Provider
from casework.records.models import Case, Person

_seq = itertools.count(1)


def create_person(session: Session, *, surname: str | None = None) -> Person:
    n = next(_seq)
    surname = surname or f"Financeperson{n}"
    person = Person(forename="Pat", surname=surname, surname_norm=surname.lower(),
                    search_name=f"pat {surname.lower()}", date_of_birth=date(1940, 1, 1))
    session.add(person)
    session.flush()
    return person


def create_case(session: Session, *, person: Person) -> Case:
    n = next(_seq)
    case = Case(reference=f"FT-{n:07d}", person_id=person.id, service_area="adults", opened_on=date(2026, 1, 5),
                open_reason="needs_assessment")
    session.add(case)
    session.flush()
    return case


def create_provider(session: Session, *, name: str | None = None, reference: str | None = None,
                    active: bool = True) -> Provider:
    n = next(_seq)
    provider = Provider(name=name or f"Provider {n}", reference=reference or f"SUP-T{n:05d}", active=active,
                        bank_details_reference=f"FIN-BANK-T{n}")
    session.add(provider)
    session.flush()
    return provider


def create_agreement(session: Session, *, person: Person | None = None, provider: Provider | None = None,
                     service_type: str = "home_care", unit: str | None = None, unit_cost_pence: int = 2000,
                     units_per_week: str | Decimal = "10", start_date: date = date(2026, 1, 5),
                     end_date: date | None = None, authorise: bool = True, today: date = date(2026, 1, 5),
                     **extra: Any) -> Agreement:
    person = person or create_person(session)
    data: dict[str, Any] = {"person_id": person.id, "service_type": service_type,
                            "unit_cost_pence": unit_cost_pence, "units_per_week": str(units_per_week),
                            "start_date": start_date.isoformat(),
                            "end_date": end_date.isoformat() if end_date else None, **extra}
    if unit:
        data["unit"] = unit
    if provider is None and "payee_reference" not in extra:
        provider = create_provider(session)
    if provider is not None:
        data["provider_id"] = provider.id
    agreement = agreements.request_agreement(session, data)
    if authorise:
        agreements.authorise(session, agreement, authorised_by="manager.one", today=today)
    return agreement
