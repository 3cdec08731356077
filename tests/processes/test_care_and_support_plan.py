"""Care and support plan (Care Act 2014): eligibility and budget from DMN, sign-off, payment, reviews."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import Forbidden
from tests.processes.conftest import form_errors, london
from tests.processes.samples import sample

SW, TM, HEAD = "sw.ana", "tm.bea", "hos.dee"
KEY = "case-4"


def assessed(start, **answers):
    j = start("care_and_support_plan", KEY, referral_date="2026-11-02")
    assert j.open_tasks() == ["needs_assessment"]
    # needs assessment within 20 working days of Monday 2 November: Monday 30 November
    assert j.due("needs_assessment") == datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    j.submit("needs_assessment", sample("care-act-needs-assessment", **answers), SW)
    return j


def planned(start, **answers):
    j = assessed(start, **answers)
    j.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    j.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    j.submit("arrange_services", sample("arrange-services"), SW)
    assert j.open_tasks() == [] and j.status() == "running"  # waiting for the payment authorisation
    return j


def payment_decided(j, outcome="authorised"):
    """What payment_authorisation's end event sends (delivered by hand: see the engine gap in processes.md)."""
    results = j.wf.deliver_message(j.conn, "payment_authorisation_decided", KEY, {"payment_outcome": outcome}, "engine")
    assert [r.instance_id for r in results] == [j.id]


def test_happy_path_to_the_first_and_yearly_reviews(start, clock):
    j = assessed(start)
    data = j.data()
    assert data["eligible"] is True and data["outcomes_not_achieved_count"] == 3
    assert (data["indicative_weekly_budget"], data["budget_band"]) == (280.0, "B")
    j.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    assert j.item("sign_off_care_plan")["role"] == "team_manager"
    j.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    j.submit("arrange_services", sample("arrange-services", services_start_date="2026-12-01"), SW)
    assert j.wf.current_steps(j.conn, j.id)["messages"][0]["message_name"] == "payment_authorisation_decided"
    payment_decided(j)
    data = j.data()
    # first review 6 to 8 weeks after services start on Tuesday 1 December (30 to 40 working days, Christmas
    # and New Year's Day skipped): the window opens on Friday 15 January and the review is due Friday 29 January
    assert (data["review_open_due_date"], data["review_due_date"]) == ("2027-01-15", "2027-01-29")
    assert j.open_tasks() == []
    assert j.fire_timers(london(2027, 1, 15, 12)) == 0
    assert j.fire_timers(datetime(2027, 1, 16, 0, 1, tzinfo=UTC)) == 1
    assert j.due("review_care_plan") == datetime(2027, 1, 29, 23, 59, 59, tzinfo=UTC)
    j.submit("review_care_plan", sample("care-plan-review", review_date="2027-01-20"), SW)
    data = j.data()
    # then every 12 months: due Thursday 20 January 2028, opening 20 working days before (Christmas 2027 and the
    # New Year substitute holiday on Monday 3 January 2028 skipped)
    assert (data["review_due_date"], data["review_open_due_date"]) == ("2028-01-20", "2027-12-20")
    assert j.fire_timers(datetime(2027, 12, 21, 0, 1, tzinfo=UTC)) == 1
    j.submit("review_care_plan", sample("care-plan-review", review_date="2028-01-10", review_outcome="end"), SW)
    assert j.status() == "completed"


@pytest.mark.parametrize("answers, reason", [
    ({"needs_from_impairment": False}, "impairment"),
    ({"outcomes_not_achieved": ["nutrition"]}, "all but at most one"),
    ({"wellbeing_impact": "some"}, "significant impact"),
])
def test_not_eligible_branches(start, answers, reason):
    j = assessed(start, **answers)
    data = j.data()
    assert data["eligible"] is False and reason in data["eligibility_reason"]
    assert j.open_tasks() == ["record_not_eligible"]
    j.submit("record_not_eligible", sample("care-act-not-eligible"), SW)
    assert j.status() == "completed"


@pytest.mark.parametrize("score, carer, budget, band", [
    (10, False, 120.0, "A"), (20, True, 90.0, "A"), (21, True, 220.0, "B"), (55, False, 520.0, "C"),
    (70, True, 430.0, "C"), (71, True, 850.0, "D"), (100, False, 850.0, "D")])
