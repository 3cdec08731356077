"""`casework demo` leaves people at every stage of each bundled process, routed to the right teams."""

from sqlalchemy import func, select

from casework.demo import run_demo
from casework.engine_host import publish_directory
from engine.schema import history_event, process_instance, work_item

PROCESSES = {"referral", "childrens_assessment", "child_protection", "care_and_support_plan",
             "payment_authorisation"}


def test_demo_drives_each_process_to_several_stages(app, session, settings):
    with app.app_context():
        report = publish_directory(session, settings, actor="test")
        assert not [line for line in report if "NOT published" in line], report
        messages = []
        run_demo(session, people=20, echo=messages.append)
        session.flush()

    instances = session.execute(select(process_instance.c.id, process_instance.c.process_key)).all()
    assert {key for _, key in instances} == PROCESSES
    completed = dict(session.execute(
        select(history_event.c.instance_id, func.count()).where(history_event.c.event_type == "task_completed")
        .group_by(history_event.c.instance_id)).all())
    for key in PROCESSES:
        stages = {completed.get(i, 0) for i, k in instances if k == key}
        assert len(stages) >= 3, (key, stages)  # e.g. just started, one step done, two steps done

    open_items = session.execute(select(work_item.c.role, work_item.c.team).where(work_item.c.status == "open")).all()
    assert open_items and all(team for _, team in open_items)  # every item reaches a team queue
    assert any(role == "finance_officer" and team == "finance" for role, team in open_items)
    assert any("process instances at different stages" in m for m in messages)
    # the demo practitioners find some of their teams' work already in My work, claimed through the engine
    mine = dict(session.execute(select(work_item.c.assignee, func.count()).where(
        work_item.c.status == "open", work_item.c.assignee.in_(["sam.worker", "priya.adults"]))
        .group_by(work_item.c.assignee)).all())
    assert mine == {"sam.worker": 2, "priya.adults": 2}, mine
    assert session.scalar(select(func.count()).select_from(history_event).where(
        history_event.c.event_type == "task_claimed")) >= 4

    with app.app_context():  # a second `casework demo` adds no duplicates
        run_demo(session, people=0, echo=lambda _: None)
    assert session.scalar(select(func.count()).select_from(process_instance)) == len(instances)
    assert session.scalar(select(func.count()).select_from(work_item).where(
        work_item.c.status == "open", work_item.c.assignee == "sam.worker")) == 2  # nothing more claimed
