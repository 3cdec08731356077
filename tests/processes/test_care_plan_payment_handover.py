"""Care and support plan -> payment authorisation, through the real engine, connector casework.start_process and
the finance connectors: when "Arrange the services" records the paid service and its cost, the payment
authorisation starts for the same case with those facts, so its request form is already filled in; its decision
comes back to the waiting plan. With the cost not agreed yet nothing is started and the practitioner starts it
from the case view. No message is left pending, nothing is started twice."""

from __future__ import annotations

from uuid import UUID

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from casework.finance.models import Agreement
from engine.schema import pending_message, process_instance
from tests.finance.factories import create_person, create_provider
from tests.processes.conftest import Journey, form_errors, form_schema, routing_fields
from tests.processes.samples import sample

SW, TM, FIN = "sw.ana", "tm.bea", "fin.fay"
KEY = "AD-0000042"
PROVIDER = "PRV-HANDOVER1"
HOME_CARE = {"provider_id": PROVIDER, "services_start_date": "2026-12-01", "payment_type": "care_package",
             "service_type": "home_care", "unit_cost": 21.5, "unit": "hour", "units_per_week": 14}
REQUEST_FIELDS = ("payment_type", "provider_id", "service_type", "unit", "unit_cost", "units_per_week",
                  "one_off_amount", "start_date")


@pytest.fixture
def person(finance_session):
    create_provider(finance_session, reference=PROVIDER)
    return create_person(finance_session)


def others(j) -> dict[str, list[dict]]:
    rows = j.conn.execute(select(process_instance.c.id, process_instance.c.process_key, process_instance.c.status,
                                 process_instance.c.started_by)
                          .where(process_instance.c.business_key == KEY, process_instance.c.id != j.id)
                          .order_by(process_instance.c.id)).mappings().all()
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["process_key"], []).append(dict(r))
    return out


def signed_off(start, publish, person):
    publish("payment_authorisation")  # as after `casework init`
    j = start("care_and_support_plan", KEY, referral_date="2026-11-02", person_id=person.id)
    j.submit("needs_assessment", sample("care-act-needs-assessment"), SW)
    j.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    j.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    return j


def payment_journey(j) -> Journey:
    found = others(j)
    assert list(found) == ["payment_authorisation"] and len(found["payment_authorisation"]) == 1, found
    return Journey(j.wf, j.conn, j.clock, found["payment_authorisation"][0]["id"])


def prefill(p: Journey, task_spec: str) -> dict:
    """What the workspace prefills the task's form with (workspace/services.py::task_data): the READY task's data."""
    item = p.item(task_spec)
    run = p.wf.load(p.conn, item["instance_id"], lock=False)
    return dict(run.workflow.get_task_from_id(UUID(item["task_id"])).data)


def no_pending_messages(conn) -> bool:
    return conn.execute(select(pending_message.c.id).where(pending_message.c.status == "pending")).first() is None


