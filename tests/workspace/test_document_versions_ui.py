"""Uploading a new version of a document from the workspace: the document page lists every version (who, when,
download), the new-version page applies the upload's file checks as GOV.UK errors, earlier versions are kept and
every download is audited."""

from __future__ import annotations

import io

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from casework.audit import AuditEvent
from casework.records import service_document as docs
from casework.records.models_document import Document, DocumentAccess
from tests.conftest import sign_in
from tests.workspace.test_case_record_ui import PDF, page, summary_links, upload
from tests.workspace.test_case_record_ui import world as world  # noqa: F401  (the fixture)

PDF_V2 = PDF + b"% second version\n"


def new_version(client, document_id: int, token: str, *, name: str = "letter-v2.pdf", data: bytes = PDF_V2,  # type: ignore[no-untyped-def]
                version: str | None = "1"):
    form = {"file": (io.BytesIO(data), name), "csrf_token": token}
    if version is not None:
        form["version"] = version
    return client.post(f"/documents/{document_id}/versions", content_type="multipart/form-data", data=form)


def link_starting(soup, text: str):  # type: ignore[no-untyped-def]
    """The first link whose text (visually hidden parts included) starts with text, or None."""
    return next((a for a in soup.select("a") if a.get_text(" ", strip=True).startswith(text)), None)


@pytest.fixture
def uploaded(client, session, world):  # type: ignore[no-untyped-def]  # noqa: F811
    token = sign_in(client, world["worker"])
    assert upload(client, world["person"].id, token, case_id=str(world["case"].id)).status_code == 302
    doc = session.scalars(select(Document).where(Document.person_id == world["person"].id)).one()
    return doc, token


def test_new_version_from_the_document_row_keeps_the_old_one(client, session, world, uploaded):  # noqa: F811
    doc, token = uploaded
    person = world["person"]
    row = page(client.get(f"/people/{person.id}")).select_one("#documents ~ div table tbody tr")
    link = link_starting(row, "Upload a new version")
    assert link["href"] == f"/documents/{doc.id}/versions/new"
    form_page = client.get(link["href"])
    assert form_page.status_code == 200
    soup = page(form_page)
    assert soup.title.get_text(strip=True) == "Upload a new version – casework"
    assert soup.select_one('input[name="version"]')["value"] == "1"
    assert "becomes version 2" in soup.get_text(" ", strip=True)

    token = sign_in(client, world["colleague"])  # a colleague in the team uploads the new version
    response = new_version(client, doc.id, token)
    assert response.status_code == 302 and response.headers["Location"] == f"/documents/{doc.id}"
    session.refresh(doc)
    assert doc.current_version == 2 and [v.version_no for v in doc.versions] == [1, 2]
    assert [v.filename for v in doc.versions] == ["letter.pdf", "letter-v2.pdf"]

    view = page(client.get(response.headers["Location"]))
    assert "Version 2 of ‘Letter from school’ uploaded" in view.select_one(".govuk-notification-banner").get_text()
    assert link_starting(view, "Upload a new version")["href"] == f"/documents/{doc.id}/versions/new"
    rows = view.select("#versions ~ div table tbody tr")
    cells = [[td.get_text(" ", strip=True) for td in r.select("td")] for r in rows]
    assert [c[0] for c in cells] == ["2 Current", "1"]
    assert cells[0][1].startswith("letter-v2.pdf") and cells[1][1].startswith("letter.pdf")
    assert (cells[0][2], cells[1][2]) == ("Sam Colleague", "Pat Practitioner")
    assert all(c[3] for c in cells)  # when
    links = [r.select_one("a")["href"] for r in rows]
    assert links == [f"/documents/{doc.id}/download?version=2", f"/documents/{doc.id}/download?version=1"]
    summary = view.select_one(".govuk-summary-list").get_text(" ", strip=True)
    assert "Letter" in summary and world["case"].reference in summary

    # both versions download, each download logged in document_access and the audit trail
    first = client.get(links[1])
    assert first.status_code == 200 and first.data == PDF
    latest = client.get(links[0])
    assert latest.data == PDF_V2 and "letter-v2.pdf" in latest.headers["Content-Disposition"]
    assert client.get(f"/documents/{doc.id}/download").data == PDF_V2  # the row's link: current version
    accesses = session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == doc.id)
                               .order_by(DocumentAccess.id)).all()
    assert [(a.user_id, a.version_no) for a in accesses] == [(world["colleague"].id, 1), (world["colleague"].id, 2),
                                                             (world["colleague"].id, 2)]
    views = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "document",
                                                     AuditEvent.record_id == str(doc.id),
                                                     AuditEvent.action == "view")).all()
    assert len(views) == 3
    update = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "document",
                                                      AuditEvent.record_id == str(doc.id),
                                                      AuditEvent.action == "update")).all()
    assert len(update) == 1
    # the case view's row now says version 2
    row = page(client.get(f"/people/{person.id}")).select_one("#documents ~ div table tbody tr")
    assert row.select("td")[4].get_text(strip=True) == "2"


