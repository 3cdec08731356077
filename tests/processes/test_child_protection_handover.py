"""Handovers out of child protection, through the real engine and connector casework.start_process: a strategy
discussion that decides on a single assessment, a conference not required (confirmed by a manager) or a
conference without a plan starts the children's single assessment for the same case with what child protection
found; a child whose authorised assessment led to the enquiry goes on to a child in need plan instead (no such
process yet: nothing started); no further action and an ended plan start nothing; nothing is started twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from engine.schema import process_definition, process_instance
from tests.processes.conftest import Journey, london
from tests.processes.samples import sample

SW, MANAGER, HEAD = "sw.ana", "tm.bea", "hos.dee"
KEY = "case-9"
END_OF = lambda y, m, d: datetime(y, m, d, 23, 59, 59, tzinfo=UTC)  # noqa: E731
# what the referral's decision passes to child protection (referral.bpmn, "Gather what the next process starts with")
FROM_REFERRAL = {"referral_date": "2026-11-02", "person_id": "P-1001", "service": "children",
                 "immediate_risk": True, "referral_decision": "strategy_discussion", "allocated_team": "cp-east"}
# what the children's assessment passes when it is authorised with outcome section 47
FROM_ASSESSMENT = {**FROM_REFERRAL, "concerns_date": "2026-11-19", "assessment_outcome": "section_47",
                   "assessment_factors": ["3B"], "assessment_worker": SW, "assessment_child_seen_date": "2026-11-05"}


def others(j, key=KEY) -> dict[str, list[dict]]:
    """process key -> the instance rows (oldest first) of every other process of the case."""
    rows = j.conn.execute(select(process_instance.c.id, process_instance.c.process_key, process_instance.c.status,
                                 process_instance.c.started_by)
                          .where(process_instance.c.business_key == key, process_instance.c.id != j.id)
                          .order_by(process_instance.c.id)).mappings().all()
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["process_key"], []).append(dict(r))
    return out


def protection(start, publish, start_data=None, *, outcome="section_47", when="2026-11-03"):
    publish("childrens_assessment")  # as after `casework init`
    j = start("child_protection", KEY, **(start_data or FROM_REFERRAL))
    j.submit("strategy_discussion", sample("strategy-discussion", strategy_discussion_date=when,
                                           strategy_outcome=outcome), SW)
    return j


def no_conference(j, enquiry_outcome="no_icpc"):
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_start_date="2026-11-04",
                                          enquiry_outcome=enquiry_outcome), SW)
    j.submit("confirm_no_conference", sample("no-conference-confirmation"), MANAGER)


def started_assessment(j) -> tuple[dict, dict]:
    """The one children's assessment started for the case: (instance row, its data)."""
    found = others(j)
    assert list(found) == ["childrens_assessment"] and len(found["childrens_assessment"]) == 1, found
    row = found["childrens_assessment"][0]
    return row, j.wf.get_instance(j.conn, row["id"])["data"]


HANDOVER_KEYS = ("referral_date", "person_id", "service", "immediate_risk", "child_protection_outcome",
                 "child_protection_strategy_date", "child_protection_enquiry_start_date",
                 "child_protection_icpc_date")


def test_strategy_discussion_deciding_on_a_single_assessment_starts_it(start, publish, clock):
    clock.set(london(2026, 11, 3, 15))
    j = protection(start, publish, outcome="single_assessment")
    assert j.status() == "completed"
    data = j.data()
    assert data["next_process"] == "childrens_assessment"
    assert data["next_process_started"] == {"process_key": "childrens_assessment", "status": "requested"}
    row, a = started_assessment(j)
    assert row["status"] == "running" and row["started_by"] == SW  # the worker who recorded the discussion
    assert {k: a.get(k) for k in HANDOVER_KEYS} == {
        "referral_date": "2026-11-02", "person_id": "P-1001", "service": "children", "immediate_risk": True,
        "child_protection_outcome": "strategy_single_assessment", "child_protection_strategy_date": "2026-11-03",
        "child_protection_enquiry_start_date": None, "child_protection_icpc_date": None}
    # nothing the assessment's own steps record is prefilled by the handover
    assert not {"allocation_date", "allocated_worker", "child_seen_date", "assessment_factors", "outcome",
                "priority"} & set(a)
    items = j.wf.work_items_for(j.conn, row["id"])
    assert [i["task_spec"] for i in items] == ["allocate_assessment"]
    assert items[0]["team"] == "cin-east" and items[0]["role"] == "team_manager"
    due = items[0]["due_at"] if items[0]["due_at"].tzinfo else items[0]["due_at"].replace(tzinfo=UTC)
    assert due == END_OF(2026, 11, 3)  # allocation: 1 working day after the referral, as from the referral


