"""Documents: bytes stored on disk (content-addressed by sha256) outside the database; type detected from
the bytes; allow-listed types only; size limit; every version kept; every download logged."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.errors import Forbidden, Invalid, NotFound
from casework.records import codes
from casework.records.access import can_edit_person, case_link_clause, get_visible_person, require_case_link
from casework.records.common import stamp_new, touch
from casework.records.models_case import Case
from casework.records.models_document import Document, DocumentAccess, DocumentVersion
from casework.records.models_note import CaseNote
from casework.records.models_person import Person

# detected MIME type -> extensions a file of that type may carry
ALLOWED = {
    "application/pdf": {".pdf"},
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    "text/plain": {".txt"},
    "text/csv": {".csv"},
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def detect_type(filename: str, data: bytes) -> str:
    """The MIME type from the content; refuse anything off the allow-list or not matching its extension."""
    ext = Path(filename).suffix.lower()
    kind = filetype.guess(data)
    if kind is not None:
        mime = kind.mime
    elif ext in (".txt", ".csv") and _looks_like_text(data):
        mime = "text/csv" if ext == ".csv" else "text/plain"
    else:
        raise Invalid("That type of file is not accepted",
                      details={"file": "Upload a PDF, PNG, JPEG, Word (.docx), Excel (.xlsx), text or CSV file"})
    if mime not in ALLOWED:
        raise Invalid("That type of file is not accepted",
                      details={"file": f"The file's content is {mime}, which is not accepted"})
    if ext not in ALLOWED[mime]:
        raise Invalid("The file's name does not match its content",
                      details={"file": f"The file is {mime} but is named {ext or 'without an extension'}"})
    return mime


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 65530  # a multi-byte character cut at the sample boundary
    return True


def _safe_filename(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip()
    if not name or name.startswith("."):
        raise Invalid("The file needs a name", details={"file": "The file has no usable name"})
    return name[:255]


def _store(documents_dir: str, data: bytes, sha: str) -> str:
    key = f"{sha[:2]}/{sha}"
    target = Path(documents_dir) / key
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    return key


def _check_upload(upload: Upload, max_bytes: int) -> tuple[str, str, str]:
    name = _safe_filename(upload.filename)
    if not upload.data:
        raise Invalid("The file is empty", details={"file": "The selected file is empty"})
    if len(upload.data) > max_bytes:
        raise Invalid("The file is too large",
                      details={"file": f"The file must be smaller than {max_bytes // (1024 * 1024) or 1} MB"})
    mime = detect_type(name, upload.data)
    return name, mime, hashlib.sha256(upload.data).hexdigest()


def add_document(session: Session, actor: Actor, *, documents_dir: str, max_bytes: int, person_id: int | None,
                 case_id: int | None, note_id: int | None, title: str, upload: Upload,
                 document_type: str | None = None, require_type: bool = False) -> Document:
    """Attach a document to a person, a case or a note (the person is derived from the case or note).

    ``document_type`` is a code of ``codes.DOCUMENT_TYPES`` (unknown -> 422 on ``document_type``); the API and
    the workspace pass ``require_type=True`` so that every upload through them has one."""
    if sum(x is not None for x in (person_id, case_id, note_id)) != 1:
        raise Invalid("Attach the document to one person, case or note", details={"person_id": "Choose one"})
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("No such case")
        person_id = case.person_id
    if note_id is not None:
        note = session.get(CaseNote, note_id)
        if note is None:
            raise NotFound("No such note")
        person_id, case_id = note.person_id, note.case_id
    assert person_id is not None
    person = get_visible_person(session, actor, person_id)
    require_case_link(session, actor, case_id)  # a case (or case note) document: the case's team only
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    if not title.strip():
        raise Invalid("Give the document a title", details={"title": "Enter a title"})
    check_document_type(document_type, required=require_type)
    name, mime, sha = _check_upload(upload, max_bytes)
    doc = Document(person_id=person.id, case_id=case_id, note_id=note_id, title=title.strip()[:300],
                   document_type=document_type)
    stamp_new(doc, actor)
    key = _store(documents_dir, upload.data, sha)
    version = DocumentVersion(version_no=1, filename=name, content_type=mime, size_bytes=len(upload.data),
                              sha256=sha, storage_key=key)
    stamp_new(version, actor)
    doc.versions.append(version)
    session.add(doc)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, record_type="document", record_id=doc.id,
                 person_id=doc.person_id, fields=("title", "content"))
    return doc


def check_document_type(document_type: str | None, *, required: bool) -> str | None:
    """A known document type code (or None when not required); otherwise 422 naming ``document_type``."""
    if document_type is None or document_type == "":
        if required:
            raise Invalid("Choose the type of document", details={"document_type": "Select the type of document"})
        return None
    return codes.check_code(codes.DOCUMENT_TYPES, document_type, "document_type")


def get_visible_document(session: Session, actor: Actor, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("No such document")
    get_visible_person(session, actor, doc.person_id)
    try:
        require_case_link(session, actor, doc.case_id)
    except NotFound:
        raise NotFound("No such document") from None
    return doc


def add_version(session: Session, actor: Actor, doc: Document, *, documents_dir: str, max_bytes: int,
                upload: Upload, expected_version: int | None) -> DocumentVersion:
    from casework.records.common import check_version

    person = get_visible_person(session, actor, doc.person_id)
    require_case_link(session, actor, doc.case_id)
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    check_version(doc, expected_version)
    name, mime, sha = _check_upload(upload, max_bytes)
    key = _store(documents_dir, upload.data, sha)
    version = DocumentVersion(version_no=doc.current_version + 1, filename=name, content_type=mime,
                              size_bytes=len(upload.data), sha256=sha, storage_key=key)
    stamp_new(version, actor)
    doc.versions.append(version)
    doc.current_version = version.version_no
    touch(doc, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="document", record_id=doc.id,
                 person_id=doc.person_id, fields=("content",))
    session.flush()
    return version


def open_version(session: Session, actor: Actor, doc: Document, *, documents_dir: str,
                 version_no: int | None = None) -> tuple[DocumentVersion, bytes]:
    """Read a version's bytes (checked against its sha256) and log the download."""
    get_visible_person(session, actor, doc.person_id)
    require_case_link(session, actor, doc.case_id)
    number = version_no or doc.current_version
    version = next((v for v in doc.versions if v.version_no == number), None)
    if version is None:
        raise NotFound("No such version")
    path = Path(documents_dir) / version.storage_key
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound("The document's file is missing from storage; contact support") from None
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise Invalid("The stored file does not match its checksum; contact support",
                      details={"file": "Checksum mismatch"})
    session.add(DocumentAccess(document_id=doc.id, version_no=number, user_id=actor.user_id, action="download"))
    audit.record(session, actor, AuditAction.VIEW, record_type="document", record_id=doc.id,
                 person_id=doc.person_id, fields=("content",))
    session.flush()
    return version, data


def documents_for_person(session: Session, actor: Actor, person: Person, *,
                         document_types: list[str] | None = None) -> list[Document]:
    """The person's documents the actor may see, newest first; ``document_types`` (codes) narrows the list."""
    get_visible_person(session, actor, person.id)
    query = select(Document).where(Document.person_id == person.id, case_link_clause(actor, Document.case_id))
    if document_types:
        for code in document_types:
            codes.check_code(codes.DOCUMENT_TYPES, code, "document_type")
        query = query.where(Document.document_type.in_(document_types))
    return list(session.scalars(query.order_by(Document.id.desc())))
