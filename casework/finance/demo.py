"""Demo step: a few providers, and agreements (authorised, requested, ended, a direct payment and a one-off)
for demo adults (those with an open adults case first). Skips quietly when there are no people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.demo import DemoStep, register_demo_step

DEMO_PROVIDERS = [
    ("Meadowview Home Care Ltd", "SUP-10231", "1-101234567", "FIN-BANK-10231"),
    ("Oakwood Residential Home", "SUP-10877", "1-108765432", "FIN-BANK-10877"),
    ("Riverside Day Opportunities", "SUP-11402", None, "FIN-BANK-11402"),
    ("Northfield Supported Living CIC", "SUP-12010", "1-120100000", "FIN-BANK-12010"),
]


def _plans(providers: dict[str, int], start: date) -> list[dict]:
    return [
        {"provider_id": providers["SUP-10231"], "service_type": "home_care", "unit": "hour",
         "unit_cost_pence": 2350, "units_per_week": "14", "start_date": start},
        {"provider_id": providers["SUP-10877"], "service_type": "residential", "unit": "week",
         "unit_cost_pence": 95_000, "units_per_week": "1", "start_date": start + timedelta(days=3)},
        {"provider_id": providers["SUP-11402"], "service_type": "day_care", "unit": "day",
         "unit_cost_pence": 6500, "units_per_week": "2", "start_date": start},
        {"payee_reference": "DP-ACC-0042", "service_type": "direct_payment", "unit": "week",
         "unit_cost_pence": 21_000, "units_per_week": "1", "start_date": start},
        {"provider_id": providers["SUP-10231"], "service_type": "one_off", "unit": "item",
         "unit_cost_pence": 45_000, "units_per_week": "1", "start_date": start + timedelta(days=10)},
        {"provider_id": providers["SUP-12010"], "service_type": "supported_living", "unit": "hour",
         "unit_cost_pence": 2100, "units_per_week": "37.5", "start_date": start},
    ]


def _adults(session: Session) -> list[tuple[int | None, int]]:
    """(case id or None, person id) for up to 6 adults: open adults cases first, then adults without one."""
    from casework.records.models import Case, Person

    rows: list[tuple[int | None, int]] = [
        (r[0], r[1]) for r in session.execute(select(Case.id, Case.person_id)
                                              .where(Case.service_area == "adults", Case.status == "open")
                                              .order_by(Case.id).limit(6))]
    if len(rows) < 6:
        taken = {person_id for _, person_id in rows}
        adults = session.scalars(select(Person.id).where(Person.date_of_birth <= date.today() - timedelta(days=
                                                         365 * 18 + 5), Person.date_of_death.is_(None))
                                 .order_by(Person.id).limit(12))
        rows += [(None, pid) for pid in adults if pid not in taken][:6 - len(rows)]
    return rows


def run(session: Session, people: int, echo: Callable[[str], None]) -> None:
    from casework.finance import agreements
    from casework.finance.models import Agreement, Provider

    try:
        with session.begin_nested():
            cases = _adults(session)
    except Exception as exc:  # noqa: BLE001 - the case record may not be set up in this installation
        echo(f"finance demo: skipped ({type(exc).__name__})")
        return
    providers: dict[str, int] = {}
    for name, reference, cqc, bank in DEMO_PROVIDERS:
        provider = session.scalar(select(Provider).where(Provider.reference == reference))
        if provider is None:
            provider = Provider(name=name, reference=reference, cqc_location_id=cqc, bank_details_reference=bank)
            session.add(provider)
            session.flush()
        providers[reference] = provider.id
    if not cases:
        echo(f"finance demo: {len(providers)} providers (no adults for agreements)")
        return
    if session.scalar(select(Agreement.id).limit(1)) is not None:
        echo("finance demo: agreements already present")
        return
    start = date.today() - timedelta(weeks=6)
    made = 0
    for i, ((case_id, person_id), plan) in enumerate(zip(cases, _plans(providers, start), strict=False)):
        agreement = agreements.request_agreement(
            session, {**plan, "start_date": plan["start_date"].isoformat(), "person_id": person_id,
                      "case_id": case_id, "units_per_week": Decimal(plan["units_per_week"]),
                      "requested_by": "priya.adults"})
        if i != 5:  # the last one waits for authorisation
            agreements.authorise(session, agreement, authorised_by="jo.adultsmanager")
        if i == 2:
            agreements.end(session, agreement, end_date=date.today() - timedelta(days=9),
                           reason="Moved to residential care")
        made += 1
    echo(f"finance demo: {len(providers)} providers, {made} agreements")


register_demo_step(DemoStep("finance", run, order=300))
