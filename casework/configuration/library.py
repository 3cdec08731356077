"""The process library: every process, its versions (published, retired, and the open draft), running
instances per version, and plain-words differences between versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from casework.configuration import bundles
from casework.configuration.drafts import files_of, open_drafts
from casework.configuration.models import ProcessDraft
from engine.definitions import diff_bundles
from engine.errors import Invalid as EngineInvalid
from engine.schema import process_definition, process_instance
from engine.store import get_definition_by_id

WAITING = ("running", "suspended", "error")


@dataclass
class VersionRow:
    version: int
    status: str
    name: str | None
    published_by: str | None
    published_at: object
    content_hash: str
    definition_id: int
    running: int = 0
    total: int = 0


@dataclass
class ProcessEntry:
    process_key: str
    name: str
    versions: list[VersionRow] = field(default_factory=list)
    draft: ProcessDraft | None = None

    @property
    def latest(self) -> VersionRow | None:
        published = [v for v in self.versions if v.status == "published"]
        return published[-1] if published else None

    @property
    def running(self) -> int:
        return sum(v.running for v in self.versions)


def instance_counts(conn, process_key: str | None = None) -> dict[int, tuple[int, int]]:
    """definition id -> (running/waiting instances, all instances)."""
    running = func.sum(case((process_instance.c.status.in_(WAITING), 1), else_=0))
    q = select(process_instance.c.definition_id, func.count(), running).group_by(process_instance.c.definition_id)
    if process_key is not None:
        q = q.where(process_instance.c.process_key == process_key)
    return {row[0]: (int(row[2] or 0), int(row[1])) for row in conn.execute(q)}


def _versions(conn, process_key: str | None = None) -> list[VersionRow]:
    cols = [process_definition.c[n] for n in ("id", "process_key", "version", "status", "name", "published_by",
                                              "published_at", "content_hash")]
    q = select(*cols).order_by(process_definition.c.process_key, process_definition.c.version)
    if process_key is not None:
        q = q.where(process_definition.c.process_key == process_key)
    counts = instance_counts(conn, process_key)
    out = []
    for r in conn.execute(q).mappings():
        running, total = counts.get(r["id"], (0, 0))
        row = VersionRow(r["version"], r["status"], r["name"], r["published_by"], r["published_at"],
                         r["content_hash"], r["id"], running, total)
        row.process_key = r["process_key"]  # type: ignore[attr-defined]
        out.append(row)
    return out


def library(session: Session) -> list[ProcessEntry]:
    conn = session.connection()
    entries: dict[str, ProcessEntry] = {}
    for row in _versions(conn):
        key = row.process_key  # type: ignore[attr-defined]
        entry = entries.setdefault(key, ProcessEntry(key, row.name or key))
        entry.versions.append(row)
        entry.name = row.name or entry.name
    for draft in open_drafts(session):
        entry = entries.setdefault(draft.process_key, ProcessEntry(draft.process_key, draft.title))
        entry.draft = draft
    return sorted(entries.values(), key=lambda e: e.name.lower())


def process_entry(session: Session, process_key: str) -> ProcessEntry | None:
    from casework.configuration.drafts import open_draft

    versions = _versions(session.connection(), process_key)
    draft = open_draft(session, process_key)
    if not versions and draft is None:
        return None
    name = (versions[-1].name if versions else None) or (draft.title if draft else process_key)
    return ProcessEntry(process_key, name, versions, draft)


def definition_row(conn, process_key: str, version: int) -> dict:
    from casework.errors import NotFound

    row = conn.execute(select(process_definition).where(process_definition.c.process_key == process_key,
                                                        process_definition.c.version == version)
                       ).mappings().first()
    if row is None:
        raise NotFound(f"{process_key} version {version} does not exist")
    return dict(row)


def _bundle(files):
    try:
        return bundles.bundle_from_files(files), None
    except EngineInvalid as exc:
        return None, str(exc)


def diff_files(old: bundles.Files, new: bundles.Files) -> list[str]:
    """Plain-words differences (engine.definitions.diff_bundles); a file that cannot be read is said so."""
    a, a_err = _bundle(old)
    b, b_err = _bundle(new)
    if a_err or b_err:
        return [f"Cannot compare: {a_err or b_err}"]
    return diff_bundles(a, b) or ["No differences"]


def diff_versions(conn, process_key: str, old: int, new: int) -> list[str]:
    return diff_files(bundles.files_from_definition(definition_row(conn, process_key, old)),
                      bundles.files_from_definition(definition_row(conn, process_key, new)))


def diff_draft(conn, draft: ProcessDraft) -> list[str] | None:
    """What the draft changes compared with the version it is based on (None for a new process)."""
    if draft.based_on_version is None:
        return None
    base = bundles.files_from_definition(definition_row(conn, draft.process_key, draft.based_on_version))
    return diff_files(base, files_of(draft))


def definition_files(conn, definition_id: int) -> bundles.Files:
    return bundles.files_from_definition(get_definition_by_id(conn, definition_id))