def test_resource_allocation_table(start, score, carer, budget, band):
    j = assessed(start, needs_score=score, has_unpaid_carer=carer)
    assert (j.data()["indicative_weekly_budget"], j.data()["budget_band"]) == (budget, band)


def test_sign_off_returned_and_four_eyes(start):
    j = assessed(start)
    j.submit("draft_care_plan", sample("care-and-support-plan"), TM)  # a manager drafted it
    item = j.item("sign_off_care_plan")
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.complete_task(j.conn, item["id"], {"sign_off": "approve"}, TM)
    j.submit("sign_off_care_plan", sample("care-plan-sign-off", sign_off="return"), "tm.other")
    assert j.open_tasks() == ["draft_care_plan"]


def test_payment_rejected_goes_back_to_the_plan(start):
    j = planned(start)
    payment_decided(j, "rejected")
    assert j.open_tasks() == ["draft_care_plan"]


def test_review_revises_the_plan(start):
    j = planned(start)
    payment_decided(j)
    j.fire_timers(datetime(2027, 1, 16, 0, 1, tzinfo=UTC))
    j.submit("review_care_plan", sample("care-plan-review", review_outcome="revise"), SW)
    assert j.open_tasks() == ["draft_care_plan"]


def test_missed_first_review_escalates_after_8_weeks(start):
    j = planned(start)
    payment_decided(j)
    j.fire_timers(datetime(2027, 1, 16, 0, 1, tzinfo=UTC))
    assert j.fire_timers(london(2027, 1, 29, 23, 0)) == 0
    assert j.fire_timers(datetime(2027, 1, 30, 0, 1, tzinfo=UTC)) == 1
    assert j.item("review_overdue_care_review")["role"] == "team_manager"
    assert j.open_tasks() == ["review_care_plan", "review_overdue_care_review"]


def test_cancellation_midway(start):
    j = planned(start)
    j.wf.cancel(j.conn, j.id, TM, reason="Moved into NHS continuing healthcare")
    assert j.status() == "cancelled" and j.wf.current_steps(j.conn, j.id)["messages"] == []


def test_invalid_assessment_is_refused_with_field_errors(start):
    j = start("care_and_support_plan", KEY, referral_date="2026-11-02")
    bad = sample("care-act-needs-assessment", outcomes_not_achieved=["flying"], needs_score=150,
                 wellbeing_impact=None)
    errors = form_errors("care-act-needs-assessment", bad)
    assert set(errors) >= {"outcomes_not_achieved/0", "needs_score", "wellbeing_impact"}
    with pytest.raises(AssertionError, match="invalid test data"):
        j.submit("needs_assessment", bad, SW)
    assert j.open_tasks() == ["needs_assessment"]


def test_care_plan_and_payment_authorisation_together(start, wf, connection, clock, finance_session):
    """Services arranged -> a payment authorisation for the same case -> its decision (the message its end
    event throws) reaches the waiting care plan through the engine, with no help from the application."""
    from tests.finance.factories import create_person, create_provider
    from tests.processes.conftest import Journey, bundle_for

    create_provider(finance_session, reference="SUP-PROC1")
    person = create_person(finance_session)
    j = planned(start)
    wf.publish(connection, bundle_for("payment_authorisation"), "configurator")
    pay = Journey(wf, connection, clock, wf.start(connection, "payment_authorisation", KEY,
                                                  {"person_id": person.id}, SW).instance_id)
    pay.submit("prepare_payment_request", sample("payment-request"), SW)
    pay.submit("approve_team_manager", sample("payment-approval"), TM)
    pay.submit("set_up_payment_schedule", sample("payment-schedule-setup"), "fin.fay")
    assert pay.status() == "completed"
    assert j.data()["payment_outcome"] == "authorised"
    assert j.data()["review_due_date"] == "2027-01-29" and j.status() == "running"


def test_late_needs_assessment_escalates_to_the_team_manager(start):
    j = start("care_and_support_plan", KEY, referral_date="2026-11-02")
    assert j.fire_timers(london(2026, 11, 30, 23, 0)) == 0
    assert j.fire_timers(datetime(2026, 12, 1, 0, 1, tzinfo=UTC)) == 1
    assert j.item("review_overdue_needs_assessment")["role"] == "team_manager"
    j.submit("needs_assessment", sample("care-act-needs-assessment"), SW)
    assert j.open_tasks() == ["draft_care_plan", "review_overdue_needs_assessment"]
