"""A message a model throws (intermediate throw or message end event) reaches the instance of the same case
that waits for it, in the same transaction; nobody waiting: it is kept, never dropped."""

import json

from sqlalchemy import select

from engine.schema import history_event, pending_message
from tests.engine.conftest import complete, open_items


def test_thrown_message_reaches_the_waiting_instance_of_the_same_case(wf_engine, connection, publish):
    publish("messages.bpmn")
    publish("throw_result.bpmn")
    waiting = wf_engine.start(connection, "messages", "CASE-7", {}, "ann")
    other_case = wf_engine.start(connection, "messages", "CASE-8", {}, "ann")
    sender = wf_engine.start(connection, "throw_result", "CASE-7", {}, "ann")

    complete(wf_engine, connection, sender.instance_id, "record", {"outcome": "clear"})

    assert "review" in open_items(wf_engine, connection, waiting.instance_id)
    assert wf_engine.get_instance(connection, waiting.instance_id)["data"]["outcome"] == "clear"
    assert "review" not in open_items(wf_engine, connection, other_case.instance_id)  # other case untouched
    thrown = connection.execute(select(history_event.c.data).where(
        history_event.c.instance_id == sender.instance_id, history_event.c.event_type == "message_thrown")).scalar_one()
    assert json.loads(thrown)["delivered_to"] == [waiting.instance_id]
    # sent once: completing further work on the sender does not send it again
    assert wf_engine.get_instance(connection, sender.instance_id)["status"] == "completed"


def test_thrown_message_nobody_waits_for_is_kept(wf_engine, connection, publish):
    publish("throw_result.bpmn")
    sender = wf_engine.start(connection, "throw_result", "CASE-9", {}, "ann")
    complete(wf_engine, connection, sender.instance_id, "record", {"outcome": "clear"})
    kept = connection.execute(select(pending_message.c.message_name, pending_message.c.correlation_key,
                                     pending_message.c.payload)).all()
    assert [(n, k, json.loads(p)) for n, k, p in kept] == [("lab_result", "CASE-9", {"outcome": "clear"})]
    # the process that starts waiting later receives it
    publish("messages.bpmn")
    late = wf_engine.start(connection, "messages", "CASE-9", {}, "ann")
    assert "review" in open_items(wf_engine, connection, late.instance_id)
