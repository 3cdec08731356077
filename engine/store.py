"""Published definitions, the spec cache and instance rows (SQLAlchemy Core)."""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import OperationalError

from engine.errors import Conflict, NotFound
from engine.hotsql import Hot
from engine.schema import process_definition, process_instance, spec_cache, work_item
from engine.spiff_support import spec_from_json, spec_to_json


class SpecCache:
    """Process-wide cache: content hash -> (spec, subprocess_specs). Specs are never mutated at runtime."""

    def __init__(self, size: int = 128):
        self._size = size
        self._items: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn, content_hash_: str):
        with self._lock:
            hit = self._items.get(content_hash_)
            if hit is not None:
                self._items.move_to_end(content_hash_)
                return hit
        text = conn.execute(select(spec_cache.c.spec_json).where(spec_cache.c.content_hash == content_hash_)
                            ).scalar_one_or_none()
        if text is None:
            raise NotFound(f"no stored spec for hash {content_hash_}")
        value = spec_from_json(text)
        self.put(content_hash_, value)
        return value

    def put(self, content_hash_: str, value) -> None:
        with self._lock:
            self._items[content_hash_] = value
            self._items.move_to_end(content_hash_)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def store_definition(conn, *, process_key, name, bpmn, dmn, forms, digest, spec, subprocess_specs, actor,
                     now) -> dict:
    """Insert a new immutable version (or return the latest one if the content is unchanged)."""
    latest = conn.execute(
        select(process_definition).where(process_definition.c.process_key == process_key)
        .order_by(process_definition.c.version.desc()).limit(1)).mappings().first()
    if latest is not None and latest["content_hash"] == digest:
        return dict(latest)
    if conn.execute(select(spec_cache.c.content_hash).where(spec_cache.c.content_hash == digest)).first() is None:
        conn.execute(insert(spec_cache).values(content_hash=digest, process_key=process_key,
                                               spec_json=spec_to_json(spec, subprocess_specs), created_at=now))
    version = (latest["version"] + 1) if latest is not None else 1
    def_id = conn.execute(insert(process_definition).values(
        process_key=process_key, version=version, content_hash=digest, name=name,
        bpmn_xml=json.dumps(bpmn), dmn_xml=json.dumps(dmn), forms_json=json.dumps(forms),
        status="published", published_by=actor, published_at=now,
    ).returning(process_definition.c.id)).scalar_one()
    return dict(conn.execute(select(process_definition).where(process_definition.c.id == def_id)
                             ).mappings().one())


_DEF_COLS = [c for c in process_definition.c if c.name not in ("bpmn_xml", "dmn_xml", "forms_json")]
_LATEST_DEF = Hot(select(*_DEF_COLS).where(process_definition.c.process_key == bindparam("key"),
                                           process_definition.c.status == "published")
                  .order_by(process_definition.c.version.desc()).limit(1))
_DEF_VERSION = Hot(select(*_DEF_COLS).where(process_definition.c.process_key == bindparam("key"),
                                            process_definition.c.status == "published",
                                            process_definition.c.version == bindparam("version")))


def get_definition(conn, process_key: str, version: int | None = None) -> dict:
    """The published definition (without its files) — the latest one unless ``version`` is given."""
    if version is None:
        row = _LATEST_DEF.first(conn, {"key": process_key})
    else:
        row = _DEF_VERSION.first(conn, {"key": process_key, "version": version})
    if row is None:
        which = f" version {version}" if version else ""
        raise NotFound(f"process {process_key!r}{which} is not published")
    return row


def get_definition_by_id(conn, definition_id: int) -> dict:
    row = conn.execute(select(process_definition).where(process_definition.c.id == definition_id)
                       ).mappings().first()
    if row is None:
        raise NotFound(f"definition {definition_id} not found")
    return dict(row)


def list_definitions(conn, process_key: str | None = None) -> list[dict]:
    cols = [c for c in process_definition.c if c.name not in ("bpmn_xml", "dmn_xml", "forms_json")]
    q = select(*cols).order_by(process_definition.c.process_key, process_definition.c.version)
    if process_key is not None:
        q = q.where(process_definition.c.process_key == process_key)
    return [dict(r) for r in conn.execute(q).mappings()]


_INSTANCE_JOIN = process_instance.join(process_definition,
                                       process_definition.c.id == process_instance.c.definition_id)
_INSTANCE_COLS = (process_instance, process_definition.c.content_hash, process_definition.c.version.label(
    "definition_version"))


