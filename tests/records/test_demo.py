"""The synthetic population: households, cases, notes, alerts, allocations; valid synthetic NHS numbers."""

import nhs_number
from sqlalchemy import func, select

from casework.demo import load_demo_accounts
from casework.records.demo import generate_population, synthetic_nhs_number
from casework.records.models_case import Allocation, Case
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_note import CaseNote
from casework.records.models_person import Person, PersonAddress, PersonName
from casework.records.models_relationship import PersonRelationship


def test_synthetic_nhs_numbers_are_valid_and_in_the_test_range():
    numbers = [synthetic_nhs_number(i) for i in range(1, 2000)]
    real = [n for n in numbers if n]
    assert len(real) > 1700 and len(set(real)) == len(real)
    assert all(n.startswith("999") and nhs_number.is_valid(n) for n in real)


def test_generate_population(session, monkeypatch):
    import casework.records.demo as demo

    monkeypatch.setattr(demo, "SEALED_RATE", 0.05)
    load_demo_accounts(session)
    session.flush()
    made = generate_population(session, 600, echo=lambda _m: None, progress=False)
    assert made >= 600
    count = session.scalar(select(func.count()).select_from(Person))
    assert count >= made
    for model in (PersonName, PersonAddress):
        assert session.scalar(select(func.count()).select_from(model)) >= made
    for model in (PersonRelationship, Case, Allocation, CaseNote, ChronologyEntry):
        assert session.scalar(select(func.count()).select_from(model)) > 0, model
    # allocations point at demo workers in the case's team
    case = session.scalars(select(Case).where(Case.status == "open", Case.worker_id.is_not(None))).first()
    assert case is not None and case.reference.startswith(("CH-", "AD-"))
    # a few sealed records, visible to one team only
    from casework.records.models_person import PersonRestriction

    sealed = session.scalars(select(Person).where(Person.restricted.is_(True))).all()
    assert sealed and all(session.scalar(select(PersonRestriction.team_id).where(PersonRestriction.person_id == p.id))
               for p in sealed)
    # a second run adds more people without clashing ids or NHS numbers
    generate_population(session, 50, echo=lambda _m: None, progress=False)
    assert session.scalar(select(func.count()).select_from(Person)) >= count + 50
