"""`casework demo`: the children's assessment that a strategy discussion decides on (the fourth story) is the one
child protection starts for the case, driven to its authorisation; no case gets an assessment by hand as well."""

from collections import Counter

from sqlalchemy import select

from casework.demo import run_demo
from casework.engine_host import get_engine, publish_directory
from engine.schema import process_instance


def test_the_demo_drives_the_assessment_child_protection_started(app, session, settings):
    with app.app_context():
        publish_directory(session, settings, actor="test")
        run_demo(session, people=20, echo=lambda _: None)
        session.flush()
        engine = get_engine(app)
        rows = session.execute(select(process_instance.c.id, process_instance.c.business_key,
                                      process_instance.c.status, process_instance.c.started_by)
                               .where(process_instance.c.process_key == "childrens_assessment")).all()
        data = {r.id: engine.get_instance(session.connection(), r.id)["data"] for r in rows}
    assert Counter(r.business_key for r in rows).most_common(1)[0][1] == 1  # never two on one case
    handed_over = [r for r in rows if data[r.id].get("child_protection_outcome") == "strategy_single_assessment"]
    assert len(handed_over) == 1
    [assessment] = handed_over
    # started by the worker who recorded the strategy discussion, then driven to the end (CIN plan)
    assert (assessment.started_by, assessment.status) == ("sam.worker", "completed")
    assert data[assessment.id]["outcome"] == "cin_plan" and data[assessment.id]["next_process"] == "child_in_need_plan"
    # the other children's stories still start their assessments by hand, with the referral date only
    assert all("child_protection_outcome" not in data[r.id] for r in rows if r.id != assessment.id)
