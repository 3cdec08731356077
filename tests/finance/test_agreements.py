"""Agreements and their payment schedules: validation, costs, authorisation, weekly periods in arrears."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from casework.errors import Conflict, Invalid
from casework.finance import agreements, schedule
from casework.finance.models import Agreement, ScheduleLine
from tests.finance.factories import create_agreement, create_case, create_person, create_provider

MON = date(2026, 1, 5)  # a Monday


def _lines(session, agreement):
    return [(ln.period_start, ln.period_end, ln.amount_pence, ln.units, ln.status)
            for ln in schedule.lines_for(session, agreement.id)]


def test_costs_and_reference(session):
    a = create_agreement(session, unit_cost_pence=2350, units_per_week="14", authorise=False)
    assert a.reference == f"SA-{a.id:07d}" and a.status == "requested" and a.kind == "service"
    assert (a.weekly_cost_pence, a.annual_cost_pence) == (32_900, 1_710_800)
    assert a.unit == "hour"  # the service type's default unit
    assert schedule.lines_for(session, a.id) == []  # no schedule before authorisation


def test_full_weeks_in_arrears_with_end_date(session):
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=MON,
                         end_date=date(2026, 1, 25))
    assert _lines(session, a) == [
        (date(2026, 1, 5), date(2026, 1, 11), 7000, Decimal("7.00"), "pending"),
        (date(2026, 1, 12), date(2026, 1, 18), 7000, Decimal("7.00"), "pending"),
        (date(2026, 1, 19), date(2026, 1, 25), 7000, Decimal("7.00"), "pending"),
    ]
    assert a.authorised_by == "manager.one" and a.authorised_at is not None


def test_partial_first_and_last_weeks_are_prorated_by_days(session):
    # Thursday 8 Jan to Tuesday 20 Jan: 4 days, a full week, 2 days
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="10", start_date=date(2026, 1, 8),
                         end_date=date(2026, 1, 20))
    assert _lines(session, a) == [
        (date(2026, 1, 8), date(2026, 1, 11), 5714, Decimal("5.71"), "pending"),  # 10000 x 4/7 = 5714.28
        (date(2026, 1, 12), date(2026, 1, 18), 10000, Decimal("10.00"), "pending"),
        (date(2026, 1, 19), date(2026, 1, 20), 2857, Decimal("2.86"), "pending"),  # 10000 x 2/7 = 2857.14
    ]


def test_single_day_agreement_and_sunday_start(session):
    a = create_agreement(session, unit_cost_pence=700, units_per_week="1", start_date=date(2026, 1, 11),
                         end_date=date(2026, 1, 11))
    assert _lines(session, a) == [(date(2026, 1, 11), date(2026, 1, 11), 100, Decimal("0.14"), "pending")]


def test_generation_is_idempotent_and_open_ended_extends(session):
    a = create_agreement(session, start_date=MON, today=MON)  # open-ended: 4 weeks ahead
    first = _lines(session, a)
    assert len(first) == 5 and first[-1][0] == date(2026, 2, 2)
    assert schedule.generate(session, a, through=date(2026, 2, 2)) == 0
    assert _lines(session, a) == first
    assert schedule.generate(session, a, through=date(2026, 2, 20)) == 2
    assert schedule.generate(session, a, through=date(2026, 2, 20)) == 0
    assert len(_lines(session, a)) == 7
    agreements.authorise(session, a, authorised_by="manager.one", today=MON)  # again: harmless
    assert len(_lines(session, a)) == 7


def test_one_off_payment_is_a_single_line(session):
    a = create_agreement(session, service_type="one_off", unit_cost_pence=45_000, units_per_week="2",
                         start_date=date(2026, 1, 14))
    assert a.kind == "one_off" and a.unit == "item" and a.end_date == date(2026, 1, 14)
    assert (a.weekly_cost_pence, a.annual_cost_pence) == (90_000, 90_000)
    assert _lines(session, a) == [(date(2026, 1, 14), date(2026, 1, 14), 90_000, Decimal("2"), "pending")]


def test_direct_payment_to_a_person_needs_payee_reference(session):
    person = create_person(session)
    a = create_agreement(session, person=person, service_type="direct_payment", unit_cost_pence=21_000,
                         units_per_week="1", payee_reference="DP-ACC-1")
    assert a.kind == "direct_payment" and a.provider_id is None and a.payee_reference == "DP-ACC-1"
    with pytest.raises(Invalid) as exc:
        agreements.request_agreement(session, {"person_id": person.id, "service_type": "direct_payment",
                                               "unit_cost_pence": 100, "units_per_week": "1",
                                               "start_date": "2026-01-05"})
    assert "payee_reference" in exc.value.details


@pytest.mark.parametrize(("change", "field"), [
    ({"unit_cost_pence": -100}, "unit_cost_pence"),
    ({"unit_cost_pence": 0}, "unit_cost_pence"),
    ({"unit_cost_pence": 12.5}, "unit_cost_pence"),
    ({"unit_cost_pence": "1200"}, "unit_cost_pence"),
    ({"units_per_week": "0"}, "units_per_week"),
    ({"units_per_week": "-3"}, "units_per_week"),
    ({"units_per_week": "169"}, "units_per_week"),
    ({"units_per_week": "1.234"}, "units_per_week"),
    ({"end_date": "2026-01-04"}, "end_date"),
    ({"start_date": "2026-02-30"}, "start_date"),
    ({"service_type": "spaceship"}, "service_type"),
    ({"unit": "item"}, "unit"),
    ({"provider_id": 999_999}, "provider_id"),
    ({"provider_reference": "NOPE"}, "provider_reference"),
    ({"person_id": 999_999}, "person_id"),
    ({"case_id": 999_999}, "case_id"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_input_is_refused_with_field_messages_and_nothing_written(session, change, field):
    person = create_person(session)
    provider = create_provider(session)
    before = session.scalar(select(func.count()).select_from(Agreement))
    data = {"person_id": person.id, "provider_id": provider.id, "service_type": "home_care",
            "unit_cost_pence": 2000, "units_per_week": "10", "start_date": "2026-01-05"} | change
    if "provider_reference" in change:
        data.pop("provider_id")
    with pytest.raises(Invalid) as exc:
        agreements.request_agreement(session, data)
    assert field in exc.value.details, exc.value.details
    assert session.scalar(select(func.count()).select_from(Agreement)) == before


def test_inactive_provider_and_case_of_another_person_are_refused(session):
    person, other = create_person(session), create_person(session)
    case = create_case(session, person=other)
    inactive = create_provider(session, active=False)
    base = {"person_id": person.id, "service_type": "home_care", "unit_cost_pence": 2000,
            "units_per_week": "10", "start_date": "2026-01-05"}
    with pytest.raises(Invalid) as exc:
        agreements.request_agreement(session, base | {"provider_id": inactive.id})
    assert exc.value.details == {"provider_id": "That provider is not active"}
    with pytest.raises(Invalid) as exc:
        agreements.request_agreement(session, base | {"provider_id": create_provider(session).id,
                                                      "case_id": case.id})
    assert exc.value.details == {"case_id": "That case belongs to another person"}


def test_case_reference_gives_the_person(session):
    person = create_person(session)
    case = create_case(session, person=person)
    a = agreements.request_agreement(session, {"case_reference": case.reference, "service_type": "nursing",
                                               "provider_id": create_provider(session).id,
                                               "unit_cost_pence": 120_000, "units_per_week": "1",
                                               "start_date": "2026-01-05"})
    assert (a.person_id, a.case_id, a.unit) == (person.id, case.id, "week")


def test_reject_and_state_rules(session):
    a = create_agreement(session, authorise=False)
    with pytest.raises(Invalid):
        agreements.reject(session, a, reason="  ")
    agreements.reject(session, a, reason="Cheaper provider available", rejected_by="head.one")
    assert a.status == "rejected" and "Cheaper provider" in a.decision_reason
    with pytest.raises(Conflict):
        agreements.authorise(session, a, authorised_by="manager.one")
    assert schedule.lines_for(session, a.id) == []


def test_ending_cancels_future_lines_and_reprorates_the_last(session):
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=MON,
                         end_date=date(2026, 2, 1))
    outcome = agreements.end(session, a, end_date=date(2026, 1, 14), reason="Moved to residential care",
                             version=a.version)
    assert outcome == {"cancelled_lines": 2, "overpaid_pence": 0}
    session.refresh(a)
    assert a.status == "ended" and a.end_date == date(2026, 1, 14)
    assert _lines(session, a) == [
        (date(2026, 1, 5), date(2026, 1, 11), 7000, Decimal("7.00"), "pending"),
        (date(2026, 1, 12), date(2026, 1, 14), 3000, Decimal("3.00"), "pending"),
        (date(2026, 1, 19), date(2026, 1, 25), 7000, Decimal("7.00"), "cancelled"),
        (date(2026, 1, 26), date(2026, 2, 1), 7000, Decimal("7.00"), "cancelled"),
    ]
    # an ended agreement never grows new lines
    assert schedule.generate(session, a, through=date(2026, 3, 1)) == 0


def test_end_date_rules_and_stale_version(session):
    a = create_agreement(session, start_date=MON, end_date=date(2026, 2, 1))
    with pytest.raises(Conflict):
        agreements.end(session, a, end_date=date(2026, 1, 20), reason="x", version=a.version - 1)
    with pytest.raises(Invalid) as exc:
        agreements.end(session, a, end_date=date(2026, 1, 1), reason="", version=a.version)
    assert set(exc.value.details) == {"end_date", "reason"}
    with pytest.raises(Invalid):
        agreements.end(session, a, end_date=date(2026, 3, 1), reason="later than agreed", version=a.version)
    requested = create_agreement(session, authorise=False)
    with pytest.raises(Conflict):
        agreements.end(session, requested, end_date=MON, reason="x")


def test_list_filters(session):
    person = create_person(session)
    a = create_agreement(session, person=person)
    b = create_agreement(session, person=person, authorise=False)
    rows, total = agreements.list_agreements(session, person_id=person.id)
    assert total == 2 and [r.id for r in rows] == [b.id, a.id]
    rows, total = agreements.list_agreements(session, person_id=person.id, status="requested")
    assert [r.id for r in rows] == [b.id]
    assert session.scalar(select(func.count()).select_from(ScheduleLine)
                          .where(ScheduleLine.agreement_id == b.id)) == 0


def test_explicit_one_off_kind_defaults_the_unit_to_item(session):
    a = create_agreement(session, service_type="home_care", kind="one_off", unit_cost_pence=5000,
                         units_per_week="3", start_date=date(2026, 1, 7))
    assert (a.kind, a.unit, a.end_date, a.weekly_cost_pence) == ("one_off", "item", date(2026, 1, 7), 15_000)


def test_cancel_stops_every_payment_not_yet_exported(session):
    one_off = create_agreement(session, service_type="one_off", unit_cost_pence=45_000, units_per_week="1",
                               start_date=date(2026, 1, 14))
    assert agreements.cancel(session, one_off, reason="Bought by the family", version=one_off.version) == {
        "cancelled_lines": 1, "overpaid_pence": 0}
    assert one_off.status == "ended" and one_off.decision_reason == "Cancelled: Bought by the family"
    assert [ln.status for ln in schedule.lines_for(session, one_off.id)] == ["cancelled"]

    open_ended = create_agreement(session, start_date=MON, today=MON)
    with pytest.raises(Invalid):
        agreements.cancel(session, open_ended, reason=" ")
    agreements.cancel(session, open_ended, reason="Never started")
    assert open_ended.end_date == MON
    assert schedule.generate(session, open_ended, through=date(2026, 6, 1)) == 0
    assert {ln.status for ln in schedule.lines_for(session, open_ended.id)} == {"cancelled"}
    with pytest.raises(Conflict):
        agreements.cancel(session, create_agreement(session, authorise=False), reason="x")


def test_revise_a_requested_agreement(session):
    a = create_agreement(session, authorise=False, unit_cost_pence=2000, units_per_week="10")
    agreements.revise(session, a, {"person_id": a.person_id, "provider_id": a.provider_id,
                                   "service_type": "home_care", "unit_cost_pence": 2100, "units_per_week": "12",
                                   "start_date": "2026-02-02"})
    assert (a.unit_cost_pence, a.units_per_week, a.start_date, a.version) == (2100, 12, date(2026, 2, 2), 2)
    agreements.authorise(session, a, authorised_by="m", today=MON)
    with pytest.raises(Conflict):
        agreements.revise(session, a, {"person_id": a.person_id, "provider_id": a.provider_id,
                                       "service_type": "home_care", "unit_cost_pence": 1, "units_per_week": "1",
                                       "start_date": "2026-02-02"})