def test_no_further_action_at_the_strategy_discussion_starts_nothing(start, publish):
    j = protection(start, publish, outcome="nfa")
    assert j.status() == "completed" and j.incidents() == []
    data = j.data()
    assert data["next_process"] == "none" and "next_process_started" not in data
    assert others(j) == {}


def test_conference_not_required_for_a_child_not_yet_assessed_starts_the_assessment(start, publish):
    j = protection(start, publish)
    no_conference(j)
    assert j.status() == "completed" and j.data()["next_process"] == "childrens_assessment"
    _, a = started_assessment(j)
    assert (a["child_protection_outcome"], a["child_protection_strategy_date"],
            a["child_protection_enquiry_start_date"], a["child_protection_icpc_date"]) == (
        "enquiry_no_icpc", "2026-11-03", "2026-11-04", None)


def test_conference_not_required_after_an_authorised_assessment_goes_to_a_child_in_need_plan(start, publish):
    """Child protection started by an assessment's section 47 outcome: the child has just been assessed, so
    "continue under child in need" means a child in need plan (no such process yet), not a second assessment."""
    j = protection(start, publish, FROM_ASSESSMENT)
    no_conference(j)
    assert j.status() == "completed" and j.incidents() == []
    data = j.data()
    assert data["next_process"] == "child_in_need_plan" and "next_process_started" not in data
    assert others(j) == {}


def test_concerns_not_substantiated_start_nothing(start, publish):
    j = protection(start, publish)
    no_conference(j, "nfa")
    assert j.status() == "completed" and j.data()["next_process"] == "none"
    assert others(j) == {}


@pytest.mark.parametrize("start_data, next_process, started", [
    (FROM_REFERRAL, "childrens_assessment", True),
    (FROM_ASSESSMENT, "child_in_need_plan", False),
])
def test_conference_without_a_plan(start, publish, start_data, next_process, started):
    j = protection(start, publish, start_data)
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="no_icpc"), SW)
    j.submit("confirm_no_conference", sample("no-conference-confirmation", confirm="disagree"), MANAGER)
    j.submit("record_icpc", sample("icpc-outcome", icpc_date="2026-11-20", icpc_outcome="no_plan",
                                   category_of_abuse=None, lead_social_worker=None), SW)
    assert j.status() == "completed" and j.data()["next_process"] == next_process
    if started:
        _, a = started_assessment(j)
        assert (a["child_protection_outcome"], a["child_protection_icpc_date"]) == ("icpc_no_plan", "2026-11-20")
    else:
        assert others(j) == {}


@pytest.mark.parametrize("end_reason, next_process", [("step_down_cin", "child_in_need_plan"),
                                                      ("no_longer_at_risk", "none")])
def test_an_ended_plan_starts_nothing_and_still_stops_the_visits(start, publish, end_reason, next_process):
    j = protection(start, publish)
    j.submit("section_47_enquiry", sample("section-47-enquiry"), SW)
    j.submit("record_icpc", sample("icpc-outcome"), SW)
    j.submit("record_review", sample("review-conference", review_date="2027-02-19", review_outcome="end_plan"), SW)
    assert j.open_tasks() == ["record_core_group", "record_plan_end", "record_visit"]
    j.submit("record_plan_end", sample("cp-plan-end", plan_end_date="2027-02-19", end_reason=end_reason), SW)
    assert j.status() == "completed" and j.open_tasks() == [] and j.timers() == []  # terminated
    data = j.data()
    assert data["next_process"] == next_process and "next_process_started" not in data
    assert others(j) == {}


