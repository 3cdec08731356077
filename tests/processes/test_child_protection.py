"""Child protection: strategy discussion -> section 47 -> ICPC -> plan (core groups, visits, reviews)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.errors import Forbidden
from engine.schema import process_instance
from tests.processes.conftest import bundle_for, form_errors, london
from tests.processes.samples import sample

SW, MANAGER, HEAD = "sw.ana", "tm.bea", "hos.dee"
LONDON = ZoneInfo("Europe/London")
PLAN_TASKS = ["record_core_group", "record_review", "record_visit"]


def END_OF(y, m, d):  # noqa: N802
    """End of a day in London (GMT in winter, BST in summer), as the models compute due dates."""
    return datetime(y, m, d, 23, 59, 59, tzinfo=LONDON).astimezone(UTC)


def strategy(start, clock, when="2026-11-03", outcome="section_47"):
    j = start("child_protection", "case-3", referral_date="2026-11-02")
    # single assessment / no conference / no plan start it (test_child_protection_handover.py), as after `casework init`
    j.wf.publish(j.conn, bundle_for("childrens_assessment"), "configurator")
    assert j.open_tasks() == ["strategy_discussion"]
    assert j.due("strategy_discussion") == END_OF(2026, 11, 3)
    j.submit("strategy_discussion", sample("strategy-discussion", strategy_discussion_date=when,
                                           strategy_outcome=outcome), SW)
    return j


def on_plan(start, clock):
    j = strategy(start, clock)
    j.submit("section_47_enquiry", sample("section-47-enquiry"), SW)
    j.submit("record_icpc", sample("icpc-outcome"), SW)  # conference on Friday 20 November 2026
    assert j.open_tasks() == PLAN_TASKS
    return j


def test_happy_path_to_a_plan_and_its_end(start, clock):
    j = strategy(start, clock)
    # ICPC within 15 working days of Tuesday 3 November: Tuesday 24 November
    assert j.due("section_47_enquiry") == END_OF(2026, 11, 24)
    j.submit("section_47_enquiry", sample("section-47-enquiry"), SW)
    assert j.due("record_icpc") == END_OF(2026, 11, 24)
    j.submit("record_icpc", sample("icpc-outcome"), SW)
    assert j.open_tasks() == PLAN_TASKS
    data = j.data()
    assert (data["plan_start_date"], data["category_of_abuse"]) == ("2026-11-20", "physical")
    # first core group and first visit within 10 working days of Friday 20 November: Friday 4 December
    assert j.due("record_core_group") == END_OF(2026, 12, 4)
    assert j.due("record_visit") == END_OF(2026, 12, 4)
    # first review within 3 months (20 February 2027 is a Saturday, so Friday 19 February)
    assert j.due("record_review") == END_OF(2027, 2, 19)
    j.submit("record_visit", sample("cp-visit", visit_date="2026-12-01"), SW)
    assert j.due("record_visit") == END_OF(2026, 12, 15)  # the next visit: 10 working days after this one
    j.submit("record_core_group", sample("core-group-meeting", core_group_date="2026-12-01"), SW)
    assert j.due("record_core_group") == END_OF(2027, 1, 15)  # 30 working days later, across Christmas
    j.submit("record_review", sample("review-conference", review_date="2027-02-19"), SW)
    assert j.due("record_review") == END_OF(2027, 8, 19)  # then every 6 months
    j.submit("record_review", sample("review-conference", review_date="2027-08-19", review_outcome="end_plan"), SW)
    # visits and core groups go on until the plan's end is recorded; then the terminate end event stops them
    assert j.open_tasks() == ["record_core_group", "record_plan_end", "record_visit"]
    j.submit("record_plan_end", sample("cp-plan-end", plan_end_date="2027-08-19"), SW)
    assert j.status() == "completed"
    assert j.data()["next_process"] == "child_in_need_plan"
    assert j.timers() == [] and j.open_tasks() == []


@pytest.mark.parametrize("outcome, next_process", [("single_assessment", "childrens_assessment"), ("nfa", "none")])
def test_strategy_discussion_without_section_47(start, clock, outcome, next_process):
    j = strategy(start, clock, outcome=outcome)
    assert j.status() == "completed" and j.data()["next_process"] == next_process


@pytest.mark.parametrize("enquiry_outcome, next_process", [("no_icpc", "childrens_assessment"), ("nfa", "none")])
def test_conference_not_required_confirmed_by_a_manager(start, clock, enquiry_outcome, next_process):
    j = strategy(start, clock)
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome=enquiry_outcome), SW)
    assert j.item("confirm_no_conference")["role"] == "team_manager"
    j.submit("confirm_no_conference", sample("no-conference-confirmation"), MANAGER)
    assert j.status() == "completed" and j.data()["next_process"] == next_process


def test_manager_disagrees_and_a_conference_is_held(start, clock):
    j = strategy(start, clock)
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="no_icpc"), SW)
    j.submit("confirm_no_conference", sample("no-conference-confirmation", confirm="disagree"), MANAGER)
    assert j.open_tasks() == ["record_icpc"]
    j.submit("record_icpc", sample("icpc-outcome", icpc_outcome="no_plan", category_of_abuse=None,
                                   lead_social_worker=None), SW)
    assert j.status() == "completed" and j.data()["next_process"] == "childrens_assessment"


def test_further_strategy_discussion_restarts_the_15_day_clock(start, clock):
    j = strategy(start, clock)
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="further_strategy"), SW)
    assert j.open_tasks() == ["strategy_discussion"]
    j.submit("strategy_discussion", sample("strategy-discussion", strategy_discussion_date="2026-11-10"), SW)
    assert j.due("section_47_enquiry") == END_OF(2026, 12, 1)  # 15 working days after the LAST discussion
    assert [t["due_at"].replace(tzinfo=UTC) for t in j.timers()] == [END_OF(2026, 12, 1)]


def test_four_eyes_the_enquiry_author_cannot_confirm_no_conference(start, clock):
    j = strategy(start, clock)
    j.submit("section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="no_icpc"), MANAGER)
    item = j.item("confirm_no_conference")
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.complete_task(j.conn, item["id"], {"confirm": "agree"}, MANAGER)
    j.submit("confirm_no_conference", sample("no-conference-confirmation"), "tm.other")
    assert j.status() == "completed"


def test_late_conference_escalates_on_working_day_16_across_christmas(start, clock):
    clock.set(london(2026, 12, 14))
    j = strategy(start, clock, when="2026-12-14")
    # 15 working days after Monday 14 December, skipping 25 and 28 December and 1 January: Thursday 7 January
    assert j.due("section_47_enquiry") == END_OF(2027, 1, 7)
    assert j.fire_timers(london(2027, 1, 7, 23, 59)) == 0
    assert j.fire_timers(datetime(2027, 1, 8, 0, 1, tzinfo=UTC)) == 1
    assert j.item("review_overdue_icpc")["role"] == "head_of_service"
    j.submit("review_overdue_icpc", sample("overdue-escalation"), HEAD)
    j.submit("section_47_enquiry", sample("section-47-enquiry"), SW)
    j.submit("record_icpc", sample("icpc-outcome", icpc_date="2027-01-11"), SW)
    assert j.open_tasks() == PLAN_TASKS


def test_missed_core_group_visit_and_review_escalate(start, clock):
    j = on_plan(start, clock)
    assert j.fire_timers(london(2026, 12, 4, 23, 0)) == 0
    # the core group and the visit are both due on 4 December. The engine fires one timer and SpiffWorkflow
    # readies the other in the same run without running it (engine gap, see docs/processes.md); the next
    # operation on the instance runs it. This test holds with and without the fix.
    assert j.fire_timers(datetime(2026, 12, 5, 0, 1, tzinfo=UTC)) >= 1
    assert j.item("review_overdue_core_group")["role"] == "team_manager"
    j.submit("review_overdue_core_group", sample("overdue-escalation"), MANAGER)
    assert j.item("review_overdue_visit")["role"] == "team_manager"
    j.submit("review_overdue_visit", sample("overdue-escalation"), MANAGER)
    j.submit("record_visit", sample("cp-visit", visit_date="2026-12-07"), SW)  # next visit due 21 December
    assert j.fire_timers(datetime(2027, 2, 20, 0, 1, tzinfo=UTC)) >= 1  # that visit and the review are late
    j.submit("review_overdue_visit", sample("overdue-escalation"), MANAGER)
    assert j.item("review_overdue_review")["role"] == "head_of_service"


def test_cancellation_midway_through_a_plan(start, clock):
    j = on_plan(start, clock)
    j.submit("record_visit", sample("cp-visit"), SW)
    j.wf.cancel(j.conn, j.id, MANAGER, reason="Child moved to another local authority")
    assert j.status() == "cancelled" and j.open_tasks() == [] and j.timers() == []


def test_invalid_conference_record_is_refused_with_field_errors(start, clock):
    j = strategy(start, clock)
    j.submit("section_47_enquiry", sample("section-47-enquiry"), SW)
    bad = sample("icpc-outcome", category_of_abuse=None, icpc_date="2026-02-30x")
    errors = form_errors("icpc-outcome", bad)
    assert set(errors) >= {"category_of_abuse", "icpc_date"}
    assert "reason_not_seen" in form_errors("cp-visit", sample("cp-visit", child_seen=False))
    assert "agencies_present" in form_errors("strategy-discussion",
                                             sample("strategy-discussion", agencies_present=["police"]))
    with pytest.raises(AssertionError, match="invalid test data"):
        j.submit("record_icpc", bad, SW)
    assert j.open_tasks() == ["record_icpc"]


def test_three_year_plan_step_cost_stays_flat(start, clock, connection):
    """Three years of visits, core groups and reviews in one instance: the last steps cost no more than the
    first (the loops sit in their own subprocesses, which the engine prunes after every step)."""
    j = on_plan(start, clock)
    timings: list[tuple[str, float, int]] = []

    def state_size() -> int:
        return len(connection.execute(select(process_instance.c.state)
                                      .where(process_instance.c.id == j.id)).scalar_one())

    def task_count() -> int:
        workflow = j.wf.load(connection, j.id, lock=False).workflow
        return len(workflow.tasks) + sum(len(sp.tasks) for sp in workflow.subprocesses.values())

    plan_end = date(2029, 11, 20)
    reviews = 0
    while True:
        items = {k: v for k, v in j.items().items() if k in PLAN_TASKS}
        spec, item = min(items.items(), key=lambda kv: (kv[1]["due_at"], kv[0]))
        due = j.due(spec).date()
        j.fire_timers(london(due.year, due.month, due.day, 9))
        day = due.isoformat()
        if spec == "record_visit":
            data = sample("cp-visit", visit_date=day)
        elif spec == "record_core_group":
            data = sample("core-group-meeting", core_group_date=day)
        else:
            reviews += 1
            data = sample("review-conference", review_date=day,
                          review_outcome="end_plan" if due >= plan_end else "continue")
        began = time.process_time()  # CPU time: other jobs on the machine do not count
        j.submit(spec, data, SW)
        timings.append((spec, (time.process_time() - began) * 1000, state_size(), task_count()))
        if spec == "record_review" and due >= plan_end:
            break
    assert "record_plan_end" in j.open_tasks()
    assert not [t for t in j.open_tasks() if t.startswith("review_overdue")], "everything was done on time"
    j.submit("record_plan_end", sample("cp-plan-end", plan_end_date=plan_end.isoformat()), SW)
    assert j.status() == "completed"

    visits = [t for t in timings if t[0] == "record_visit"]
    assert len(visits) >= 75 and reviews == 7 and len(timings) >= 105
    first, last = visits[:10], visits[-10:]
    first_ms, last_ms = statistics.median(t[1] for t in first), statistics.median(t[1] for t in last)
    first_best, last_best = min(t[1] for t in first), min(t[1] for t in last)
    first_kb, last_kb = visits[0][2] / 1024, visits[-1][2] / 1024
    print(f"\n3-year child protection plan: {len(timings)} steps ({len(visits)} visits, {reviews} reviews); "
          f"visit step CPU time: first 10 median {first_ms:.1f} ms (best {first_best:.1f}), last 10 median "
          f"{last_ms:.1f} ms (best {last_best:.1f}); state {first_kb:.1f} KB -> {last_kb:.1f} KB; "
          f"tasks in state {visits[0][3]} -> {visits[-1][3]}")
    # what the step cost depends on does not grow: the state and its task tree stay the same size
    assert visits[-1][3] <= visits[0][3], (visits[0][3], visits[-1][3])
    assert last_kb <= first_kb * 1.05 + 0.5, (first_kb, last_kb)
    # and the measured cost of the last steps is not higher than the first (tolerance for a busy machine)
    assert last_best <= first_best * 1.5 + 5.0, (first_best, last_best)
