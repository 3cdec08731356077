"""Documents: content-detected types, disguised files refused, size limit, versions, logged downloads."""

import io
import zipfile

import pytest
from sqlalchemy import select

from casework.errors import Invalid, NotFound
from casework.records import service_document as docs
from casework.records.models_document import DocumentAccess
from tests.conftest import sign_in
from tests.factories import create_user
from tests.records.factories import create_person, practitioner

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "mime"), [
    ("letter.pdf", PDF, "application/pdf"), ("photo.png", PNG, "image/png"),
    ("notes.txt", "Plain text, naïve café".encode(), "text/plain"), ("list.csv", b"a,b\n1,2\n", "text/csv")])
def test_allowed_types_are_detected_from_content(name, data, mime):
    assert docs.detect_type(name, data) == mime


@pytest.mark.parametrize(("name", "data"), [("report.pdf", EXE), ("run.exe", EXE), ("photo.pdf", PNG),
                                            ("notes.txt", b"\x00\x01binary"), ("archive.zip", _docx()[:4] + b"x")])
def test_disguised_or_unknown_files_are_refused(name, data):
    with pytest.raises(Invalid) as exc:
        docs.detect_type(name, data)
    assert "file" in exc.value.details


def test_upload_versions_download_logged(session, tmp_path):
    actor = practitioner(session)
    person = create_person(session, actor)
    doc = docs.add_document(session, actor, documents_dir=str(tmp_path), max_bytes=10_000, person_id=person.id,
                            case_id=None, note_id=None, title="Referral letter",
                            upload=docs.Upload("referral.pdf", PDF))
    stored = list(tmp_path.rglob("*"))
    assert any(p.is_file() and p.read_bytes() == PDF for p in stored)
    docs.add_version(session, actor, doc, documents_dir=str(tmp_path), max_bytes=10_000,
                     upload=docs.Upload("referral-v2.pdf", PDF + b"% v2\n"), expected_version=1)
    assert [v.version_no for v in doc.versions] == [1, 2] and doc.current_version == 2
    version, data = docs.open_version(session, actor, doc, documents_dir=str(tmp_path), version_no=1)
    assert data == PDF and version.filename == "referral.pdf"
    log = session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == doc.id)).all()
    assert [(a.user_id, a.version_no) for a in log] == [(actor.user_id, 1)]
    with pytest.raises(Invalid):
        docs.add_version(session, actor, doc, documents_dir=str(tmp_path), max_bytes=10,
                         upload=docs.Upload("big.pdf", PDF), expected_version=doc.version)
    outsider = practitioner(session)
    person.restricted = True
    session.flush()
    with pytest.raises(NotFound):
        docs.get_visible_document(session, outsider, doc.id)


def test_docx_is_accepted(session, tmp_path):
    actor = practitioner(session)
    person = create_person(session, actor)
    doc = docs.add_document(session, actor, documents_dir=str(tmp_path), max_bytes=100_000, person_id=person.id,
                            case_id=None, note_id=None, title="Plan", upload=docs.Upload("plan.docx", _docx()))
    assert doc.versions[0].content_type.endswith("wordprocessingml.document")


def test_upload_api_refuses_exe_renamed_pdf(client, session):
    user = create_user(session)
    h = {"X-CSRF-Token": sign_in(client, user)}
    pid = client.post("/api/people", json={"forename": "Doc", "surname": "Holder", "confirm_not_duplicate": True},
                      headers=h).json["id"]
    bad = client.post("/api/documents", data={"title": "Report", "person_id": str(pid),
                                              "document_type": "court_report",
                                              "file": (io.BytesIO(EXE), "report.pdf")}, headers=h,
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "file" in bad.json["error"]["details"]
    good = client.post("/api/documents", data={"title": "Report", "person_id": str(pid),
                                               "document_type": "court_report",
                                              "file": (io.BytesIO(PDF), "report.pdf")}, headers=h,
                       content_type="multipart/form-data")
    assert good.status_code == 201 and good.json["versions"][0]["sha256"]
    download = client.get(f"/api/documents/{good.json['id']}/content", headers=h)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    odd = client.post("/api/documents", data={"title": "Plan", "person_id": str(pid),
                                              "document_type": "care_plan",
                                              "file": (io.BytesIO(PDF), 'plan – Łódź.pdf')}, headers=h,
                      content_type="multipart/form-data")
    assert odd.status_code == 201, odd.json
    odd_download = client.get(f"/api/documents/{odd.json['id']}/content", headers=h)
    assert odd_download.status_code == 200 and "filename*=UTF-8''" in odd_download.headers["Content-Disposition"]
    listed = client.get(f"/api/people/{pid}/documents", headers=h).json["items"]
    assert [d["title"] for d in listed] == ["Plan", "Report"]


def test_attach_to_case_or_note_derives_the_person(session, tmp_path):
    from casework.records import service_case as cases
    from casework.records import service_note as notes

    actor = practitioner(session)
    person = create_person(session, actor)
    case = cases.open_case(session, actor, person, {"service_area": "adults", "open_reason": "assessment"})
    note = notes.create_note(session, actor, person, {"note_type": "meeting", "subject": "Review", "body": "Met",
                                                      "case_id": case.id})
    on_case = docs.add_document(session, actor, documents_dir=str(tmp_path), max_bytes=10_000, person_id=None,
                                case_id=case.id, note_id=None, title="Assessment", upload=docs.Upload("a.png", PNG))
    on_note = docs.add_document(session, actor, documents_dir=str(tmp_path), max_bytes=10_000, person_id=None,
                                case_id=None, note_id=note.id, title="Minutes", upload=docs.Upload("m.pdf", PDF))
    assert (on_case.person_id, on_case.case_id) == (person.id, case.id)
    assert (on_note.person_id, on_note.case_id, on_note.note_id) == (person.id, case.id, note.id)
    with pytest.raises(Invalid):
        docs.add_document(session, actor, documents_dir=str(tmp_path), max_bytes=10_000, person_id=person.id,
                          case_id=case.id, note_id=None, title="Both", upload=docs.Upload("m.pdf", PDF))
    # a stored file altered on disk is detected on download
    path = tmp_path / on_note.versions[0].storage_key
    path.write_bytes(PDF + b"tampered")
    with pytest.raises(Invalid):
        docs.open_version(session, actor, on_note, documents_dir=str(tmp_path))


def test_document_type_is_checked_against_the_code_list(session, tmp_path):
    actor = practitioner(session)
    person = create_person(session, actor)

    def add(**kw):  # type: ignore[no-untyped-def]
        return docs.add_document(session, actor, documents_dir=str(tmp_path), max_bytes=10_000,
                                 person_id=person.id, case_id=None, note_id=None, title="Scan",
                                 upload=docs.Upload("scan.pdf", PDF), **kw)

    with pytest.raises(Invalid) as unknown:
        add(document_type="selfie")
    assert "document_type" in unknown.value.details
    with pytest.raises(Invalid) as missing:
        add(require_type=True)
    assert missing.value.details == {"document_type": "Select the type of document"}
    assert list(tmp_path.rglob("*")) == []  # refused before anything was stored
    typed = add(document_type="medical_report", require_type=True)
    untyped = add()  # trusted callers (imports, older rows) may leave it empty
    assert (typed.document_type, untyped.document_type) == ("medical_report", None)
    only = docs.documents_for_person(session, actor, person, document_types=["medical_report"])
    assert [d.id for d in only] == [typed.id]
    with pytest.raises(Invalid):
        docs.documents_for_person(session, actor, person, document_types=["selfie"])