def test_an_assessment_already_running_for_the_case_is_not_started_twice(start, publish):
    """E.g. the practitioner started one from the case view while the strategy discussion was being arranged."""
    publish("childrens_assessment")
    running = start("childrens_assessment", KEY, referral_date="2026-11-02")
    j = protection(start, publish, outcome="single_assessment")
    assert j.status() == "completed" and j.incidents() == []
    assert [r["id"] for r in others(j)["childrens_assessment"]] == [running.id]
    assert running.open_tasks() == ["allocate_assessment"]
    assert "child_protection_outcome" not in running.data()  # the running one is left alone


def test_the_head_of_services_escalation_stays_open_when_there_is_no_plan(start, publish):
    """Only an ended plan finishes with the terminate end event: a late conference's escalation task is not
    cancelled by a no-plan ending (the head of service still answers it), and the assessment still starts."""
    j = protection(start, publish)
    assert j.fire_timers(datetime(2026, 11, 25, 0, 1, tzinfo=UTC)) == 1  # ICPC due 24 November
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="icpc"), SW)
    j.submit("record_icpc", sample("icpc-outcome", icpc_date="2026-11-26", icpc_outcome="no_plan",
                                   category_of_abuse=None, lead_social_worker=None), SW)
    assert j.open_tasks() == ["review_overdue_icpc"] and j.status() == "running"
    assert len(others(j)["childrens_assessment"]) == 1
    j.submit("review_overdue_icpc", sample("overdue-escalation"), HEAD)
    assert j.status() == "completed"


def test_an_unpublished_assessment_is_a_visible_incident(start, publish, connection):
    j = protection(start, publish, outcome="section_47")
    connection.execute(update(process_definition).where(process_definition.c.process_key == "childrens_assessment")
                       .values(status="retired"))
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="no_icpc"), SW)
    item = j.item("confirm_no_conference")
    j.wf.complete_task(j.conn, item["id"], {"confirm": "agree"}, MANAGER)
    incidents = j.incidents()
    assert len(incidents) == 1 and incidents[0]["task_spec"] == "start_next_process"
    assert "No published process 'childrens_assessment'" in incidents[0]["message"]
    assert j.status() != "completed" and others(j) == {}


def test_referral_to_strategy_discussion_to_assessment_to_new_concerns_on_one_case(start, publish, clock):
    """Each process starts the next for the case, once, with what the previous one knew: referral -> strategy
    discussion (single assessment) -> assessment -> section 47 -> child protection again (the finished one does
    not block new concerns)."""
    publish("childrens_assessment", "child_protection", "care_and_support_plan")
    referral = start("referral", KEY)
    referral.submit("record_contact", sample("referral-contact", immediate_risk=True), SW)
    referral.submit("screen_referral", sample("referral-screening"), SW)
    referral.submit("referral_decision", sample("referral-decision"), MANAGER)  # strategy discussion, cp-east
    [cp] = others(referral)["child_protection"]
    c = Journey(referral.wf, referral.conn, clock, cp["id"])
    c.submit("strategy_discussion", sample("strategy-discussion", strategy_outcome="single_assessment"), SW)
    assert c.status() == "completed"
    [assessment] = others(referral)["childrens_assessment"]
    a = Journey(referral.wf, referral.conn, clock, assessment["id"])
    assert a.data()["child_protection_outcome"] == "strategy_single_assessment"
    assert (a.data()["referral_date"], a.data()["person_id"], a.data()["immediate_risk"]) == (
        "2026-11-02", "P-1001", True)
    a.submit("allocate_assessment", sample("assessment-allocation"), MANAGER)
    a.submit("record_child_seen", sample("child-seen"), SW)
    a.submit("complete_assessment", sample("single-assessment", recommended_outcome="section_47"), SW)
    a.submit("authorise_assessment", sample("assessment-authorisation", outcome="section_47"), MANAGER)
    cps = others(referral)["child_protection"]
    assert [r["status"] for r in cps] == ["completed", "running"]
    assert len(others(referral)["childrens_assessment"]) == 1
    assert referral.wf.get_instance(referral.conn, cps[1]["id"])["data"]["assessment_outcome"] == "section_47"
