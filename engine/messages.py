"""Message correlation through the (message name, correlation key) index, and the unmatched-message policy.

Policy (engine option ``unmatched_messages``): ``keep`` (default) stores a message nobody waits for in
``pending_message``; it is delivered as soon as an instance subscribes to the same name and key. ``reject``
raises NotFound. A message is never silently dropped.
"""

from __future__ import annotations

import json
from contextvars import ContextVar

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from sqlalchemy import and_, insert, or_, select, update

from engine.errors import Conflict, NotFound
from engine.execution import InstanceRun
from engine.projection import event_definitions
from engine.schema import message_subscription, pending_message, process_definition
from engine.store import get_definition_by_id


def message_start_events(spec) -> list[str]:
    return sorted({ts.event_definition.name for ts in spec.task_specs.values()
                   if isinstance(ts, StartEvent) and isinstance(ts.event_definition, MessageEventDefinition)})


MAX_THROW_DEPTH = 8
_throw_depth: ContextVar[int] = ContextVar("engine_message_throw_depth", default=0)


class MessageService:
    def __init__(self, engine):
        self.engine = engine

    def register_start_events(self, conn, definition, spec, now) -> None:
        for name in message_start_events(spec):
            exists = conn.execute(select(message_subscription.c.id).where(
                message_subscription.c.definition_id == definition["id"],
                message_subscription.c.message_name == name)).first()
            if exists is None:
                conn.execute(insert(message_subscription).values(
                    definition_id=definition["id"], instance_id=None, message_name=name, correlation_key="",
                    task_id="", kind="start", created_at=now))

    # -------------------------------------------------------------------------------------- deliver
    def deliver(self, conn, name: str, key: str, payload: dict, actor) -> list:
        subs = conn.execute(select(message_subscription.c.instance_id).where(
            message_subscription.c.message_name == name, message_subscription.c.correlation_key == key,
            message_subscription.c.kind == "catch").order_by(message_subscription.c.id)).all()
        instance_ids = list(dict.fromkeys(r.instance_id for r in subs))
        results = []
        suspended = False
        for instance_id in instance_ids:
            run = InstanceRun.load(self.engine, conn, instance_id, actor, lock=True)
            if run.row["status"] == "suspended":
                suspended = True
                continue
            if run.row["status"] not in ("running", "error"):
                continue
            if self.catch(run, name, key, payload):
                run.run()
                results.append(run.save())
        if results:
            return results
        if suspended:  # kept until the instance resumes (or refused under the reject policy)
            if self.engine.config.unmatched_messages == "reject":
                raise Conflict(f"the process waiting for message {name!r} ({key!r}) is suspended")
            self._keep(conn, name, key, payload)
            return []
        start = self._start_definition_for(conn, name)
        if start is not None:
            result = self.engine._start_definition(conn, start, key or None, {}, actor)
            run = InstanceRun.load(self.engine, conn, result.instance_id, actor, lock=True)
            if self.catch(run, name, key, payload, start_event=True):
                run.run()
            return [run.save()]
        if self.engine.config.unmatched_messages == "reject":
            raise NotFound(f"no process is waiting for message {name!r} with correlation key {key!r}")
        self._keep(conn, name, key, payload)
        return []

    def _keep(self, conn, name, key, payload) -> None:
        conn.execute(insert(pending_message).values(message_name=name, correlation_key=key,
                                                    payload=json.dumps(payload), status="pending",
                                                    received_at=self.engine.now()))

    def _start_definition_for(self, conn, name):
        rows = conn.execute(select(process_definition.c.id, process_definition.c.process_key,
                                   process_definition.c.version)
                            .select_from(message_subscription.join(
                                process_definition, process_definition.c.id == message_subscription.c.definition_id))
                            .where(message_subscription.c.kind == "start",
                                   message_subscription.c.message_name == name)
                            .order_by(process_definition.c.version.desc())).all()
        if not rows:
            return None
        return get_definition_by_id(conn, rows[0].id)

    def _waiting(self, run, name, key, start_event=False):
        out = []
        for task in list(run.workflow.event_manager.tasks.values()):
            for definition in event_definitions(task):
                if not isinstance(definition, MessageEventDefinition) or definition.name != name:
                    continue
                if start_event or self.engine.projector.correlation_key(task, run.row) == key:
                    out.append((task, definition))
                    break
        return out

    def catch(self, run, name, key, payload, start_event=False) -> bool:
        tasks = self._waiting(run, name, key, start_event)
        for task, definition in tasks:
            if getattr(definition, "message_var", None) is None and isinstance(payload, dict):
                task.data.update(payload)
            event = BpmnEvent(definition, payload=payload)
            with run.clocked():
                task.task_spec.catch(task, event)
                task.task_spec._update(task)
            run.event("message_received", task, data={"message": name, "correlation_key": key,
                                                      "payload": payload})
        return bool(tasks)

    # -------------------------------------------------------------------------- pending messages
    # ------------------------------------------------------------------------------ thrown by a model
    def collect_thrown(self, run) -> list[tuple[str, dict]]:
        """Message throw/end events no task of this instance caught (SpiffWorkflow leaves them in
        ``bpmn_events``): (name, payload) pairs, taken out of the state so they are sent once."""
        thrown = []
        kept = []
        for event in run.workflow.get_events():
            definition = event.event_definition
            if not isinstance(definition, MessageEventDefinition):
                kept.append(event)
                continue
            payload = event.payload if isinstance(event.payload, dict) else {"payload": event.payload}
            thrown.append((definition.name, json.loads(json.dumps(payload, default=str))))
        run.workflow.bpmn_events = kept
        return thrown

    def deliver_thrown(self, run, thrown: list[tuple[str, dict]]) -> None:
        """Deliver each thrown message to the instances waiting for it with this instance's business key as
        the correlation key (a case's processes talk to each other), in the same transaction. Unmatched
        messages follow the declared policy, except that a model's own throw is always kept rather than
        failing the step that threw it. Chains of messages are cut at a fixed depth (no ping-pong loops)."""
        if not thrown:
            return
        key = run.row["business_key"] or ""
        depth = _throw_depth.get()
        for name, payload in thrown:
            run_event = {"message": name, "correlation_key": key}
            if depth >= MAX_THROW_DEPTH:
                self._keep(run.conn, name, key, payload)
                self._history(run, "message_throw_kept", dict(run_event, reason="message chain too deep"))
                continue
            token = _throw_depth.set(depth + 1)
            try:
                results = self._deliver_or_keep(run, name, key, payload)
            finally:
                _throw_depth.reset(token)
            self._history(run, "message_thrown", dict(run_event, delivered_to=[r.instance_id for r in results]))

    def _deliver_or_keep(self, run, name, key, payload) -> list:
        try:
            return self.deliver(run.conn, name, key, payload, run.actor)
        except (NotFound, Conflict):
            self._keep(run.conn, name, key, payload)
            return []

    def _history(self, run, event_type: str, data: dict) -> None:
        from engine.schema import history_event

        run.conn.execute(insert(history_event).values(instance_id=run.row["id"], business_key=run.row["business_key"],
                                                      event_type=event_type, at=run.now, actor="engine",
                                                      data=json.dumps(data)))

    def drain_pending(self, run) -> None:
        if self.engine.config.unmatched_messages != "keep":
            return
        for _ in range(20):
            wanted = set()
            for task in run.workflow.event_manager.tasks.values():
                for definition in event_definitions(task):
                    if isinstance(definition, MessageEventDefinition):
                        wanted.add((definition.name, self.engine.projector.correlation_key(task, run.row)))
            # a message arriving while a subscription already existed was delivered then, not kept
            # (except while the instance was suspended: resume drains everything)
            if not run.drain_all:
                wanted -= {(name, key) for name, key, _tid in run.before.subs}
            if not wanted:
                return
            cond = or_(*[and_(pending_message.c.message_name == n, pending_message.c.correlation_key == k)
                         for n, k in wanted])
            q = select(pending_message).where(pending_message.c.status == "pending", cond) \
                .order_by(pending_message.c.id).limit(1)
            if run.conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            msg = run.conn.execute(q).mappings().first()
            if msg is None:
                return
            self.catch(run, msg["message_name"], msg["correlation_key"], json.loads(msg["payload"]))
            run.ensure_row()
            run.conn.execute(update(pending_message).where(pending_message.c.id == msg["id"]).values(
                status="delivered", delivered_at=run.now, delivered_to=run.row["id"]))
            run.run()