def test_a_paid_service_starts_the_payment_authorisation_prefilled_and_its_decision_comes_back(
        start, publish, person, finance_session):
    j = signed_off(start, publish, person)
    j.submit("arrange_services", sample("arrange-services", **HOME_CARE), SW)
    assert j.open_tasks() == [] and j.status() == "running"  # waiting for the payment decision
    data = j.data()
    assert data["next_process"] == "payment_authorisation"
    assert data["next_process_started"] == {"process_key": "payment_authorisation", "status": "requested"}

    p = payment_journey(j)
    row = others(j)["payment_authorisation"][0]
    assert row["status"] == "running" and row["started_by"] == SW
    start_data = p.data()
    assert {k: start_data.get(k) for k in ("person_id", *REQUEST_FIELDS, "personal_budget_weekly")} == {
        "person_id": person.id, "payment_type": "care_package", "provider_id": PROVIDER, "service_type": "home_care",
        "unit": "hour", "unit_cost": 21.5, "units_per_week": 14, "one_off_amount": None, "start_date": "2026-12-01",
        "personal_budget_weekly": 280.0}
    assert "one_off_amount" not in start_data  # unanswered facts are left out, not passed as empty
    item = p.item("prepare_payment_request")
    assert (item["role"], item["team"]) == ("practitioner", "cin-east")  # the case team's queue

    # the request form opens filled in: the practitioner only says why it is needed
    filled = {k: v for k, v in prefill(p, "prepare_payment_request").items()
              if k in form_schema("payment-request")["properties"]}
    assert {k: filled.get(k) for k in REQUEST_FIELDS if k != "one_off_amount"} == {
        "payment_type": "care_package", "provider_id": PROVIDER, "service_type": "home_care", "unit": "hour",
        "unit_cost": 21.5, "units_per_week": 14, "start_date": "2026-12-01"}
    answers = {**filled, "justification": "Eligible needs: personal care twice a day."}
    assert form_errors("payment-request", answers) == {}
    assert set(form_errors("payment-request", filled)) == {"justification"}  # the one thing left to write
    p.submit("prepare_payment_request", answers, SW)
    agreement = finance_session.scalars(select(Agreement).where(Agreement.process_instance_id == p.id)).one()
    assert (agreement.person_id, agreement.weekly_cost_pence, agreement.status) == (person.id, 30100, "requested")
    p.submit("approve_team_manager", sample("payment-approval"), TM)
    p.submit("set_up_payment_schedule", sample("payment-schedule-setup"), FIN)
    assert p.status() == "completed" and p.data()["payment_outcome"] == "authorised"

    # the decision reached the waiting plan in the same transaction: the first review is scheduled
    data = j.data()
    assert data["payment_outcome"] == "authorised"
    assert (data["review_open_due_date"], data["review_due_date"]) == ("2027-01-15", "2027-01-29")
    assert no_pending_messages(j.conn)


def test_a_one_off_payment_passes_its_amount(start, publish, person):
    j = signed_off(start, publish, person)
    j.submit("arrange_services", sample("arrange-services", provider_id=PROVIDER, payment_type="one_off",
                                        service_type="equipment", one_off_amount=450.0), SW)
    data = payment_journey(j).data()
    assert (data["payment_type"], data["service_type"], data["one_off_amount"]) == ("one_off", "equipment", 450.0)
    assert not {"unit", "unit_cost", "units_per_week"} & set(data)


def test_cost_not_agreed_yet_starts_nothing_and_a_payment_started_by_hand_still_decides(start, publish, person):
    j = signed_off(start, publish, person)
    j.submit("arrange_services", sample("arrange-services", provider_id=PROVIDER), SW)  # no service, no cost
    data = j.data()
    assert data["next_process"] == "none" and "next_process_started" not in data
    assert others(j) == {} and j.status() == "running"
    assert no_pending_messages(j.conn)  # the old "payment_authorisation_requested" message is gone
    assert [m["message_name"] for m in j.wf.current_steps(j.conn, j.id)["messages"]] == [
        "payment_authorisation_decided"]

    # later, from the case view (workspace/record_views.py: the person and today's date as start data)
    by_hand = j.wf.start(j.conn, "payment_authorisation", KEY, {"person_id": person.id,
                                                                 "referral_date": "2026-11-20"}, SW).instance_id
    p = Journey(j.wf, j.conn, j.clock, by_hand)
    assert "service_type" not in prefill(p, "prepare_payment_request")  # nothing to prefill: typed once, here
    p.submit("prepare_payment_request", sample("payment-request", provider_id=PROVIDER), SW)
    p.submit("approve_team_manager", sample("payment-approval", approval_decision="reject",
                                            approval_reason="Use the existing provider contract."), TM)
    assert p.data()["payment_outcome"] == "rejected"
    assert j.open_tasks() == ["draft_care_plan"]  # a rejected payment sends the plan back for revision


def test_a_payment_authorisation_already_running_for_the_case_is_not_started_twice(start, publish, person):
    j = signed_off(start, publish, person)
    running = j.wf.start(j.conn, "payment_authorisation", KEY, {"person_id": person.id}, SW).instance_id
    j.submit("arrange_services", sample("arrange-services", **HOME_CARE), SW)
    assert j.incidents() == [] and [r["id"] for r in others(j)["payment_authorisation"]] == [running]
    assert "service_type" not in j.wf.get_instance(j.conn, running)["data"]  # the running one is left alone