def test_new_version_file_checks_are_gov_uk_errors(client, session, world, uploaded, app):  # noqa: F811
    doc, token = uploaded
    response = new_version(client, doc.id, token, name="virus.pdf", data=b"MZ\x90\x00" + b"\x00" * 200)
    assert response.status_code == 422
    assert page(response).title.get_text(strip=True) == "Error: Upload a new version – casework"
    assert [href for _t, href in summary_links(response)] == ["#file"]
    response = new_version(client, doc.id, token, name="scan.png", data=PDF)
    assert response.status_code == 422 and "named .png" in summary_links(response)[0][0]
    response = new_version(client, doc.id, token, data=b"")
    assert response.status_code == 422 and summary_links(response)[0][1] == "#file"
    response = client.post(f"/documents/{doc.id}/versions", content_type="multipart/form-data",
                           data={"version": "1", "csrf_token": token})
    assert response.status_code == 422 and summary_links(response) == [("Select a file to upload", "#file")]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = new_version(client, doc.id, token, data=PDF + b"0" * 5000)
    assert response.status_code == 413
    assert [href for _t, href in summary_links(response)] == ["#file"]
    assert page(response).title.get_text(strip=True) == "Error: Upload a new version – casework"
    session.refresh(doc)
    assert doc.current_version == 1 and len(doc.versions) == 1


def test_a_stale_page_is_refused_and_shows_the_current_version(client, session, world, uploaded):  # noqa: F811
    doc, token = uploaded
    assert new_version(client, doc.id, token, version="1").status_code == 302
    stale = new_version(client, doc.id, token, version="1", name="other.pdf")
    assert stale.status_code == 409
    assert "after you opened this page" in summary_links(stale)[0][0]
    assert page(stale).select_one('input[name="version"]')["value"] == "2"
    missing = new_version(client, doc.id, token, version=None, name="other.pdf")
    assert missing.status_code == 409
    session.refresh(doc)
    assert doc.current_version == 2 and [v.filename for v in doc.versions] == ["letter.pdf", "letter-v2.pdf"]


def test_who_may_see_and_who_may_upload(client, session, world, uploaded):  # noqa: F811
    doc, _token = uploaded
    token = sign_in(client, world["reader"])  # may read the record, not change it
    view = client.get(f"/documents/{doc.id}")
    assert view.status_code == 200
    assert link_starting(page(view), "Upload a new version") is None
    assert len(page(view).select("#versions ~ div table tbody tr a")) == 1  # may still download
    row = page(client.get(f"/people/{world['person'].id}")).select_one("#documents ~ div table tbody tr")
    assert link_starting(row, "Upload a new version") is None
    assert client.get(f"/documents/{doc.id}/versions/new").status_code == 403
    assert new_version(client, doc.id, token).status_code == 403
    token = sign_in(client, world["outsider"])  # another team: the case's document does not exist for them
    assert client.get(f"/documents/{doc.id}").status_code == 404
    assert client.get(f"/documents/{doc.id}/versions/new").status_code == 404
    assert new_version(client, doc.id, token).status_code == 404
    assert client.get("/documents/999999").status_code == 404
    session.refresh(doc)
    assert doc.current_version == 1


def test_document_page_of_an_untyped_older_document(client, session, world, settings):  # noqa: F811
    sign_in(client, world["worker"])
    doc = docs.add_document(session, world["actor"], documents_dir=settings.documents_dir, max_bytes=10_000,
                            person_id=world["person"].id, case_id=None, note_id=None, title="Old scan",
                            upload=docs.Upload("old.pdf", PDF))
    session.flush()
    summary = page(client.get(f"/documents/{doc.id}")).select_one(".govuk-summary-list").get_text(" ", strip=True)
    assert "Not recorded" in summary and "Not about a particular case" in summary


def test_page_parses(client, world, uploaded):  # noqa: F811
    doc, _token = uploaded
    html = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert BeautifulSoup(html, "html.parser").select_one("h1").get_text(strip=True) == "Letter from school"
