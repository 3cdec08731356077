"""Children's single assessment: journeys through the real engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import Forbidden
from tests.factories import create_user
from tests.processes.conftest import form_errors, london
from tests.processes.samples import sample

SW, MANAGER, HEAD = "sw.ana", "tm.bea", "hos.dee"
END_OF = lambda y, m, d: datetime(y, m, d, 23, 59, 59, tzinfo=UTC)  # noqa: E731


def allocated(start, priority="standard"):
    j = start("childrens_assessment", "case-2", referral_date="2026-11-02")
    assert j.open_tasks() == ["allocate_assessment"]
    assert j.item("allocate_assessment")["role"] == "team_manager"
    j.submit("allocate_assessment", sample("assessment-allocation", priority=priority), MANAGER)
    return j


def assessed(j, outcome="cin_plan"):
    j.submit("record_child_seen", sample("child-seen"), SW)
    j.submit("complete_assessment", sample("single-assessment", recommended_outcome=outcome), SW)


def test_happy_path_and_45_working_days_across_christmas(start):
    j = allocated(start)
    # 45 working days after Monday 2 November 2026, skipping 25 and 28 December and 1 January: Thursday 7 January
    assert j.data()["assessment_due_date"] == "2027-01-07"
    assert j.due("record_child_seen") == END_OF(2026, 11, 9)  # standard: 5 working days after allocation
    assert j.item("record_child_seen")["priority"] == 2
    j.submit("record_child_seen", sample("child-seen"), SW)
    assert j.due("complete_assessment") == END_OF(2027, 1, 7)
    j.submit("complete_assessment", sample("single-assessment"), SW)
    auth = j.item("authorise_assessment")
    assert auth["role"] == "team_manager" and auth["form"] == "assessment-authorisation"
    j.submit("authorise_assessment", sample("assessment-authorisation"), MANAGER)
    assert j.status() == "completed"
    data = j.data()
    assert data["next_process"] == "child_in_need_plan" and data["child_seen_date"] == "2026-11-05"
    assert "analysis" not in data and "childs_views" not in data


def test_urgent_allocation_means_child_seen_within_one_working_day(start):
    j = allocated(start, priority="urgent")
    assert j.due("record_child_seen") == END_OF(2026, 11, 3)
    assert j.item("record_child_seen")["priority"] == 1


@pytest.mark.parametrize("outcome, next_process", [
    ("nfa", "none"), ("cin_plan", "child_in_need_plan"), ("section_47", "child_protection"),
    ("step_down", "early_help")])
def test_every_outcome_branch(start, publish, outcome, next_process):
    publish("child_protection")  # section 47 starts it (test_assessment_handover.py), as after `casework init`
    j = allocated(start)
    assessed(j, outcome)
    j.submit("authorise_assessment", sample("assessment-authorisation", outcome=outcome), MANAGER)
    assert j.status() == "completed" and j.data()["next_process"] == next_process


def test_manager_returns_the_assessment_for_changes(start):
    j = allocated(start)
    assessed(j)
    j.submit("authorise_assessment", sample("assessment-authorisation", authorisation="return", outcome=None,
                                            manager_comments="Add the child's views."), MANAGER)
    assert j.open_tasks() == ["complete_assessment"]
    j.submit("complete_assessment", sample("single-assessment"), SW)
    j.submit("authorise_assessment", sample("assessment-authorisation"), MANAGER)
    assert j.status() == "completed"


def test_four_eyes_the_author_cannot_authorise(start):
    j = allocated(start)
    j.submit("record_child_seen", sample("child-seen"), MANAGER)
    j.submit("complete_assessment", sample("single-assessment"), MANAGER)  # a manager wrote it
    item = j.item("authorise_assessment")
    with pytest.raises(Forbidden, match="four-eyes"):
        j.wf.complete_task(j.conn, item["id"], {"authorisation": "authorise", "outcome": "nfa"}, MANAGER)
    j.submit("authorise_assessment", sample("assessment-authorisation"), "tm.other")
    assert j.status() == "completed"


def test_overdue_assessment_escalates_after_working_day_45(start, clock):
    j = allocated(start)
    j.submit("record_child_seen", sample("child-seen"), SW)
    assert j.fire_timers(london(2027, 1, 7, 23, 59)) == 0
    assert j.open_tasks() == ["complete_assessment"]
    assert j.fire_timers(datetime(2027, 1, 8, 0, 1, tzinfo=UTC)) == 1
    escalation = j.item("review_overdue_assessment")
    assert escalation["role"] == "head_of_service"
    assert j.open_tasks() == ["complete_assessment", "review_overdue_assessment"]
    j.submit("review_overdue_assessment", sample("overdue-escalation"), HEAD)
    j.submit("complete_assessment", sample("single-assessment"), SW)
    j.submit("authorise_assessment", sample("assessment-authorisation"), MANAGER)
    assert j.status() == "completed"


def test_cancellation_midway(start):
    j = allocated(start)
    j.submit("record_child_seen", sample("child-seen"), SW)
    j.wf.cancel(j.conn, j.id, MANAGER, reason="Family moved to another local authority")
    assert j.status() == "cancelled" and j.open_tasks() == [] and j.timers() == []


def test_invalid_assessment_is_refused_with_field_errors(start):
    j = allocated(start)
    j.submit("record_child_seen", sample("child-seen"), SW)
    bad = sample("single-assessment", assessment_factors=["99Z"], analysis="", recommended_outcome="adopt")
    errors = form_errors("single-assessment", bad)
    assert set(errors) >= {"assessment_factors/0", "analysis", "recommended_outcome"}
    assert "assessment_factors" in form_errors("single-assessment", sample("single-assessment",
                                                                           assessment_factors=[]))
    assert "outcome" in form_errors("assessment-authorisation", sample("assessment-authorisation", outcome=None))
    with pytest.raises(AssertionError, match="invalid test data"):
        j.submit("complete_assessment", bad, SW)
    assert j.open_tasks() == ["complete_assessment"]


def test_child_not_seen_in_time_escalates_to_the_team_manager(start):
    j = allocated(start)
    assert j.fire_timers(london(2026, 11, 9, 23, 0)) == 0
    assert j.fire_timers(datetime(2026, 11, 10, 0, 1, tzinfo=UTC)) == 1
    assert j.item("review_overdue_child_seen")["role"] == "team_manager"
    j.submit("record_child_seen", sample("child-seen", child_seen_date="2026-11-10"), SW)
    j.submit("complete_assessment", sample("single-assessment"), SW)
    j.submit("authorise_assessment", sample("assessment-authorisation"), MANAGER)
    assert j.status() == "running"  # the escalation is part of the assessment: the manager closes it
    j.submit("review_overdue_child_seen", sample("overdue-escalation"), MANAGER)
    assert j.status() == "completed"


def test_child_seen_and_the_assessment_go_to_the_allocated_worker(start, finance_session, connection):
    create_user(finance_session, username="sw.carl")
    j = start("childrens_assessment", "case-2", referral_date="2026-11-02")
    j.submit("allocate_assessment", sample("assessment-allocation", allocated_worker="sw.carl"), MANAGER)
    seen = j.item("record_child_seen")
    assert seen["assignee"] == "sw.carl"  # in the worker's own list, not waiting in the team queue
    history = j.wf.history(connection, j.id)
    assert any(e["event_type"] == "task_reassigned" and e["data"]["to"] == "sw.carl" for e in history)
    with pytest.raises(Forbidden, match="assigned to someone else"):
        j.wf.complete_task(connection, seen["id"], {"child_seen_date": "2026-11-05", "seen_alone": True}, SW)
    j.submit("record_child_seen", sample("child-seen"), "sw.carl")
    assert j.item("complete_assessment")["assignee"] == "sw.carl"
    j.submit("complete_assessment", sample("single-assessment"), "sw.carl")
    assert j.item("authorise_assessment")["assignee"] is None  # the manager's step stays with the team
    j.submit("authorise_assessment", sample("assessment-authorisation", authorisation="return", outcome=None,
                                            manager_comments="Add the child's views."), MANAGER)
    assert j.item("complete_assessment")["assignee"] == "sw.carl"  # returned work goes back to the worker


def test_an_unknown_allocated_worker_leaves_child_seen_in_the_team_queue(start, finance_session):
    create_user(finance_session, username="sw.gone")
    j = start("childrens_assessment", "case-2", referral_date="2026-11-02")
    j.submit("allocate_assessment", sample("assessment-allocation", allocated_worker="sw.nobody"), MANAGER)
    item = j.item("record_child_seen")
    assert item["assignee"] is None and item["team"] == "cin-east"
