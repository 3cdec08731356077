"""In the app: an assessment authorised with outcome section 47 starts child protection for the same case with
the app's own engine (connector casework.start_process and its listener as casework registers them); the new
instance is attached to the case, its strategy discussion waits in the case team's queue, and a second
section 47 on the same case while it runs starts nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from casework.engine_host import get_engine, operation_session
from casework.records.models_case import Case, CaseProcess
from engine.schema import work_item
from tests.factories import create_team, create_user
from tests.finance.factories import create_person
from tests.processes.conftest import bundle_for, routing_fields
from tests.processes.samples import sample


def _complete(engine, connection, instance_id: int, task_spec: str, form: str, actor: str, **answers) -> None:
    item = next(i for i in engine.work_items_for(connection, instance_id) if i["task_spec"] == task_spec)
    engine.complete_task(connection, item["id"], routing_fields(form, sample(form, **answers)), actor)


def _assess(engine, connection, case: Case, outcome: str) -> int:
    assessment = engine.start(connection, "childrens_assessment", case.reference,
                              {"referral_date": "2026-11-02", "person_id": str(case.person_id)}, "tm.bea").instance_id
    _complete(engine, connection, assessment, "allocate_assessment", "assessment-allocation", "tm.bea",
              allocated_worker="sw.erin")
    _complete(engine, connection, assessment, "record_child_seen", "child-seen", "sw.erin")
    _complete(engine, connection, assessment, "complete_assessment", "single-assessment", "sw.erin",
              recommended_outcome="section_47", assessment_factors=["18A"])
    _complete(engine, connection, assessment, "authorise_assessment", "assessment-authorisation", "tm.bea",
              outcome=outcome)
    return assessment


def test_section_47_starts_child_protection_attached_to_the_case(app, session, connection):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    engine = get_engine(app)
    team = create_team(session, code="cin-handover2")
    create_user(session, username="sw.erin", teams=[team])
    person = create_person(session)
    case = Case(reference="CH-HANDOVER2", person_id=person.id, service_area="children",
                opened_on=datetime(2026, 11, 2).date(), open_reason="referral", team_id=team.id)
    session.add(case)
    session.flush()
    with app.app_context(), operation_session(session):  # as in a request, the CLI or the worker
        for key in ("childrens_assessment", "child_protection"):
            engine.publish(connection, bundle_for(key), "configurator")
        first = _assess(engine, connection, case, "section_47")
        links = session.scalars(select(CaseProcess).where(CaseProcess.case_id == case.id)).all()
        assert [link.process_key for link in links] == ["child_protection"]
        cp = links[0].instance_id
        data = engine.get_instance(connection, cp)["data"]
        assert data["assessment_factors"] == ["18A"] and data["person_id"] == str(person.id)
        assert data["assessment_worker"] == "sw.erin" and data["concerns_date"] == "2026-11-02"
        items = engine.work_items_for(connection, cp)
        assert [i["task_spec"] for i in items] == ["strategy_discussion"]
        assert connection.execute(select(work_item.c.team).where(work_item.c.id == items[0]["id"])
                                  ).scalar_one() == "cin-handover2"

        second = _assess(engine, connection, case, "section_47")  # a second assessment while the first runs
        assert engine.get_instance(connection, second)["status"] == "completed" and second != first
        links = session.scalars(select(CaseProcess).where(CaseProcess.case_id == case.id)).all()
        assert [(link.process_key, link.instance_id) for link in links] == [("child_protection", cp)]
