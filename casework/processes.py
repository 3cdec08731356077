"""The bundled BPMN processes: loading them into published engine definitions, and starting one process from
another for the same case (connector ``casework.start_process``).

``casework.start_process`` (params ``process_key``, optional ``data``) is how a model hands over to the next
process, e.g. the referral after the manager's decision. It refuses a process key that is not a published
process (an incident on the calling task, with the reason). The new instance is started **for the calling
instance's case** (its business key: a model cannot name another case) with ``data`` as its start data, once
the calling step is saved, in the same transaction: it is attached to the case and its first tasks go to the
case team's queue like any other. A process already running for the case is not started a second time.
A model cannot see its own business key (expressions see only task data), so the start is recorded by the
connector and made by the engine event listener ``start_requested_processes`` when the calling operation
writes its history (its events carry the instance and the business key).
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from flask import has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.config import Settings
from casework.engine_host import current_session, register_connector, register_event_listener
from casework.errors import Invalid

log = logging.getLogger(__name__)

START_PROCESS = "casework.start_process"
_PENDING = "casework_processes_to_start"
ACTIVE_STATUSES = ("running", "error", "suspended")

START_PROCESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "process_key": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.-]{0,199}$"},
        "data": {"type": ["object", "null"], "maxProperties": 50},
    },
    "required": ["process_key"],
    "additionalProperties": False,
}


def load_bundled_processes(session: Session, settings: Settings, *, actor: str) -> list[str]:
    """Publish every process in processes/ whose content changed; returns report lines."""
    from casework.engine_host import publish_directory

    return publish_directory(session, settings, actor=actor)


def _published(session: Session, process_key: str) -> bool:
    from engine.schema import process_definition

    return session.scalar(select(process_definition.c.id).where(
        process_definition.c.process_key == process_key, process_definition.c.status == "published").limit(1)
    ) is not None


def start_process(params: dict[str, Any]) -> dict[str, Any]:
    """Connector: ask for `process_key` to be started for this case with `data` (see the module docstring)."""
    session = current_session()
    key = params["process_key"]
    if not _published(session, key):
        raise Invalid(f"No published process {key!r}: publish it, or change the model",
                      details={"process_key": f"{key} is not a published process"})
    _pending(session, take=False).append({"process_key": key, "data": dict(params.get("data") or {})})
    return {"process_key": key, "status": "requested"}


def _pending(session: Session, *, take: bool) -> Any:
    """The starts asked for, kept per database transaction: a rolled-back operation's requests are forgotten
    with it (never started for a later operation's case)."""
    root = session.get_transaction()
    if root is None:
        if take:
            return None
        session.connection()  # begin, so the request belongs to this transaction
        root = session.get_transaction()
    store = session.info.setdefault(_PENDING, weakref.WeakKeyDictionary())
    return store.pop(root, None) if take else store.setdefault(root, [])


def running_instance(conn: Any, business_key: str, process_key: str) -> int | None:
    """The id of an unfinished (running, failed or suspended) instance of `process_key` for this case."""
    from engine.schema import process_instance

    return conn.execute(select(process_instance.c.id).where(
        process_instance.c.business_key == business_key, process_instance.c.process_key == process_key,
        process_instance.c.status.in_(ACTIVE_STATUSES)).order_by(process_instance.c.id.desc()).limit(1)
    ).scalar_one_or_none()


def start_requested_processes(engine: Any, event: dict[str, Any]) -> list[int]:
    """Engine event listener: start the processes `casework.start_process` asked for in this operation, for
    the business key of the instance whose events are being written. Returns the new instance ids."""
    if not event.get("instance_id"):
        return []
    try:
        session = current_session()
    except RuntimeError:  # an engine used outside any operation session: nothing can have been requested
        return []
    pending = _pending(session, take=True) if _PENDING in session.info else None
    if not pending:
        return []
    from engine.schema import process_instance

    conn = session.connection()
    business_key = event.get("business_key")
    caller = conn.execute(select(process_instance.c.process_key)
                          .where(process_instance.c.id == event["instance_id"])).scalar_one_or_none()
    actor = event.get("actor") if event.get("actor") not in (None, "engine", "timer") else "engine"
    started = []
    for request in pending:
        key = request["process_key"]
        if not business_key or key == caller:
            log.warning("not starting %s from instance %s (business key %r): a process starts another for "
                        "its own case only", key, event["instance_id"], business_key)
            continue
        running = running_instance(conn, business_key, key)
        if running is not None:
            log.info("%s is already running for %s (instance %s): not started again", key, business_key, running)
            continue
        result = engine.start(conn, key, business_key=business_key, data=request["data"], actor=actor)
        _attach_to_case(session, business_key, result.instance_id, key)
        started.append(result.instance_id)
    return started


def _attach_to_case(session: Session, business_key: str, instance_id: int, process_key: str) -> None:
    from casework.records.models_case import Case
    from casework.records.service_case import attach_process

    case = session.scalars(select(Case).where(Case.reference == business_key)).first()
    if case is not None:
        attach_process(session, case, instance_id=instance_id, process_key=process_key)


def _start_in_app(event: dict[str, Any]) -> None:
    if not has_app_context():
        return
    from casework.engine_host import get_engine

    start_requested_processes(get_engine(), event)


register_connector(START_PROCESS, start_process, START_PROCESS_SCHEMA)
register_event_listener(_start_in_app)
