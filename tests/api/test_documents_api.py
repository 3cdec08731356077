"""Document types through the API: required and checked on upload, returned with their label, filter the list,
and documented in the OpenAPI document."""

from __future__ import annotations

import io

from casework.records import codes
from casework.records import service_document as docs
from tests.conftest import sign_in
from tests.factories import create_user
from tests.records.factories import actor_for

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _person(client, h) -> int:  # type: ignore[no-untyped-def]
    return client.post("/api/people", json={"forename": "Typed", "surname": "Documents",
                                            "confirm_not_duplicate": True}, headers=h).json["id"]


def _post(client, h, pid, **form):  # type: ignore[no-untyped-def]
    data = {"title": "Report", "person_id": str(pid), "file": (io.BytesIO(PDF), "report.pdf"), **form}
    return client.post("/api/documents", data=data, headers=h, content_type="multipart/form-data")


def test_upload_requires_a_known_document_type(client, session):
    h = {"X-CSRF-Token": sign_in(client, create_user(session))}
    pid = _person(client, h)
    missing = _post(client, h, pid)
    assert missing.status_code == 422
    assert missing.json["error"]["details"] == {"document_type": "Select the type of document."}
    blank = _post(client, h, pid, document_type="")
    assert blank.status_code == 422 and "document_type" in blank.json["error"]["details"]
    unknown = _post(client, h, pid, document_type="selfie")
    assert unknown.status_code == 422
    message = unknown.json["error"]["details"]["document_type"]
    assert message.startswith("Unknown document type") and "court_report" in message
    assert client.get(f"/api/people/{pid}/documents", headers=h).json["items"] == []  # nothing stored
    good = _post(client, h, pid, document_type="court_report")
    assert good.status_code == 201, good.json
    assert (good.json["document_type"], good.json["document_type_label"]) == ("court_report", "Court report")
    fetched = client.get(f"/api/documents/{good.json['id']}", headers=h).json
    assert fetched["document_type"] == "court_report"


def test_unknown_form_fields_and_bad_ids_are_still_refused(client, session):
    h = {"X-CSRF-Token": sign_in(client, create_user(session))}
    pid = _person(client, h)
    extra = _post(client, h, pid, document_type="letter", colour="blue")
    assert extra.status_code == 422 and extra.json["error"]["details"] == {"colour": "Unknown field."}
    bad_id = _post(client, h, "x", document_type="letter")
    assert bad_id.status_code == 422 and "person_id" in bad_id.json["error"]["details"]


def test_person_documents_filtered_by_type(client, session):
    h = {"X-CSRF-Token": sign_in(client, create_user(session))}
    pid = _person(client, h)
    for title, kind in (("Consent", "consent_form"), ("Letter one", "letter"), ("Letter two", "letter"),
                        ("Plan", "care_plan")):
        assert _post(client, h, pid, title=title, document_type=kind).status_code == 201
    url = f"/api/people/{pid}/documents"
    assert [d["title"] for d in client.get(url, headers=h).json["items"]] == ["Plan", "Letter two", "Letter one",
                                                                               "Consent"]
    letters = client.get(f"{url}?document_type=letter", headers=h).json["items"]
    assert [d["title"] for d in letters] == ["Letter two", "Letter one"]
    both = client.get(f"{url}?document_type=letter&document_type=care_plan", headers=h).json["items"]
    assert [d["title"] for d in both] == ["Plan", "Letter two", "Letter one"]
    comma = client.get(f"{url}?document_type=consent_form,care_plan", headers=h).json["items"]
    assert [d["title"] for d in comma] == ["Plan", "Consent"]
    assert client.get(f"{url}?document_type=photo", headers=h).json["items"] == []
    bad = client.get(f"{url}?document_type=selfie", headers=h)
    assert bad.status_code == 422 and "document_type" in bad.json["error"]["details"]


def test_documents_without_a_type_are_listed_with_null(client, session, app):
    """Rows from before the column existed have no type: listed with null, left out of a type filter."""
    user = create_user(session)
    h = {"X-CSRF-Token": sign_in(client, user)}
    pid = _person(client, h)
    docs.add_document(session, actor_for(user), documents_dir=app.config["SETTINGS"].documents_dir,
                      max_bytes=10_000, person_id=pid, case_id=None, note_id=None, title="Old scan",
                      upload=docs.Upload("old.pdf", PDF))
    session.flush()
    items = client.get(f"/api/people/{pid}/documents", headers=h).json["items"]
    assert [(d["title"], d["document_type"], d["document_type_label"]) for d in items] == [("Old scan", None, None)]
    assert client.get(f"/api/people/{pid}/documents?document_type=other", headers=h).json["items"] == []


def test_openapi_documents_the_type(client):
    spec = client.get("/api/openapi.json").json
    upload = spec["paths"]["/api/documents"]["post"]
    assert "document_type" in upload["summary"]
    listing = spec["paths"]["/api/people/{person_id}/documents"]["get"]
    assert "document_type" in [p["name"] for p in listing["parameters"] if p["in"] == "query"]
    schemas = spec["components"]["schemas"]
    document = next(s for name, s in schemas.items() if name.startswith("Document") and "title" in s["properties"])
    assert set(document["properties"]["document_type"]["enum"]) >= set(codes.DOCUMENT_TYPES)
