"""Valid example answers for every bundled form (what a social worker would type): used by the demo data
and by the process journey tests, overridable per call."""

from __future__ import annotations

import copy

SAMPLES: dict[str, dict] = {
    "overdue-escalation": {"reason_for_delay": "Worker on leave over Christmas.", "action_taken": "reallocated"},
    "referral-contact": {
        "person_id": "P-1001", "service": "children", "referral_date": "2026-11-02",
        "referrer_name": "Sam Patel", "referrer_relationship": "professional", "referrer_organisation": "Oak Primary",
        "referrer_phone": "01632 960001", "referrer_email": "s.patel@oak.example",
        "concerns": "Child arrived at school with bruising to the arm and said dad did it.",
        "immediate_risk": False, "consent": "not_sought_safeguarding",
        "consent_notes": "Asking the parents could put the child at risk.", "referral_source": "2A",
        "primary_need": "N1", "route_of_access": "community_other"},  # census codes (children), CLD route (adults)
    "referral-screening": {"previous_involvement": True, "checks_completed": ["case_record", "police", "education"],
                           "risk_summary": "Injury explained by the child; previous domestic abuse call-out.",
                           "recommendation": "strategy_discussion"},
    "referral-decision": {"decision": "strategy_discussion", "decision_reason": "Child disclosed physical harm.",
                          "allocated_team": "cp-east"},
    "referral-feedback": {"feedback_given": True, "feedback_date": "2026-11-04", "feedback_method": "phone"},
    "assessment-allocation": {"allocated_worker": "sw.ana", "allocation_date": "2026-11-02", "priority": "standard"},
    "child-seen": {"child_seen_date": "2026-11-05", "seen_alone": True, "location": "school",
                   "observations": "Talked about friends and home."},
    "single-assessment": {"assessment_factors": ["3B", "4B"], "childs_needs": "Meeting milestones.",
                          "parenting_capacity": "Mother struggling with low mood.",
                          "family_environment": "Overcrowded flat.", "childs_views": "Wants mum to be happy.",
                          "analysis": "Needs support, no significant harm.", "recommended_outcome": "cin_plan"},
    "assessment-authorisation": {"authorisation": "authorise", "outcome": "cin_plan",
                                 "manager_comments": "Clear analysis."},
    "strategy-discussion": {"strategy_discussion_date": "2026-11-03", "agencies_present": ["police", "health",
                                                                                          "social_care"],
                            "summary": "Police and health shared information.", "strategy_outcome": "section_47"},
    "section-47-enquiry": {"enquiry_start_date": "2026-11-04", "child_seen_date": "2026-11-04",
                           "findings": "Injury consistent with the disclosure.", "enquiry_outcome": "icpc"},
    "no-conference-confirmation": {"confirm": "agree", "manager_reason": "Family engaging; risk reduced."},
    "icpc-outcome": {"icpc_date": "2026-11-20", "chair": "Jo Chair", "icpc_outcome": "plan",
                     "category_of_abuse": "physical", "lead_social_worker": "sw.ana", "child_attended": False},
    "core-group-meeting": {"core_group_date": "2026-12-01", "attendees": ["parents", "health", "education"],
                           "plan_progress": "Parents attending parenting course."},
    "cp-visit": {"visit_date": "2026-12-01", "child_seen": True, "seen_alone": True, "bedroom_seen": True,
                 "observations": "Child relaxed, room clean."},
    "review-conference": {"review_date": "2027-02-19", "chair": "Jo Chair", "review_outcome": "continue",
                          "summary": "Some progress."},
    "cp-plan-end": {"plan_end_date": "2029-11-20", "end_reason": "step_down_cin"},
    "care-act-needs-assessment": {
        "needs_from_impairment": True, "primary_support_reason": "physical_personal_care",
        "outcomes_not_achieved": ["nutrition", "hygiene", "home_safely"],
        "wellbeing_impact": "significant", "needs_score": 35, "has_unpaid_carer": False,
        "persons_views": "Wants to stay at home.", "assessment_summary": "Needs help with personal care."},
    "care-act-not-eligible": {"written_record_sent": "2026-11-10", "advice_given": "Lunch club details given.",
                              "signposted_to": ["community"]},
    "care-and-support-plan": {"personal_budget_weekly": 280.0, "outcomes": "Stay at home safely.",
                              "how_needs_met": "Home care twice a day.", "services": ["home_care"],
                              "management": "council_managed", "person_agrees": True},
    "care-plan-sign-off": {"sign_off": "approve", "manager_comments": "Meets eligible needs."},
    "arrange-services": {"provider_id": "PRV-22", "services_start_date": "2026-12-01", "payment_type": "care_package"},
    "care-plan-review": {"review_date": "2027-01-20", "person_involved": True, "review_outcome": "continue",
                         "summary": "Going well."},
    "payment-request": {"payment_type": "care_package", "provider_id": "SUP-PROC1", "service_type": "home_care",
                        "unit_cost": 21.5, "unit": "hour", "units_per_week": 14, "start_date": "2026-12-01",
                        "justification": "Eligible needs: personal care twice a day."},
    "payment-approval": {"approval_decision": "approve", "approval_reason": "Within the personal budget."},
    "payment-schedule-setup": {"cost_code": "ASC1234", "checks": ["provider_contract", "bank_details",
                                                                  "no_duplicate"]},
}


def sample(form: str, **overrides) -> dict:
    data = copy.deepcopy(SAMPLES[form])
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
