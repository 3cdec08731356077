"""Payment authorisation: approval level from the DMN threshold table, four-eyes at every level."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from casework.finance.models import Agreement, ScheduleLine
from engine.errors import Forbidden
from tests.finance.factories import create_person, create_provider
from tests.processes.conftest import form_errors, london, routing_fields
from tests.processes.samples import sample

SW, TM, HOS, HOS2, FIN = "sw.ana", "tm.bea", "hos.dee", "hos.eve", "fin.fay"
APPROVE = sample("payment-approval")


@pytest.fixture
def person(finance_session):
    create_provider(finance_session, reference="SUP-PROC1")
    return create_person(finance_session)


def the_agreement(session, journey) -> Agreement:
    """The one agreement of this payment authorisation, found as the Approvals list finds it."""
    return session.scalars(select(Agreement).where(Agreement.process_instance_id == journey.id)).one()


def requested(start, person, **request):
    j = start("payment_authorisation", "case-5", person_id=person.id)
    assert j.open_tasks() == ["prepare_payment_request"]
    j.submit("prepare_payment_request", sample("payment-request", **request), SW)
    return j


def one_off(amount):
    return {"payment_type": "one_off", "one_off_amount": amount, "unit_cost": None, "unit": None,
            "units_per_week": None, "service_type": "equipment"}


@pytest.mark.parametrize("request_, weekly, annual, level, chain", [
    ({"unit_cost": 21.5, "units_per_week": 14}, 301.0, 15652.0, "team_manager", ["approve_team_manager"]),
    ({"unit_cost": 500, "units_per_week": 1}, 500.0, 26000.0, "team_manager", ["approve_team_manager"]),
    ({"unit_cost": 50, "units_per_week": 20}, 1000.0, 52000.0, "head_of_service",
     ["approve_team_manager", "approve_head_of_service"]),
    (one_off(30000), 30000.0, 30000.0, "head_of_service", ["approve_team_manager", "approve_head_of_service"]),
    (one_off(1000), 1000.0, 1000.0, "team_manager", ["approve_team_manager"]),
    (one_off(90000), 90000.0, 90000.0, "panel",
     ["approve_team_manager", "approve_head_of_service", "approve_panel"]),
    ({"unit_cost": 1500, "units_per_week": 1.5}, 2250.0, 117000.0, "panel",
     ["approve_team_manager", "approve_head_of_service", "approve_panel"]),
    ({"unit_cost": 1450, "units_per_week": 1}, 1450.0, 75400.0, "head_of_service",
     ["approve_team_manager", "approve_head_of_service"]),
])
def test_approval_level_and_chain_from_the_threshold_table(start, person, finance_session, request_, weekly,
                                                           annual, level, chain):
    j = requested(start, person, **request_)
    data = j.data()
    assert (data["weekly_cost"], data["annual_cost"], data["approval_level"]) == (weekly, annual, level)
    # the request itself is recorded at once (what the Approvals list reads the cost from)
    requested_agreement = the_agreement(finance_session, j)
    assert requested_agreement.status == "requested" and requested_agreement.person_id == person.id
    assert (requested_agreement.weekly_cost_pence, requested_agreement.annual_cost_pence) == (
        round(weekly * 100), round(annual * 100))
    approvers = {"approve_team_manager": TM, "approve_head_of_service": HOS, "approve_panel": HOS2}
    roles = {"approve_team_manager": "team_manager", "approve_head_of_service": "head_of_service",
             "approve_panel": "head_of_service"}
    for step in chain:
        assert j.open_tasks() == [step]
        assert j.item(step)["role"] == roles[step]
        j.submit(step, APPROVE, approvers[step])
    assert j.open_tasks() == ["set_up_payment_schedule"]
    assert j.item("set_up_payment_schedule")["role"] == "finance_officer"
    j.submit("set_up_payment_schedule", sample("payment-schedule-setup"), FIN)
    assert j.status() == "completed"
    data = j.data()
    assert data["payment_outcome"] == "authorised"
    # the finance connector recorded the authorised agreement and created its payment schedule
    agreement = finance_session.scalar(select(Agreement).where(Agreement.reference == data["service_agreement_ref"]))
    assert agreement is requested_agreement  # the requested agreement was authorised, not a second one made
    assert agreement.status == "authorised" and agreement.process_instance_id == j.id
    assert agreement.cost_code == "ASC1234" and agreement.authorised_by == f"payment_authorisation: {level} approval"
    assert finance_session.scalar(select(func.count()).select_from(ScheduleLine)
                                  .where(ScheduleLine.agreement_id == agreement.id)) >= 1


def test_panel_lane_is_shown_as_the_funding_panel(start, person):
    j = requested(start, person, unit_cost=3000, units_per_week=1)
    j.submit("approve_team_manager", APPROVE, TM)
    j.submit("approve_head_of_service", APPROVE, HOS)
    assert j.item("approve_panel")["lane"] == "Funding panel"


def test_reject_with_a_reason(start, person, finance_session):
    j = requested(start, person, unit_cost=50, units_per_week=20)
    j.submit("approve_team_manager", APPROVE, TM)
    j.submit("approve_head_of_service", sample("payment-approval", approval_decision="reject",
                                                approval_reason="A cheaper provider can meet the need."), HOS)
    assert j.status() == "completed" and j.data()["payment_outcome"] == "rejected"
    agreement = the_agreement(finance_session, j)
    assert agreement.status == "rejected" and agreement.authorised_by is None
    assert agreement.decision_reason == ("A cheaper provider can meet the need. "
                                         "(payment_authorisation: head_of_service approval)")
    assert finance_session.scalar(select(func.count()).select_from(ScheduleLine)
                                  .where(ScheduleLine.agreement_id == agreement.id)) == 0
    assert "approval_reason" in form_errors("payment-approval", {"approval_decision": "reject"})


def test_return_for_changes_restarts_the_chain_with_the_new_cost(start, person, finance_session):
    j = requested(start, person, unit_cost=50, units_per_week=20)
    first = the_agreement(finance_session, j)
    assert (first.status, first.weekly_cost_pence, first.annual_cost_pence) == ("requested", 100_000, 5_200_000)
    j.submit("approve_team_manager", sample("payment-approval", approval_decision="return",
                                             approval_reason="Check the hours."), TM)
    assert j.open_tasks() == ["prepare_payment_request"]
    assert first.status == "requested"  # returned, not rejected
    j.submit("prepare_payment_request", sample("payment-request", unit_cost=20, units_per_week=20), SW)
    assert j.data()["approval_level"] == "team_manager"  # 400 a week now
    again = the_agreement(finance_session, j)  # the same agreement, updated: still exactly one
    assert again.id == first.id and (again.weekly_cost_pence, again.annual_cost_pence) == (40_000, 2_080_000)
    j.submit("approve_team_manager", APPROVE, TM)
    j.submit("set_up_payment_schedule", sample("payment-schedule-setup"), FIN)
    assert j.status() == "completed" and the_agreement(finance_session, j).status == "authorised"


def test_four_eyes_at_every_level(start, person):
    j = requested(start, person, unit_cost=3000, units_per_week=1)
    item = j.item("approve_team_manager")
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.complete_task(j.conn, item["id"], {"approval_decision": "approve"}, SW)  # the requester
    j.submit("approve_team_manager", APPROVE, TM)
    item = j.item("approve_head_of_service")
    for same in (SW, TM):
        with pytest.raises(Forbidden, match="four-eyes"):
            j.wf.complete_task(j.conn, item["id"], {"approval_decision": "approve"}, same)
    j.submit("approve_head_of_service", APPROVE, HOS)
    item = j.item("approve_panel")
    for same in (SW, TM, HOS):
        with pytest.raises(Forbidden, match="four-eyes"):
            j.wf.complete_task(j.conn, item["id"], {"approval_decision": "approve"}, same)
    j.submit("approve_panel", APPROVE, HOS2)
    item = j.item("set_up_payment_schedule")
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.complete_task(j.conn, item["id"], {"cost_code": "ASC1234"}, SW)
    j.submit("set_up_payment_schedule", sample("payment-schedule-setup"), FIN)
    assert j.status() == "completed"


def test_approval_due_in_5_working_days_across_christmas(start, clock, person):
    clock.set(london(2026, 12, 22, 10))
    j = requested(start, person)
    # Tuesday 22 December + 5 working days (25 and 28 December are bank holidays): Thursday 31 December
    assert j.due("approve_team_manager") == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_cancellation_midway(start, person):
    j = requested(start, person, unit_cost=50, units_per_week=20)
    j.submit("approve_team_manager", APPROVE, TM)
    j.wf.cancel(j.conn, j.id, SW, reason="Package no longer needed")
    assert j.status() == "cancelled" and j.open_tasks() == []


def test_invalid_request_is_refused_with_field_errors(start, person):
    j = start("payment_authorisation", "case-5", person_id=person.id)
    bad = sample("payment-request", unit_cost=-5, units_per_week=200, unit=None, start_date="next week")
    errors = form_errors("payment-request", bad)
    assert set(errors) >= {"unit_cost", "units_per_week", "unit", "start_date"}
    assert "one_off_amount" in form_errors("payment-request", sample("payment-request", **{
        **one_off(1), "one_off_amount": None}))
    assert "cost_code" in form_errors("payment-schedule-setup", sample("payment-schedule-setup", cost_code="x y"))
    assert "checks" in form_errors("payment-schedule-setup", sample("payment-schedule-setup", checks=["bank_details"]))
    with pytest.raises(AssertionError, match="invalid test data"):
        j.submit("prepare_payment_request", bad, SW)
    assert j.open_tasks() == ["prepare_payment_request"]


def test_unknown_provider_becomes_a_visible_incident_and_retry_succeeds(start, person, finance_session):
    j = start("payment_authorisation", "case-5", person_id=person.id)
    form = sample("payment-request", provider_id="SUP-LATER")
    j.wf.complete_task(j.conn, j.item("prepare_payment_request")["id"], routing_fields("payment-request", form), SW)
    incidents = j.incidents()  # the request cannot be recorded against a provider finance does not know
    assert len(incidents) == 1 and "No such provider" in incidents[0]["message"]
    assert j.status() == "error" and j.open_tasks() == []
    assert finance_session.scalar(select(func.count()).select_from(Agreement)
                                  .where(Agreement.person_id == person.id)) == 0  # nothing half-written
    create_provider(finance_session, reference="SUP-LATER")  # finance adds the provider, then retries
    j.wf.retry_incident(j.conn, incidents[0]["id"], FIN)
    assert j.incidents() == [] and j.open_tasks() == ["approve_team_manager"]
    assert the_agreement(finance_session, j).status == "requested"
    j.submit("approve_team_manager", APPROVE, TM)
    j.submit("set_up_payment_schedule", sample("payment-schedule-setup"), FIN)
    assert j.status() == "completed" and j.data()["service_agreement_ref"].startswith("SA-")


def test_the_whole_form_as_the_workspace_sends_it(start, person, finance_session):
    """The workspace hands the engine the whole validated form, without the optional fields left blank."""
    j = start("payment_authorisation", "case-5", person_id=person.id)
    assert "end_date" not in sample("payment-request")
    j.wf.complete_task(j.conn, j.item("prepare_payment_request")["id"], sample("payment-request"), SW)
    j.wf.complete_task(j.conn, j.item("approve_team_manager")["id"], sample("payment-approval"), TM)
    j.wf.complete_task(j.conn, j.item("set_up_payment_schedule")["id"], sample("payment-schedule-setup"), FIN)
    assert j.incidents() == [] and j.status() == "completed"
    reference = j.data()["service_agreement_ref"]
    agreement = finance_session.scalar(select(Agreement).where(Agreement.reference == reference))
    assert agreement.end_date is None and agreement.status == "authorised"


def test_one_off_payment_sent_as_the_workspace_sends_it(start, person):
    j = start("payment_authorisation", "case-5", person_id=person.id)
    form = sample("payment-request", **one_off(750))
    assert form_errors("payment-request", form) == {}
    j.wf.complete_task(j.conn, j.item("prepare_payment_request")["id"], form, SW)
    assert j.incidents() == [] and j.data()["approval_level"] == "team_manager"
