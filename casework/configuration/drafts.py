"""Process drafts: start one (blank, from a published version, or from imported files), save with optimistic
locking, upload or remove files. One open draft per process, so two configurators never fork a process."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.configuration import bundles
from casework.configuration.bundles import Files
from casework.configuration.changes import clean_reason, record
from casework.configuration.models import DRAFT, OPEN_STATES, WITHDRAWN, ProcessDraft
from casework.db import utcnow
from casework.errors import Conflict, Invalid, NotFound
from engine.errors import Invalid as EngineInvalid
from engine.errors import NotFound as EngineNotFound
from engine.schema import process_definition
from engine.store import get_definition

FILE_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}$"


def get_draft(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"Draft {draft_id} does not exist")
    return draft


def open_draft(session: Session, process_key: str) -> ProcessDraft | None:
    return session.scalars(select(ProcessDraft).where(ProcessDraft.process_key == process_key,
                                                      ProcessDraft.status.in_(OPEN_STATES))).first()


def open_drafts(session: Session) -> list[ProcessDraft]:
    return list(session.scalars(select(ProcessDraft).where(ProcessDraft.status.in_(OPEN_STATES))
                                .order_by(ProcessDraft.process_key)))


def files_of(draft: ProcessDraft) -> Files:
    return bundles.loads(draft.files_json)


def _check_key(process_key: str) -> str:
    key = (process_key or "").strip()
    if not bundles.KEY_RE.match(key):
        raise Invalid("Enter a valid process id", details={
            "process_key": "Use letters, numbers, underscores, dots or hyphens, starting with a letter"})
    return key


def create_draft(session: Session, *, process_key: str, title: str, files: Files, actor: str,
                 reason: str | None, based_on_version: int | None = None, action: str = "created",
                 details: dict | None = None) -> ProcessDraft:
    key = _check_key(process_key)
    existing = open_draft(session, key)
    if existing is not None:
        raise Conflict(f"There is already an open draft of {key} (draft {existing.id}, started by "
                       f"{existing.created_by}). Continue that draft or withdraw it first.",
                       details={"draft_id": existing.id})
    now = utcnow()
    draft = ProcessDraft(process_key=key, title=(title or key).strip()[:300], files_json=bundles.dumps(files),
                         based_on_version=based_on_version, status=DRAFT, version=1, created_by=actor,
                         created_at=now, updated_by=actor, updated_at=now)
    session.add(draft)
    session.flush()
    record(session, process_key=key, action=action, actor=actor, reason=reason, draft_id=draft.id,
           definition_version=based_on_version, details=details)
    return draft


def start_blank(session: Session, *, process_key: str, title: str, actor: str, reason: str | None
                ) -> ProcessDraft:
    key = _check_key(process_key)
    files = bundles.empty_files()
    files["bpmn"][f"{key}.bpmn"] = bundles.blank_bpmn(key, (title or key).strip())
    return create_draft(session, process_key=key, title=title or key, files=files, actor=actor,
                        reason=clean_reason(reason, required=False))


def start_from_version(session: Session, conn, *, process_key: str, version: int | None, actor: str,
                       reason: str | None, action: str = "created") -> ProcessDraft:
    """A draft holding the files of a published version (the latest if ``version`` is None)."""
    if version is None:
        version = get_definition(conn, process_key)["version"]  # the latest published version
    row = conn.execute(select(process_definition).where(process_definition.c.process_key == process_key,
                                                        process_definition.c.version == version)
                       ).mappings().first()
    if row is None:
        raise NotFound(f"{process_key} version {version} does not exist")
    return create_draft(session, process_key=process_key, title=row["name"] or process_key,
                        files=bundles.files_from_definition(row), actor=actor, reason=reason,
                        based_on_version=row["version"], action=action,
                        details={"from_version": row["version"]})


def _require_editable(draft: ProcessDraft, expected_version: int | None) -> None:
    if draft.status != DRAFT:
        raise Conflict(f"Draft {draft.id} is {draft.status.replace('_', ' ')}: it cannot be changed now. "
                       "Send it back for changes first.")
    if expected_version is not None and draft.version != expected_version:
        raise Conflict(f"Someone else ({draft.updated_by}) saved this draft after you opened it (now at "
                       f"save {draft.version}, you had save {expected_version}). Your changes were not saved: "
                       "copy them, reload the draft and apply them again.",
                       details={"current_version": draft.version, "updated_by": draft.updated_by})


def _check_file(kind: str, name: str, text: str) -> None:
    import re

    if not re.match(FILE_NAME_RE, name or "") or ".." in name:
        raise Invalid(f"{name!r} is not an acceptable file name", details={"file": "Use letters, numbers, "
                      "dots, hyphens and underscores"})
    try:
        if kind in ("bpmn", "dmn"):
            bundles.check_xml(name, text)
        else:
            if not name.endswith((".schema.json", ".uischema.json")):
                raise EngineInvalid(f"{name}: form files are named <form>.schema.json or <form>.uischema.json")
            bundles.check_form_file(name, text)
    except EngineInvalid as exc:
        raise Invalid(str(exc), details={"file": str(exc)}) from None


def save_files(session: Session, draft: ProcessDraft, *, changes: dict[str, dict[str, str | None]],
               actor: str, expected_version: int | None, reason: str | None = None, action: str = "saved",
               ) -> ProcessDraft:
    """Apply ``{kind: {file name: text or None (remove)}}``; refuses stale saves with Conflict (409)."""
    _require_editable(draft, expected_version)
    files = files_of(draft)
    changed = []
    for kind, entries in changes.items():
        if kind not in bundles.KINDS:
            raise Invalid(f"unknown file kind {kind!r}")
        for name, text in entries.items():
            if text is None:
                if files[kind].pop(name, None) is not None:
                    changed.append(f"removed {kind}/{name}")
                continue
            _check_file(kind, name, text)
            if files[kind].get(name) != text:
                files[kind][name] = text
                changed.append(f"{kind}/{name}")
    if not changed:
        return draft
    # guarded update: a concurrent save between our read and write also gets the conflict
    from sqlalchemy import update

    now = utcnow()
    result = session.execute(update(ProcessDraft).where(ProcessDraft.id == draft.id,
                                                        ProcessDraft.version == draft.version)
                             .values(files_json=bundles.dumps(files), version=draft.version + 1,
                                     updated_by=actor, updated_at=now)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.expire(draft)
        _require_editable(draft, expected_version)
        raise Conflict("Someone else saved this draft at the same moment; reload and try again")
    session.expire(draft)
    record(session, process_key=draft.process_key, action=action, actor=actor,
           reason=clean_reason(reason, required=False), draft_id=draft.id,
           details={"files": changed, "save": draft.version})
    return draft


def withdraw(session: Session, draft: ProcessDraft, *, actor: str, reason: str | None) -> ProcessDraft:
    if draft.status not in OPEN_STATES:
        raise Conflict(f"Draft {draft.id} is already {draft.status}")
    draft.status = WITHDRAWN
    draft.version += 1
    draft.updated_by, draft.updated_at = actor, utcnow()
    record(session, process_key=draft.process_key, action="withdrawn", actor=actor,
           reason=clean_reason(reason), draft_id=draft.id)
    return draft


def import_files(session: Session, *, files: Files, actor: str, reason: str | None, engine,
                 draft: ProcessDraft | None = None, expected_version: int | None = None,
                 ) -> tuple[ProcessDraft, list]:
    """Put uploaded files into ``draft`` (replacing files of the same name), or into a new draft named after
    the model's process. Returns (draft, problems) — the problems say why the model cannot run yet."""
    from casework.configuration.transfer import import_report

    if draft is not None:
        changes = {kind: dict(entries) for kind, entries in files.items() if entries}
        draft = save_files(session, draft, changes=changes, actor=actor, expected_version=expected_version,
                           reason=reason, action="imported")
        return draft, bundles.check_files(files_of(draft), engine).problems
    key, title, check = import_report(files, engine)
    try:
        based_on = get_definition(session.connection(), key)["version"]
    except EngineNotFound:
        based_on = None
    draft = create_draft(session, process_key=key, title=title, files=files, actor=actor, based_on_version=based_on,
                         reason=clean_reason(reason, required=False), action="imported",
                         details={"files": [f"{k}/{n}" for k in bundles.KINDS for n in files[k]]})
    return draft, check.problems
