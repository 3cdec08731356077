"""Moving waiting instances to a newer published version, with the engine's check shown first."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.configuration.changes import clean_reason, record
from casework.errors import Invalid
from engine.errors import EngineError
from engine.schema import process_definition, process_instance

MIGRATABLE = ("running", "suspended")
MAX_LIST = 200


@dataclass
class Candidate:
    instance_id: int
    business_key: str | None
    version: int
    status: str
    started_at: object
    blockers: list[str] = field(default_factory=list)


def candidates(session: Session, engine, process_key: str, to_version: int, *, limit: int = MAX_LIST
               ) -> list[Candidate]:
    """Waiting instances on other versions, each with the engine's migration blockers (empty = can move)."""
    conn = session.connection()
    q = (select(process_instance.c.id, process_instance.c.business_key, process_instance.c.status,
                process_instance.c.started_at, process_definition.c.version)
         .select_from(process_instance.join(process_definition,
                                            process_definition.c.id == process_instance.c.definition_id))
         .where(process_instance.c.process_key == process_key, process_instance.c.status.in_(MIGRATABLE),
                process_definition.c.version != to_version)
         .order_by(process_instance.c.id).limit(limit))
    out = []
    for row in conn.execute(q).mappings():
        cand = Candidate(row["id"], row["business_key"], row["version"], row["status"], row["started_at"])
        try:
            cand.blockers = engine.check_migration(conn, row["id"], to_version)
        except EngineError as exc:
            cand.blockers = [str(exc)]
        out.append(cand)
    return out


def migrate(session: Session, engine, *, process_key: str, to_version: int, instance_ids: list[int],
            actor: str, reason: str | None) -> tuple[list[int], dict[int, list[str]]]:
    """Migrate each chosen instance that has no blockers; returns (moved, refused {id: reasons})."""
    reason = clean_reason(reason)
    if not instance_ids:
        raise Invalid("Choose at least one instance", details={"instances": "Choose the instances to move"})
    conn = session.connection()
    moved, refused = [], {}
    for instance_id in instance_ids:
        row = conn.execute(select(process_instance.c.process_key).where(process_instance.c.id == instance_id)
                           ).first()
        if row is None or row.process_key != process_key:
            refused[instance_id] = [f"instance {instance_id} is not an instance of {process_key}"]
            continue
        try:
            with session.begin_nested():
                engine.migrate(conn, instance_id, to_version, actor)
        except EngineError as exc:
            refused[instance_id] = list(getattr(exc, "problems", None) or [str(exc)])
            continue
        moved.append(instance_id)
    if moved:
        record(session, process_key=process_key, action="migrated", actor=actor, reason=reason,
               definition_version=to_version, details={"instances": moved, "refused": sorted(refused)})
    return moved, refused