_LOAD_STMT = select(*_INSTANCE_COLS).select_from(_INSTANCE_JOIN).where(process_instance.c.id == bindparam("id"))
_LOAD = Hot(_LOAD_STMT)
_LOAD_FOR_UPDATE = Hot(_LOAD_STMT.with_for_update(of=process_instance))
_INSERT = Hot(insert(process_instance).returning(process_instance.c.id))
_INSERT_KEYS = ("definition_id", "process_key", "business_key", "status", "state", "version", "started_at",
                "updated_at", "ended_at", "started_by", "parent_instance_id")
_SAVE = (update(process_instance)
         .where(process_instance.c.id == bindparam("b_id"), process_instance.c.version == bindparam("b_version")))
_SAVE_BY_KEYS: dict[tuple, Hot] = {}  # the columns an instance save writes -> its statement


_ITEM_COLS = [c.label(f"wi_{c.name}") for c in work_item.c]
_LOAD_WITH_ITEM_STMT = (select(*_INSTANCE_COLS, *_ITEM_COLS)
                        .select_from(_INSTANCE_JOIN.join(work_item, work_item.c.instance_id == process_instance.c.id))
                        .where(work_item.c.id == bindparam("wid")))
_LOAD_WITH_ITEM = Hot(_LOAD_WITH_ITEM_STMT)
_LOAD_WITH_ITEM_FOR_UPDATE = Hot(_LOAD_WITH_ITEM_STMT.with_for_update(of=process_instance))


def load_item_and_instance(conn, work_item_id: int) -> tuple[dict, dict]:
    """A work item and its instance row (locked on PostgreSQL) in one round trip."""
    q = _LOAD_WITH_ITEM_FOR_UPDATE if conn.dialect.name == "postgresql" else _LOAD_WITH_ITEM
    row = q.first(conn, {"wid": work_item_id})
    if row is None:
        raise NotFound(f"work item {work_item_id} not found")
    item, inst = {}, {}
    for key, value in row.items():
        if key.startswith("wi_"):
            item[key[3:]] = value
        else:
            inst[key] = value
    return item, inst


def load_instance_row(conn, instance_id: int, *, lock: bool = False) -> dict:
    q = _LOAD_FOR_UPDATE if lock and conn.dialect.name == "postgresql" else _LOAD
    row = q.first(conn, {"id": instance_id})
    if row is None:
        raise NotFound(f"process instance {instance_id} not found")
    return row


def insert_instance(conn, *, definition, business_key, state, status, actor, now, parent_instance_id=None):
    return _INSERT.scalar(conn, {
        "definition_id": definition["id"], "process_key": definition["process_key"], "business_key": business_key,
        "status": status, "state": state, "version": 1, "started_at": now, "updated_at": now,
        "ended_at": now if status in ("completed", "cancelled") else None, "started_by": actor,
        "parent_instance_id": parent_instance_id}, keys=_INSERT_KEYS)


def save_instance(conn, row: dict, *, state: str, status: str, now, definition_id: int | None = None) -> int:
    """Write the new state guarded by the version the row was read with; return the new version."""
    values = {"state": state, "status": status, "version": row["version"] + 1, "updated_at": now}
    if status in ("completed", "cancelled") and row.get("ended_at") is None:
        values["ended_at"] = now
    if definition_id is not None:
        values["definition_id"] = definition_id
    keys = tuple(values)
    stmt = _SAVE_BY_KEYS.get(keys)
    if stmt is None:
        stmt = _SAVE_BY_KEYS[keys] = Hot(_SAVE.values({k: bindparam(k) for k in keys}))
    if stmt.rowcount(conn, {"b_id": row["id"], "b_version": row["version"], **values}) != 1:
        raise Conflict(f"process instance {row['id']} was changed by someone else; reload and try again",
                       instance_id=row["id"])
    return row["version"] + 1


def count_instances(conn, definition_id: int) -> int:
    return conn.execute(select(func.count()).select_from(process_instance)
                        .where(process_instance.c.definition_id == definition_id)).scalar_one()


def busy_is_conflict(fn):
    """SQLite has no row locks: a concurrent writer makes a write fail with "database is locked" (in WAL mode
    immediately, when our snapshot is stale). That is a lost race, exactly what Conflict means."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig):
                raise Conflict("a concurrent change to the same data won; reload and try again") from exc
            raise

    return wrapper
