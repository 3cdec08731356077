"""Referral (front door): journeys through the real engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import Forbidden
from tests.processes.conftest import form_errors, london
from tests.processes.samples import sample

PRACTITIONER, MANAGER, OTHER_MANAGER, HEAD = "sw.ana", "tm.bea", "tm.carl", "hos.dee"
HANDED_OVER_TO = ("childrens_assessment", "child_protection", "care_and_support_plan")


@pytest.fixture(autouse=True)
def _next_processes_published(publish):
    """The processes a referral decision starts are published, as `casework init` does."""
    publish(*HANDED_OVER_TO)


def instances_of_case(j, business_key="case-1") -> dict[str, dict]:
    """process key -> the instance row of every other process started for the case."""
    from sqlalchemy import select

    from engine.schema import process_instance

    rows = j.conn.execute(select(process_instance.c.id, process_instance.c.process_key, process_instance.c.status,
                                 process_instance.c.started_by)
                          .where(process_instance.c.business_key == business_key,
                                 process_instance.c.id != j.id)).mappings().all()
    return {r["process_key"]: dict(r) for r in rows}


def front_door(start, clock, referral_date="2026-11-02", **contact):
    j = start("referral", "case-1")
    assert j.open_tasks() == ["record_contact"]
    j.submit("record_contact", sample("referral-contact", referral_date=referral_date, **contact), PRACTITIONER)
    return j


def test_happy_path_children_referral_to_strategy_discussion(start, clock):
    j = front_door(start, clock)
    screen = j.item("screen_referral")
    assert (screen["role"], screen["lane"], screen["team"]) == ("practitioner", "Practitioner", "cin-east")
    # decision due within 1 working day of Monday 2 November: end of Tuesday 3 November
    assert j.due("screen_referral") == datetime(2026, 11, 3, 23, 59, 59, tzinfo=UTC)
    j.submit("screen_referral", sample("referral-screening"), PRACTITIONER)
    decision = j.item("referral_decision")
    assert decision["role"] == "team_manager" and decision["form"] == "referral-decision"
    assert decision["priority"] == 2  # immediate_risk is False
    j.submit("referral_decision", sample("referral-decision"), MANAGER)
    assert j.open_tasks() == ["record_feedback"]
    j.submit("record_feedback", sample("referral-feedback"), PRACTITIONER)
    assert j.status() == "completed"
    data = j.data()
    assert data["next_process"] == "child_protection" and data["decision"] == "strategy_discussion"
    # task data stays small: routing fields only, no free text from the forms
    assert "concerns" not in data and "decision_reason" not in data and "referrer_name" not in data


@pytest.mark.parametrize("decision, service, next_process", [
    ("nfa", "children", "none"),
    ("information_advice", "adults", "none"),
    ("early_help", "children", "early_help"),
    ("childrens_assessment", "children", "childrens_assessment"),
    ("strategy_discussion", "children", "child_protection"),
    ("care_act_assessment", "adults", "care_and_support_plan"),
])
def test_every_decision_branch(start, clock, decision, service, next_process):
    extra = {} if service == "children" else {"referral_source": None, "primary_need": None}
    j = front_door(start, clock, service=service, **extra)
    j.submit("screen_referral", sample("referral-screening", recommendation=decision), PRACTITIONER)
    j.submit("referral_decision", sample("referral-decision", decision=decision), MANAGER)
    j.submit("record_feedback", sample("referral-feedback", feedback_given=False, feedback_date=None,
                                       feedback_method=None, reason_not_given="Anonymous referrer."), PRACTITIONER)
    assert j.status() == "completed"
    assert j.data()["next_process"] == next_process


@pytest.mark.parametrize("decision, service, started, first_task", [
    ("nfa", "children", None, None),
    ("information_advice", "adults", None, None),
    ("early_help", "children", None, None),  # early help is recorded; there is no early help process to start
    ("childrens_assessment", "children", "childrens_assessment", "allocate_assessment"),
    ("strategy_discussion", "children", "child_protection", "strategy_discussion"),
    ("care_act_assessment", "adults", "care_and_support_plan", "needs_assessment"),
])
def test_the_decision_starts_the_next_process_for_the_same_case(start, clock, decision, service, started,
                                                                 first_task):
    from engine.schema import work_item

    extra = {} if service == "children" else {"referral_source": None, "primary_need": None}
    j = front_door(start, clock, service=service, referral_date="2026-11-02", **extra)
    j.submit("screen_referral", sample("referral-screening", recommendation=decision), PRACTITIONER)
    assert instances_of_case(j) == {}
    j.submit("referral_decision", sample("referral-decision", decision=decision), MANAGER)
    assert j.open_tasks() == ["record_feedback"]  # the referral goes on to the feedback either way
    others = instances_of_case(j)
    if started is None:
        assert others == {}
        return
    assert list(others) == [started]
    new = others[started]
    assert new["status"] == "running" and new["started_by"] == MANAGER
    data = j.wf.get_instance(j.conn, new["id"])["data"]
    assert data["referral_date"] == "2026-11-02" and data["person_id"] == "P-1001"
    assert data["referral_decision"] == decision and data["service"] == service
    items = j.wf.work_items_for(j.conn, new["id"])
    assert [i["task_spec"] for i in items] == [first_task]
    from sqlalchemy import select

    team = j.conn.execute(select(work_item.c.team).where(work_item.c.id == items[0]["id"])).scalar_one()
    assert team is not None  # in a team queue, nobody has to type the referral again


def test_a_process_already_running_for_the_case_is_not_started_twice(start, clock):
    j = front_door(start, clock)
    existing = j.wf.start(j.conn, "childrens_assessment", "case-1", {"referral_date": "2026-11-02"}, MANAGER)
    j.submit("screen_referral", sample("referral-screening"), PRACTITIONER)
    j.submit("referral_decision", sample("referral-decision", decision="childrens_assessment"), MANAGER)
    assert instances_of_case(j)["childrens_assessment"]["id"] == existing.instance_id
    assert len(instances_of_case(j)) == 1


def test_an_unpublished_next_process_is_a_visible_incident(start, clock, connection):
    from sqlalchemy import update

    from engine.schema import process_definition

    connection.execute(update(process_definition).where(process_definition.c.process_key == "child_protection")
                       .values(status="retired"))
    j = front_door(start, clock)
    j.submit("screen_referral", sample("referral-screening"), PRACTITIONER)
    item = j.item("referral_decision")
    j.wf.complete_task(j.conn, item["id"], {"decision": "strategy_discussion", "allocated_team": "cp-east"}, MANAGER)
    incidents = j.incidents()
    assert len(incidents) == 1 and "No published process 'child_protection'" in incidents[0]["message"]
    assert instances_of_case(j) == {}


def test_immediate_risk_raises_the_decision_priority(start, clock):
    j = front_door(start, clock, immediate_risk=True)
    j.submit("screen_referral", sample("referral-screening"), PRACTITIONER)
    assert j.item("referral_decision")["priority"] == 1


def test_late_decision_escalates_to_head_of_service_on_the_right_working_day_over_christmas(start, clock):
    # Thursday 24 December 2026. Friday 25 is Christmas Day, Monday 28 the Boxing Day substitute bank holiday:
    # 1 working day later is Tuesday 29 December.
    clock.set(london(2026, 12, 24, 10))
    j = front_door(start, clock, referral_date="2026-12-24")
    assert j.due("screen_referral") == datetime(2026, 12, 29, 23, 59, 59, tzinfo=UTC)
    assert [t["due_at"].replace(tzinfo=UTC).date().isoformat() for t in j.timers()] == ["2026-12-29"]
    j.submit("screen_referral", sample("referral-screening"), PRACTITIONER)
    assert j.fire_timers(london(2026, 12, 28, 17)) == 0  # bank holiday: nothing yet
    assert j.fire_timers(london(2026, 12, 29, 23, 59)) == 0  # still within the due day
    assert "review_overdue_decision" not in j.open_tasks()
    assert j.fire_timers(datetime(2026, 12, 30, 0, 0, 30, tzinfo=UTC)) == 1
    escalation = j.item("review_overdue_decision")
    assert escalation["role"] == "head_of_service" and escalation["priority"] == 1
    assert sorted(j.open_tasks()) == ["referral_decision", "review_overdue_decision"]  # the decision stays open
    j.submit("review_overdue_decision", sample("overdue-escalation"), HEAD)
    j.submit("referral_decision", sample("referral-decision", decision="early_help"), MANAGER)
    j.submit("record_feedback", sample("referral-feedback"), PRACTITIONER)
    assert j.status() == "completed" and j.data()["next_process"] == "early_help"
    history = [e["event_type"] for e in j.wf.history(j.conn, j.id)]
    assert "timer_fired" in history or "timer_fired_late" in history


def test_decision_on_time_cancels_the_escalation_timer(start, clock):
    j = front_door(start, clock)
    j.submit("screen_referral", sample("referral-screening"), PRACTITIONER)
    j.submit("referral_decision", sample("referral-decision"), MANAGER)
    assert j.timers() == []
    assert j.fire_timers(london(2026, 11, 10)) == 0
    assert j.open_tasks() == ["record_feedback"]


def test_four_eyes_the_screener_cannot_make_the_decision(start, clock):
    j = front_door(start, clock)
    j.submit("screen_referral", sample("referral-screening"), MANAGER)  # a manager screened it
    item = j.item("referral_decision")
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.complete_task(j.conn, item["id"], {"decision": "nfa"}, MANAGER)
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.claim(j.conn, item["id"], MANAGER)
    j.submit("referral_decision", sample("referral-decision", decision="nfa"), OTHER_MANAGER)
    assert j.open_tasks() == ["record_feedback"]


def test_cancellation_midway(start, clock):
    j = front_door(start, clock)
    j.wf.cancel(j.conn, j.id, MANAGER, reason="Duplicate referral")
    assert j.status() == "cancelled"
    assert j.open_tasks() == [] and j.timers() == []
    assert j.fire_timers(london(2026, 11, 20)) == 0


def test_invalid_contact_form_is_refused_with_field_errors(start, clock):
    j = start("referral", "case-1")
    bad = sample("referral-contact", referral_date="24/12/2026", referral_source="Z9", primary_need=None,
                 concerns="", referrer_email="not-an-email", consent="maybe")
    errors = form_errors("referral-contact", bad)
    assert set(errors) >= {"referral_date", "referral_source", "concerns", "referrer_email", "consent"}
    assert "primary_need" in errors  # required for children's referrals (CIN census)
    with pytest.raises(AssertionError, match="invalid test data"):
        j.submit("record_contact", bad, PRACTITIONER)
    assert j.open_tasks() == ["record_contact"]  # nothing reached the engine


def test_feedback_form_requires_a_reason_when_no_feedback_given():
    errors = form_errors("referral-feedback", {"feedback_given": False})
    assert "reason_not_given" in errors
    assert form_errors("referral-feedback", {"feedback_given": True}).keys() >= {"feedback_date", "feedback_method"}
