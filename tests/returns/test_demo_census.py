"""The demo population's Children in Need census passes our checks and the DfE's own rules engine (the real
csc-validator-be-cin, run in its own interpreter) with zero issues; breaking one demo record brings the rule back."""

from datetime import UTC, datetime

from sqlalchemy import update

from casework.demo import run_demo
from casework.engine_host import publish_directory
from casework.records.models_person import Person
from casework.returns.cin import build_cin
from casework.returns.dfe_validator import run_dfe_validator
from engine.calendar import WorkingDayCalendar

DEMO_YEAR = 2027  # the sample answers' dates (November 2026) fall in collection year 2026-27


def _demo(app, session, settings):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # when the demo work is recorded
    with app.app_context():
        publish_directory(session, settings, actor="test")
        run_demo(session, people=50, echo=lambda _: None)  # `casework demo` default
        session.flush()


def _census(session):
    return build_cin(session.connection(), DEMO_YEAR, la_code="201", calendar=WorkingDayCalendar())


def test_demo_census_has_zero_issues_with_the_dfe_rules(app, session, settings, dfe_python):
    _demo(app, session, settings)
    ret = _census(session)
    assert ret.children >= 4 and ret.episodes >= 4
    assert b"<AssessmentAuthorisationDate>" in ret.xml and b"<CPPstartDate>" in ret.xml
    assert b"<CINPlanStartDate>" in ret.xml and b"<UPN>" in ret.xml
    assert [(i.record, i.field, i.code) for i in ret.issues] == []
    dfe = run_dfe_validator(ret.xml, DEMO_YEAR, dfe_python, ret.child_people)
    assert [(i.record, i.field, i.code, i.message) for i in dfe] == []

    # the same validator does report a broken demo record: a school-age child without a UPN
    child_id = ret.child_people[min(ret.child_people)]
    session.execute(update(Person).where(Person.id == child_id).values(upn=None))
    broken = _census(session)
    assert ("UPN", "cw_upn_missing") in {(i.field, i.code) for i in broken.issues}
    codes = {(i.person_id, i.code) for i in run_dfe_validator(broken.xml, DEMO_YEAR, dfe_python,
                                                              broken.child_people)}
    assert codes == {(child_id, "dfe_8770Q")}
