"""Handover after an assessment, through the real engine and connector casework.start_process (as for the
referral's decision): the children's assessment's section 47 outcome starts child protection for the same case
with the assessment's facts as start data; other outcomes start nothing; nothing is started twice. The adults'
Care Act needs assessment is a step inside care_and_support_plan: its outcome starts no other process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from engine.schema import process_definition, process_instance
from tests.processes.conftest import london
from tests.processes.samples import sample

SW, MANAGER = "sw.ana", "tm.bea"
KEY = "case-7"
END_OF = lambda y, m, d: datetime(y, m, d, 23, 59, 59, tzinfo=UTC)  # noqa: E731
# what the referral's decision passes to the assessment it starts (referral.bpmn, "Gather what the next process
# starts with")
FROM_REFERRAL = {"referral_date": "2026-11-02", "person_id": "P-1001", "service": "children",
                 "immediate_risk": True, "referral_decision": "childrens_assessment", "allocated_team": "cin-east"}


def other_instances(j, business_key=KEY) -> dict[str, list[dict]]:
    """process key -> the instance rows (oldest first) of every other process of the case."""
    rows = j.conn.execute(select(process_instance.c.id, process_instance.c.process_key, process_instance.c.status,
                                 process_instance.c.started_by)
                          .where(process_instance.c.business_key == business_key, process_instance.c.id != j.id)
                          .order_by(process_instance.c.id)).mappings().all()
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["process_key"], []).append(dict(r))
    return out


def assessed(start, *, factors=("16A", "3B"), **start_data):
    """Allocated to sw.ana, child seen on 5 November, assessment written (recommending section 47)."""
    j = start("childrens_assessment", KEY, **(start_data or FROM_REFERRAL))
    j.submit("allocate_assessment", sample("assessment-allocation"), MANAGER)
    j.submit("record_child_seen", sample("child-seen", child_seen_date="2026-11-05"), SW)
    j.submit("complete_assessment", sample("single-assessment", assessment_factors=list(factors),
                                           recommended_outcome="section_47"), SW)
    return j


def authorise(j, outcome):
    j.submit("authorise_assessment", sample("assessment-authorisation", outcome=outcome), MANAGER)


def test_section_47_starts_child_protection_with_the_assessments_facts(start, publish, clock):
    publish("child_protection")
    j = assessed(start)
    assert other_instances(j) == {}
    # authorised on Thursday 24 December 2026: the strategy discussion is due 1 working day after that day
    # (25 December and the Boxing Day substitute holiday on Monday 28 skipped), not after the referral
    clock.set(london(2026, 12, 24, 10))
    authorise(j, "section_47")
    assert j.status() == "completed"
    data = j.data()
    assert data["next_process"] == "child_protection"
    assert data["next_process_started"] == {"process_key": "child_protection", "status": "requested"}

    started = other_instances(j)
    assert list(started) == ["child_protection"] and len(started["child_protection"]) == 1
    cp = started["child_protection"][0]
    assert cp["status"] == "running" and cp["started_by"] == MANAGER  # the manager who authorised it
    cp_data = j.wf.get_instance(j.conn, cp["id"])["data"]
    assert {k: cp_data.get(k) for k in (
        "referral_date", "concerns_date", "person_id", "service", "immediate_risk", "assessment_outcome",
        "assessment_factors", "assessment_worker", "assessment_child_seen_date")} == {
        "referral_date": "2026-11-02", "concerns_date": "2026-12-24", "person_id": "P-1001", "service": "children",
        "immediate_risk": True, "assessment_outcome": "section_47", "assessment_factors": ["16A", "3B"],
        "assessment_worker": SW, "assessment_child_seen_date": "2026-11-05"}
    # the enquiry records its own child-seen date: the assessment's never prefills it
    assert "child_seen_date" not in cp_data

    items = j.wf.work_items_for(j.conn, cp["id"])
    assert [i["task_spec"] for i in items] == ["strategy_discussion"]
    strategy = items[0]
    assert strategy["team"] == "cin-east" and strategy["role"] == "practitioner"  # in the case team's queue
    due = strategy["due_at"] if strategy["due_at"].tzinfo else strategy["due_at"].replace(tzinfo=UTC)
    assert due == END_OF(2026, 12, 29)


@pytest.mark.parametrize("outcome, next_process", [
    ("nfa", "none"),
    ("cin_plan", "child_in_need_plan"),  # no child in need plan process yet: recorded, nothing started
    ("step_down", "early_help"),  # no early help process yet
])
def test_other_outcomes_start_nothing(start, publish, outcome, next_process):
    publish("child_protection")  # published, so nothing starting is the model's choice
    j = assessed(start)
    authorise(j, outcome)
    assert j.status() == "completed" and j.incidents() == []
    data = j.data()
    assert data["next_process"] == next_process and "next_process_started" not in data
    assert other_instances(j) == {}


def test_an_assessment_started_from_the_case_view_hands_over_too(start, publish, clock):
    """Started by hand with the referral date only (the demo and the case view): the missing referral facts
    are passed as empty, the child protection process still starts and its deadline still works."""
    publish("child_protection")
    j = assessed(start, referral_date="2026-11-02")
    clock.set(london(2026, 11, 19, 15))  # Thursday
    authorise(j, "section_47")
    [cp] = other_instances(j)["child_protection"]
    cp_data = j.wf.get_instance(j.conn, cp["id"])["data"]
    assert (cp_data["person_id"], cp_data["service"], cp_data["immediate_risk"]) == (None, "children", None)
    assert cp_data["concerns_date"] == "2026-11-19"
    strategy = j.wf.work_items_for(j.conn, cp["id"])[0]
    due = strategy["due_at"] if strategy["due_at"].tzinfo else strategy["due_at"].replace(tzinfo=UTC)
    assert due == END_OF(2026, 11, 20)


def test_child_protection_already_running_for_the_case_is_not_started_twice(start, publish):
    """E.g. the referral's decision already started a strategy discussion (the demo's first story)."""
    publish("child_protection")
    j = assessed(start)
    existing = j.wf.start(j.conn, "child_protection", KEY, {"referral_date": "2026-11-02"}, MANAGER).instance_id
    authorise(j, "section_47")
    assert j.status() == "completed" and j.incidents() == []
    cps = other_instances(j)["child_protection"]
    assert [c["id"] for c in cps] == [existing]
    # the running one is left alone: its strategy discussion stays due from the referral
    assert j.wf.get_instance(j.conn, existing)["data"]["concerns_date"] == "2026-11-02"
    assert [i["task_spec"] for i in j.wf.work_items_for(j.conn, existing)] == ["strategy_discussion"]


def test_a_finished_child_protection_process_does_not_block_new_concerns(start, publish):
    publish("child_protection")
    j = assessed(start)
    earlier = j.wf.start(j.conn, "child_protection", KEY, {"referral_date": "2026-11-02"}, MANAGER).instance_id
    strategy = j.wf.work_items_for(j.conn, earlier)[0]
    j.wf.complete_task(j.conn, strategy["id"], {"strategy_discussion_date": "2026-11-03",
                                                "strategy_outcome": "single_assessment"}, SW)
    assert j.wf.get_instance(j.conn, earlier)["status"] == "completed"
    authorise(j, "section_47")
    cps = other_instances(j)["child_protection"]
    assert [c["status"] for c in cps] == ["completed", "running"] and cps[0]["id"] == earlier


def test_a_returned_assessment_starts_child_protection_once_when_authorised(start, publish):
    publish("child_protection")
    j = assessed(start)
    j.submit("authorise_assessment", sample("assessment-authorisation", authorisation="return", outcome=None,
                                            manager_comments="Add the police checks."), MANAGER)
    assert other_instances(j) == {}  # returning it starts nothing
    j.submit("complete_assessment", sample("single-assessment", recommended_outcome="section_47"), SW)
    authorise(j, "section_47")
    assert len(other_instances(j)["child_protection"]) == 1
    history = j.wf.history(j.conn, j.id)
    assert [e["task_spec"] for e in history if e["task_spec"] == "start_next_process"
            and e["event_type"] in ("step_completed", "task_completed")] == ["start_next_process"]


def test_an_unpublished_child_protection_process_is_a_visible_incident(start, publish, connection):
    publish("child_protection")
    connection.execute(update(process_definition).where(process_definition.c.process_key == "child_protection")
                       .values(status="retired"))
    j = assessed(start)
    item = j.item("authorise_assessment")
    j.wf.complete_task(j.conn, item["id"], {"authorisation": "authorise", "outcome": "section_47"}, MANAGER)
    incidents = j.incidents()
    assert len(incidents) == 1 and incidents[0]["task_spec"] == "start_next_process"
    assert "No published process 'child_protection'" in incidents[0]["message"]
    assert j.status() != "completed" and other_instances(j) == {}


def test_referral_to_assessment_to_child_protection_on_one_case(start, publish, clock):
    """The whole chain on one case: each process starts the next one, once, with what the previous knew."""
    publish("childrens_assessment", "child_protection", "care_and_support_plan")
    referral = start("referral", KEY)
    referral.submit("record_contact", sample("referral-contact", immediate_risk=True), SW)
    referral.submit("screen_referral", sample("referral-screening", recommendation="childrens_assessment"), SW)
    referral.submit("referral_decision", sample("referral-decision", decision="childrens_assessment",
                                                allocated_team="cin-east"), MANAGER)
    [assessment] = other_instances(referral)["childrens_assessment"]
    from tests.processes.conftest import Journey

    j = Journey(referral.wf, referral.conn, clock, assessment["id"])
    j.submit("allocate_assessment", sample("assessment-allocation"), MANAGER)
    j.submit("record_child_seen", sample("child-seen"), SW)
    j.submit("complete_assessment", sample("single-assessment", recommended_outcome="section_47"), SW)
    authorise(j, "section_47")
    started = other_instances(referral)
    assert sorted(started) == ["child_protection", "childrens_assessment"]
    assert len(started["child_protection"]) == 1 and len(started["childrens_assessment"]) == 1
    cp_data = j.wf.get_instance(j.conn, started["child_protection"][0]["id"])["data"]
    assert (cp_data["referral_date"], cp_data["person_id"], cp_data["immediate_risk"]) == ("2026-11-02", "P-1001",
                                                                                           True)
    assert cp_data["assessment_factors"] == ["3B", "4B"]


# --------------------------------------------------------------------------------------------- adults
@pytest.mark.parametrize("answers, next_step", [
    ({}, "draft_care_plan"),  # eligible: the plan is the next step of the same instance
    ({"wellbeing_impact": "none"}, "record_not_eligible"),  # not eligible: written record, then the end
])
def test_the_care_act_assessment_outcome_continues_in_the_same_process(start, publish, answers, next_step):
    """The Care Act needs assessment is the first step of care_and_support_plan (the referral's decision
    care_act_assessment starts that process): its outcome starts no other process."""
    publish("childrens_assessment", "child_protection", "payment_authorisation")
    j = start("care_and_support_plan", KEY, referral_date="2026-11-02")
    j.submit("needs_assessment", sample("care-act-needs-assessment", **answers), SW)
    assert j.open_tasks() == [next_step]
    assert j.data()["eligible"] is (next_step == "draft_care_plan")
    assert other_instances(j) == {}
