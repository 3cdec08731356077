"""In the app: the referral's decision starts the next process for the same case with the app's own engine
(connector casework.start_process and its listener as casework registers them), the new instance is attached
to the case and its first task waits in the case team's queue; the allocated worker then gets child seen."""

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


def test_referral_decision_starts_the_assessment_in_the_case_teams_queue(app, session, connection):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    engine = get_engine(app)
    team = create_team(session, code="cin-handover")
    create_user(session, username="sw.dana", teams=[team])
    person = create_person(session)
    case = Case(reference="CH-HANDOVER1", person_id=person.id, service_area="children", opened_on=datetime(
        2026, 11, 2).date(), open_reason="referral", team_id=team.id)
    session.add(case)
    session.flush()
    with app.app_context(), operation_session(session):  # as in a request, the CLI or the worker
        for key in ("referral", "childrens_assessment"):
            engine.publish(connection, bundle_for(key), "configurator")
        referral = engine.start(connection, "referral", case.reference, {"referral_date": "2026-11-02"},
                                "sw.ana").instance_id
        _complete(engine, connection, referral, "record_contact", "referral-contact", "sw.ana")
        _complete(engine, connection, referral, "screen_referral", "referral-screening", "sw.ana",
                  recommendation="childrens_assessment")
        _complete(engine, connection, referral, "referral_decision", "referral-decision", "tm.bea",
                  decision="childrens_assessment", allocated_team="cin-handover")

        links = session.scalars(select(CaseProcess).where(CaseProcess.case_id == case.id)).all()
        assert [link.process_key for link in links] == ["childrens_assessment"]
        assessment = links[0].instance_id
        first = engine.work_items_for(connection, assessment)
        assert [i["task_spec"] for i in first] == ["allocate_assessment"]
        assert connection.execute(select(work_item.c.team).where(work_item.c.id == first[0]["id"])
                                  ).scalar_one() == "cin-handover"

        _complete(engine, connection, assessment, "allocate_assessment", "assessment-allocation", "tm.bea",
                  allocated_worker="sw.dana")
        seen = next(i for i in engine.work_items_for(connection, assessment) if i["task_spec"] == "record_child_seen")
        assert seen["assignee"] == "sw.dana"
