"""Change control: submit for review -> a different configurator approves -> publish through the engine.

Rules:
- only a draft without errors (the engine's full validation) can be submitted;
- the person who submitted a draft (or last changed it) can neither approve nor publish it;
- the content is frozen from submission; what is published is exactly what was approved (hash checked);
- every saved regression scenario of the process must still reach its outcome (submit and publish);
- a roll back starts a new draft from an earlier version, which goes through the same review.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.configuration import bundles
from casework.configuration.changes import clean_reason, record
from casework.configuration.drafts import files_of, start_from_version
from casework.configuration.models import APPROVED, DRAFT, IN_REVIEW, PUBLISHED, ProcessDraft
from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from engine.errors import Invalid as EngineInvalid
from engine.schema import process_definition


class ProblemsFound(Invalid):
    """The engine found errors; ``problems`` lists them (element id, name, message)."""

    def __init__(self, message: str, problems: list):
        super().__init__(message, details={"problems": [p.to_dict() if hasattr(p, "to_dict") else {
            "element_id": None, "element_name": None, "message": str(p), "severity": "error", "file": None}
            for p in problems]})
        self.problems = problems


def _bump(draft: ProcessDraft, actor: str) -> None:
    draft.version += 1
    draft.updated_at = utcnow()


def submit(session: Session, draft: ProcessDraft, *, actor: str, reason: str | None, engine,
           expected_version: int | None = None) -> ProcessDraft:
    reason = clean_reason(reason)
    if draft.status != DRAFT:
        raise Conflict(f"Draft {draft.id} is {draft.status.replace('_', ' ')}, not a draft")
    if expected_version is not None and expected_version != draft.version:
        raise Conflict("The draft changed since you opened it; reload it and check before submitting")
    check = bundles.check_files(files_of(draft), engine)
    if not check.ok:
        raise ProblemsFound(f"The draft has {len(check.errors)} problem(s) to fix before it can be reviewed",
                            check.errors)
    _check_scenarios(session, draft, engine)
    draft.status = IN_REVIEW
    draft.submitted_by, draft.submitted_at = actor, utcnow()
    draft.approved_by = draft.approved_at = draft.approved_hash = None
    _bump(draft, actor)
    record(session, process_key=draft.process_key, action="submitted", actor=actor, reason=reason,
           draft_id=draft.id, details={"content_hash": check.bundle.content_hash})
    return draft


def _check_scenarios(session: Session, draft: ProcessDraft, engine) -> None:
    from casework.configuration.simulation import check_scenarios

    failures = check_scenarios(session, draft.process_key, files_of(draft), engine)
    if failures:
        raise ProblemsFound(f"{len(failures)} regression scenario(s) no longer pass", failures)


def _not_the_author(draft: ProcessDraft, actor: str, doing: str) -> None:
    if actor == draft.submitted_by:
        raise Forbidden(f"You submitted this draft, so you cannot {doing} it: a different configurator must "
                        f"{doing} it (four-eyes change control).")


def approve(session: Session, draft: ProcessDraft, *, actor: str, reason: str | None, engine) -> ProcessDraft:
    reason = clean_reason(reason)
    if draft.status != IN_REVIEW:
        raise Conflict(f"Draft {draft.id} is {draft.status.replace('_', ' ')}, not in review")
    _not_the_author(draft, actor, "approve")
    if actor == draft.updated_by and draft.updated_by != draft.submitted_by:
        raise Forbidden("You made the last change to this draft, so a different configurator must approve it.")
    check = bundles.check_files(files_of(draft), engine)
    if not check.ok:
        raise ProblemsFound("The draft no longer passes validation", check.errors)
    draft.status = APPROVED
    draft.approved_by, draft.approved_at = actor, utcnow()
    draft.approved_hash = check.bundle.content_hash
    _bump(draft, actor)
    record(session, process_key=draft.process_key, action="approved", actor=actor, reason=reason,
           draft_id=draft.id, details={"content_hash": draft.approved_hash})
    return draft


def send_back(session: Session, draft: ProcessDraft, *, actor: str, reason: str | None) -> ProcessDraft:
    reason = clean_reason(reason)
    if draft.status not in (IN_REVIEW, APPROVED):
        raise Conflict(f"Draft {draft.id} is {draft.status.replace('_', ' ')}; only drafts in review or approved "
                       "can be sent back")
    draft.status = DRAFT
    draft.approved_by = draft.approved_at = draft.approved_hash = None
    _bump(draft, actor)
    record(session, process_key=draft.process_key, action="sent_back", actor=actor, reason=reason,
           draft_id=draft.id)
    return draft


def publish(session: Session, draft: ProcessDraft, *, actor: str, reason: str | None, engine) -> dict:
    """Publish an approved draft as the next version (engine.publish: the engine's full validation)."""
    reason = clean_reason(reason)
    if draft.status != APPROVED:
        raise Conflict(f"Draft {draft.id} is {draft.status.replace('_', ' ')}: only an approved draft can be "
                       "published")
    _not_the_author(draft, actor, "publish")
    try:
        bundle = bundles.bundle_from_files(files_of(draft))
    except EngineInvalid as exc:
        raise ProblemsFound(str(exc), [str(exc)]) from None
    if bundle.content_hash != draft.approved_hash:
        raise Conflict("The draft's content is not what was approved; send it back and review it again")
    _check_scenarios(session, draft, engine)
    if bundle.process_key != draft.process_key:
        raise Invalid(f"The model's main process is {bundle.process_key!r} but this draft is for "
                      f"{draft.process_key!r}: change the process id in the model, or import it as a new process")
    conn = session.connection()
    try:
        with session.begin_nested():
            definition = engine.publish(conn, bundle, actor)
    except EngineInvalid as exc:
        raise ProblemsFound(str(exc), list(getattr(exc, "problems", []) or [str(exc)])) from None
    draft.status = PUBLISHED
    draft.published_version = definition["version"]
    _bump(draft, actor)
    record(session, process_key=draft.process_key, action="published", actor=actor, reason=reason,
           draft_id=draft.id, definition_version=definition["version"],
           details={"content_hash": definition["content_hash"], "approved_by": draft.approved_by,
                    "submitted_by": draft.submitted_by})
    return definition


def start_rollback(session: Session, conn, *, process_key: str, version: int, actor: str, reason: str | None
                   ) -> ProcessDraft:
    """Roll back = republish an earlier version as a new version: a draft with its files, reviewed as usual."""
    reason = clean_reason(reason)
    return start_from_version(session, conn, process_key=process_key, version=version, actor=actor,
                              reason=reason, action="rollback_started")


def set_version_status(session: Session, *, process_key: str, version: int, status: str, actor: str,
                       reason: str | None) -> None:
    """Retire a published version (no new instances start on it; running ones carry on) or reinstate it."""
    reason = clean_reason(reason)
    if status not in ("retired", "published"):
        raise Invalid(f"unknown version status {status!r}")
    conn = session.connection()
    row = conn.execute(select(process_definition.c.id, process_definition.c.status).where(
        process_definition.c.process_key == process_key, process_definition.c.version == version)).first()
    if row is None:
        raise NotFound(f"{process_key} version {version} does not exist")
    if row.status == status:
        raise Conflict(f"{process_key} version {version} is already {status}")
    if status == "retired":
        others = conn.execute(select(process_definition.c.id).where(
            process_definition.c.process_key == process_key, process_definition.c.status == "published",
            process_definition.c.version != version)).first()
        if others is None:
            raise Conflict(f"Version {version} is the only published version of {process_key}: publish another "
                           "version before retiring it")
    conn.execute(update(process_definition).where(process_definition.c.id == row.id).values(status=status))
    record(session, process_key=process_key, action="retired" if status == "retired" else "reinstated",
           actor=actor, reason=reason, definition_version=version)