def test_a_rejected_payment_and_a_revised_plan_start_a_new_payment_authorisation(start, publish, person):
    j = signed_off(start, publish, person)
    j.submit("arrange_services", sample("arrange-services", **HOME_CARE), SW)
    p = payment_journey(j)
    p.submit("prepare_payment_request", {**prefill_answers(p), "justification": "Personal care."}, SW)
    p.submit("approve_team_manager", sample("payment-approval", approval_decision="reject",
                                            approval_reason="Too many hours for the assessed needs."), TM)
    assert j.open_tasks() == ["draft_care_plan"]
    j.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    j.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    j.submit("arrange_services", sample("arrange-services", **{**HOME_CARE, "units_per_week": 10}), SW)
    rows = others(j)["payment_authorisation"]
    assert [r["status"] for r in rows] == ["completed", "running"]
    assert j.wf.get_instance(j.conn, rows[1]["id"])["data"]["units_per_week"] == 10


def prefill_answers(p: Journey) -> dict:
    fields = form_schema("payment-request")["properties"]
    return {k: v for k, v in prefill(p, "prepare_payment_request").items() if k in fields and v is not None}


def test_the_whole_form_without_unanswered_fields_works_too(start, publish, person):
    """As workspace/services.py passes it today (every answer, unanswered ones absent): no start without a
    service; with one, the same start as from the routing fields."""
    j = signed_off(start, publish, person)
    item = j.item("arrange_services")
    j.wf.complete_task(j.conn, item["id"], sample("arrange-services", provider_id=PROVIDER), SW)
    assert j.incidents() == [] and others(j) == {} and j.data()["next_process"] == "none"

    k = start("care_and_support_plan", "AD-OTHER", referral_date="2026-11-02", person_id=person.id)
    k.submit("needs_assessment", sample("care-act-needs-assessment"), SW)
    k.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    k.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    item = k.item("arrange_services")
    answers = sample("arrange-services", **HOME_CARE)
    assert routing_fields("arrange-services", answers)["one_off_amount"] is None
    k.wf.complete_task(k.conn, item["id"], answers, SW)
    assert k.incidents() == []
    [payment] = k.conn.execute(select(process_instance.c.id).where(
        process_instance.c.business_key == "AD-OTHER",
        process_instance.c.process_key == "payment_authorisation")).scalars().all()
    assert k.wf.get_instance(k.conn, payment)["data"]["unit_cost"] == 21.5


@pytest.mark.parametrize("answers, missing", [
    ({"service_type": "home_care"}, {"unit_cost", "unit", "units_per_week"}),
    ({"service_type": "equipment", "payment_type": "one_off"}, {"one_off_amount"}),
    ({"unit_cost": 21.5}, {"service_type"}),
])
def test_a_service_needs_its_cost_and_a_cost_needs_its_service(answers, missing):
    """The fields the person is asked for (as workspace/forms/validate.py reads required / dependentRequired)."""
    data = sample("arrange-services", provider_id=PROVIDER, **answers)
    asked = set()
    for error in Draft202012Validator(form_schema("arrange-services")).iter_errors(data):
        assert error.validator in ("required", "dependentRequired"), error.message
        needed = error.validator_value if error.validator == "required" else [
            name for trigger, names in error.validator_value.items() if trigger in data for name in names]
        asked |= {name for name in needed if name not in data}
    assert asked == missing


def test_the_services_form_without_service_or_cost_is_valid():
    assert form_errors("arrange-services", sample("arrange-services")) == {}
    assert form_errors("arrange-services", sample("arrange-services", **HOME_CARE)) == {}


def test_a_plan_the_referral_started_passes_the_person_as_the_number_finance_needs(start, publish, person,
                                                                                  finance_session):
    """The referral's contact form records the person's id as text ("123"); finance.request_agreement wants the
    number, so the payment request of a referral-started plan is recorded without an incident."""
    publish("payment_authorisation")
    j = start("care_and_support_plan", KEY, referral_date="2026-11-02", person_id=str(person.id))
    j.submit("needs_assessment", sample("care-act-needs-assessment"), SW)
    j.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    j.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    j.submit("arrange_services", sample("arrange-services", **HOME_CARE), SW)
    p = payment_journey(j)
    assert p.data()["person_id"] == person.id
    p.submit("prepare_payment_request", {**prefill_answers(p), "justification": "Personal care."}, SW)
    agreement = finance_session.scalars(select(Agreement).where(Agreement.process_instance_id == p.id)).one()
    assert agreement.person_id == person.id and agreement.status == "requested"
