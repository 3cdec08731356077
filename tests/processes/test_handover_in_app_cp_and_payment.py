"""In the app, with its own engine (connector casework.start_process and its listener as casework registers them):
child protection's "single assessment" starts the children's assessment, and a care plan's paid service starts
the payment authorisation; each new instance is attached to the case and waits in the case team's queue, the
payment request with the service facts to prefill it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from casework.engine_host import get_engine, operation_session
from casework.records.models_case import Case, CaseProcess
from engine.schema import work_item
from tests.factories import create_team, create_user
from tests.finance.factories import create_person, create_provider
from tests.processes.conftest import bundle_for, routing_fields
from tests.processes.samples import sample


def _complete(engine, connection, instance_id: int, task_spec: str, form: str, actor: str, **answers) -> None:
    item = next(i for i in engine.work_items_for(connection, instance_id) if i["task_spec"] == task_spec)
    engine.complete_task(connection, item["id"], routing_fields(form, sample(form, **answers)), actor)


def _case(session, reference: str, area: str, team_code: str) -> Case:
    team = create_team(session, code=team_code)
    create_user(session, username=f"sw.{team_code}", teams=[team])
    person = create_person(session)
    case = Case(reference=reference, person_id=person.id, service_area=area, opened_on=date(2026, 11, 2),
                open_reason="referral", team_id=team.id)
    session.add(case)
    session.flush()
    return case


def _links(session, case: Case) -> list[tuple[str, int]]:
    return [(link.process_key, link.instance_id)
            for link in session.scalars(select(CaseProcess).where(CaseProcess.case_id == case.id)).all()]


def test_single_assessment_decided_at_the_strategy_discussion_is_started_for_the_case(app, session, connection):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    engine = get_engine(app)
    case = _case(session, "CH-CPHANDOVER", "children", "cin-cphand")
    with app.app_context(), operation_session(session):
        for key in ("childrens_assessment", "child_protection"):
            engine.publish(connection, bundle_for(key), "configurator")
        cp = engine.start(connection, "child_protection", case.reference,
                          {"referral_date": "2026-11-02", "person_id": case.person_id}, "sw.cin-cphand").instance_id
        _complete(engine, connection, cp, "strategy_discussion", "strategy-discussion", "sw.cin-cphand",
                  strategy_outcome="single_assessment")
        assert engine.get_instance(connection, cp)["status"] == "completed"
        [(key, assessment)] = _links(session, case)  # the hand-started one was not attached: only the new one
        assert key == "childrens_assessment"
        data = engine.get_instance(connection, assessment)["data"]
        assert (data["person_id"], data["child_protection_outcome"]) == (case.person_id,
                                                                         "strategy_single_assessment")
        [item] = engine.work_items_for(connection, assessment)
        assert item["task_spec"] == "allocate_assessment"
        assert connection.execute(select(work_item.c.team).where(work_item.c.id == item["id"])
                                  ).scalar_one() == "cin-cphand"


def test_a_paid_service_starts_the_payment_authorisation_for_the_case(app, session, connection):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    engine = get_engine(app)
    case = _case(session, "AD-PAYHANDOVER", "adults", "adults-payhand")
    create_provider(session, reference="PRV-INAPP")
    worker, manager = "sw.adults-payhand", "tm.payhand"
    with app.app_context(), operation_session(session):
        for key in ("care_and_support_plan", "payment_authorisation"):
            engine.publish(connection, bundle_for(key), "configurator")
        plan = engine.start(connection, "care_and_support_plan", case.reference,
                            {"referral_date": "2026-11-02", "person_id": case.person_id}, worker).instance_id
        _complete(engine, connection, plan, "needs_assessment", "care-act-needs-assessment", worker)
        _complete(engine, connection, plan, "draft_care_plan", "care-and-support-plan", worker)
        _complete(engine, connection, plan, "sign_off_care_plan", "care-plan-sign-off", manager)
        _complete(engine, connection, plan, "arrange_services", "arrange-services", worker, provider_id="PRV-INAPP",
                  service_type="day_care", unit_cost=45.0, unit="day", units_per_week=2)
        [(key, payment)] = _links(session, case)
        assert key == "payment_authorisation"
        data = engine.get_instance(connection, payment)["data"]
        assert {k: data.get(k) for k in ("person_id", "provider_id", "service_type", "unit_cost", "unit",
                                         "units_per_week", "start_date")} == {
            "person_id": case.person_id, "provider_id": "PRV-INAPP", "service_type": "day_care",
            "unit_cost": 45.0, "unit": "day", "units_per_week": 2, "start_date": "2026-12-01"}
        [item] = engine.work_items_for(connection, payment)
        assert item["task_spec"] == "prepare_payment_request"
        assert connection.execute(select(work_item.c.team).where(work_item.c.id == item["id"])
                                  ).scalar_one() == "adults-payhand"
        assert engine.get_instance(connection, plan)["status"] == "running"  # waiting for the decision
