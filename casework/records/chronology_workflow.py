"""Which workflow history events belong on a person's chronology, and how they read there.

The engine calls ``Hooks.on_event(event)`` for every history event (instance started, task completed, step
completed...). Most are routine; the significant ones (referral received, assessment completed, strategy
discussion, conference, plan started/ended, payment authorised...) go on the chronology. The hook layer resolves
the event's person (from the business key / case) and calls ``workflow_event_entry``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from casework.records.models_chronology import ChronologyEntry
from casework.records.service_chronology import add_workflow_entry

# process key -> (kind, title) when an instance of it starts
STARTED: dict[str, tuple[str, str]] = {
    "referral": ("referral_received", "Referral received"),
    "childrens_assessment": ("assessment_started", "Children's single assessment started"),
    "child_protection": ("strategy_discussion", "Concerns of significant harm: child protection process started"),
    "care_and_support_plan": ("assessment_started", "Care Act needs assessment requested"),
}
# BPMN element id (a user task completed, or an end event reached) -> (kind, title)
COMPLETED: dict[str, tuple[str, str]] = {
    "referral_decision": ("referral_received", "Referral decision made"),
    "authorise_assessment": ("assessment_completed", "Single assessment authorised"),
    "strategy_discussion": ("strategy_discussion", "Strategy discussion held"),
    "section_47_enquiry": ("section47_completed", "Section 47 enquiry completed"),
    "record_icpc": ("conference", "Initial child protection conference held"),
    "record_review": ("review", "Review child protection conference held"),
    "plan_ended": ("plan_ended", "Child protection plan ended"),
    "needs_assessment": ("assessment_completed", "Care Act needs assessment completed"),
    "sign_off_care_plan": ("plan_started", "Care and support plan signed off"),
    "review_care_plan": ("review", "Care and support plan reviewed"),
    "plan_closed": ("plan_ended", "Care and support plan closed"),
    "payment_authorised": ("payment_authorised", "Payment authorised"),
}


def classify(event: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, title) for a significant event, else None."""
    event_type = event.get("event_type")
    if event_type == "instance_started":
        data = event.get("data") or {}
        if isinstance(data, str):
            import json

            data = json.loads(data)
        return STARTED.get(str(data.get("process_key", "")))
    if event_type in ("task_completed", "step_completed"):
        return COMPLETED.get(str(event.get("task_spec") or ""))
    return None


def workflow_event_entry(session: Session, person_id: int, event: dict[str, Any], *,
                         case_id: int | None = None) -> ChronologyEntry | None:
    """Put one engine history event on the person's chronology if it is significant (idempotent)."""
    found = classify(event)
    if found is None:
        return None
    kind, title = found
    ref = f"instance:{event.get('instance_id')}:{event.get('event_type')}:{event.get('task_id') or ''}"
    return add_workflow_entry(session, person_id, kind, title, event["at"], ref,
                              detail=event.get("task_title"), case_id=case_id)


def on_engine_event(event: dict[str, Any]) -> None:
    """Engine hook: when an instance's business key is a case reference (e.g. CH-0000042), significant events go
    on that case's person's chronology, in the same transaction as the engine's own writes (through the session
    of the engine operation in progress: the request's, the worker's or the CLI's)."""
    business_key = event.get("business_key")
    if not business_key or classify(event) is None:
        return
    from sqlalchemy import select

    from casework.engine_host import current_session
    from casework.records.models_case import Case

    session = current_session()
    row = session.execute(select(Case.id, Case.person_id).where(Case.reference == business_key)).first()
    if row is not None:
        workflow_event_entry(session, row.person_id, event, case_id=row.id)


def register() -> None:
    from casework.engine_host import register_event_listener

    register_event_listener(on_engine_event)
