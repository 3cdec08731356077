"""Documents: upload to a person, case or note (multipart), new versions, download (logged)."""

from __future__ import annotations

from flask import current_app, request
from marshmallow import RAISE, Schema, fields, pre_load, validate

from api import blueprint
from api.openapi import documented
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Invalid
from casework.records import codes
from casework.records import service_document as docs
from casework.records.access import get_visible_person
from casework.web.context import current_actor, db_session
from casework.web.downloads import document_download


class DocumentVersionSchema(Schema):
    version_no = fields.Int()
    filename = fields.Str()
    content_type = fields.Str()
    size_bytes = fields.Int()
    sha256 = fields.Str()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)


TYPE_HELP = ("What the document is, one of: " + ", ".join(f"{k} ({v})" for k, v in codes.DOCUMENT_TYPES.items())
             + ". Required on upload; documents uploaded before types existed have none (null).")


class DocumentSchema(Schema):
    id = fields.Int()
    person_id = fields.Int()
    case_id = fields.Int(allow_none=True)
    note_id = fields.Int(allow_none=True)
    title = fields.Str()
    document_type = fields.Str(allow_none=True, validate=validate.OneOf(list(codes.DOCUMENT_TYPES)),
                               metadata={"description": TYPE_HELP})
    document_type_label = fields.Function(lambda d: codes.DOCUMENT_TYPES.get(d.document_type or ""),
                                          allow_none=True, metadata={"description": "The type's label"})
    current_version = fields.Int()
    versions = fields.List(fields.Nested(DocumentVersionSchema))
    version = fields.Int()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)


def _settings():  # type: ignore[no-untyped-def]
    settings = current_app.config["SETTINGS"]
    return settings.documents_dir, settings.max_upload_mb * 1024 * 1024


class DocumentUploadForm(Schema):
    """The multipart form fields of POST /documents (besides ``file``)."""

    class Meta:
        unknown = RAISE

    title = fields.Str(load_default="")
    person_id = fields.Int(load_default=None)
    case_id = fields.Int(load_default=None)
    note_id = fields.Int(load_default=None)
    document_type = fields.Str(
        required=True, validate=validate.OneOf(list(codes.DOCUMENT_TYPES),
                                               error="Unknown document type; choose one of: {choices}."),
        error_messages={"required": "Select the type of document."}, metadata={"description": TYPE_HELP})

    @pre_load
    def _blank_is_missing(self, data, **_kwargs):  # type: ignore[no-untyped-def]
        return {name: value for name, value in data.items() if value != ""}


def _upload(allowed: frozenset[str] | None = frozenset({"version"})) -> docs.Upload:
    """The uploaded file; ``allowed`` lists the other form fields (None: a schema has checked them)."""
    unknown = set(request.form) - allowed if allowed is not None else set()
    if unknown:
        raise Invalid("Unknown fields", details={name: "Unknown field." for name in sorted(unknown)})
    file = request.files.get("file")
    if file is None or not file.filename:
        raise Invalid("Choose a file", details={"file": "Select a file to upload"})
    return docs.Upload(filename=file.filename, data=file.read())


def _int_field(name: str) -> int | None:
    raw = request.form.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit():
        raise Invalid(f"{name} must be a number", details={name: "Not a valid integer."})
    return int(raw)


@blueprint.post("/documents")
@requires(Permission.RECORDS_EDIT)
@documented("Upload a document (multipart: file, title, document_type, and one of person_id, case_id, note_id). "
            "document_type is required and must be a code of the document type list (see the Document schema); "
            "an unknown or missing type is 422 with details.document_type",
            response=DocumentSchema, status=201)
def upload_document():  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    form = DocumentUploadForm().load(request.form.to_dict())
    upload = _upload(None)
    folder, max_bytes = _settings()
    doc = docs.add_document(session, actor, documents_dir=folder, max_bytes=max_bytes,
                            person_id=form["person_id"], case_id=form["case_id"], note_id=form["note_id"],
                            title=form["title"], upload=upload, document_type=form["document_type"],
                            require_type=True)
    session.commit()
    return DocumentSchema().dump(doc), 201


@blueprint.get("/people/<int:person_id>/documents")
@requires(Permission.RECORDS_VIEW)
@documented("A person's documents, newest first; ?document_type=letter (repeat it, or comma-separate codes, for "
            "several) lists only those types; an unknown code is 422", response=DocumentSchema(many=True),
            query={"document_type": "document type code(s) to list; repeat or comma-separate for several"})
def list_documents(person_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    person = get_visible_person(session, actor, person_id)
    wanted = [code.strip() for raw in request.args.getlist("document_type") for code in raw.split(",")
              if code.strip()]
    found = docs.documents_for_person(session, actor, person, document_types=wanted or None)
    return {"items": DocumentSchema(many=True).dump(found)}


@blueprint.get("/documents/<int:document_id>")
@requires(Permission.RECORDS_VIEW)
@documented("A document's details and versions", response=DocumentSchema)
def get_document(document_id: int):  # type: ignore[no-untyped-def]
    return DocumentSchema().dump(docs.get_visible_document(db_session(), current_actor(), document_id))


@blueprint.post("/documents/<int:document_id>/versions")
@requires(Permission.RECORDS_EDIT)
@documented("Upload a new version (multipart: file, version); earlier versions are kept", response=DocumentSchema,
            status=201)
def add_document_version(document_id: int):  # type: ignore[no-untyped-def]
    session, actor = db_session(), current_actor()
    upload = _upload()
    folder, max_bytes = _settings()
    doc = docs.get_visible_document(session, actor, document_id)
    header = request.headers.get("If-Match", "").removeprefix("W/").strip('"')
    expected = _int_field("version") or (int(header) if header.isdigit() else None)
    docs.add_version(session, actor, doc, documents_dir=folder, max_bytes=max_bytes, upload=upload,
                     expected_version=expected)
    session.commit()
    return DocumentSchema().dump(doc), 201


@blueprint.get("/documents/<int:document_id>/content")
@requires(Permission.RECORDS_VIEW)
@documented("Download a document (current version, or ?version=N); every download is logged",
            query={"version": "version number"})
def download_document(document_id: int):  # type: ignore[no-untyped-def]
    return document_download(document_id, request.args.get("version", type=int))
