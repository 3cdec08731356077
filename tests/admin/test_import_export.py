"""Import (single files, zips, hostile input, the MIWG corpus) and export (zip of a version or a draft)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from casework.configuration import drafts, transfer
from casework.errors import Invalid
from tests.admin.conftest import publish_via_review, soup
from tests.admin.samples import FORM, triage_bpmn, triage_files
from tests.conftest import sign_in

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bpmn-miwg"
MIWG = sorted(CORPUS.glob("*.bpmn"))


def _zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _post(client, token, name: str, data: bytes, url="/admin/import"):
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_corpus_is_present():
    assert len(MIWG) >= 20


@pytest.mark.parametrize("path", MIWG, ids=[p.name for p in MIWG])
def test_importing_miwg_file_never_crashes_and_says_why(client, session, wf, alice, path):
    token = sign_in(client, alice)
    response = _post(client, token, path.name, path.read_bytes())
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = soup(response)
    banner = page.select_one(".govuk-notification-banner__heading").text
    if "cannot run yet" in banner:
        problems = page.select_one("#problems")
        assert problems is not None and problems.select("tbody tr")
        text = problems.text
        assert "not executable" in text or "error" in text.lower()
    else:
        assert "can run" in banner
    draft = drafts.open_drafts(session)[0]
    assert list(drafts.files_of(draft)["bpmn"].values())[0] == path.read_text("utf-8-sig")


def test_import_zip_bundle_and_export_round_trip(client, session, wf, alice):
    token = sign_in(client, alice)
    files = triage_files()
    data = _zip({"bpmn/triage.bpmn": files["bpmn"]["triage.bpmn"].encode(),
                 "forms/triage.schema.json": json.dumps(FORM).encode(), "README.txt": b"hello"})
    response = _post(client, token, "triage.zip", data)
    assert response.status_code == 200
    page = soup(response)
    assert "can run" in page.select_one(".govuk-notification-banner__heading").text
    assert "README.txt: not a .bpmn" in page.text
    draft = drafts.open_draft(session, "triage")
    exported = client.get(f"/admin/drafts/{draft.id}/export")
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert sorted(names) == ["bpmn/triage.bpmn", "forms/triage.schema.json", "manifest.json"]
    again = transfer.read_upload("again.zip", exported.data)
    assert again.files == drafts.files_of(draft)


def test_export_of_published_version_reimports_identically(session, wf, client, alice, bob):
    publish_via_review(session, wf)
    sign_in(client, alice)
    data = client.get("/admin/processes/triage/versions/1/export").data
    upload = transfer.read_upload("v1.zip", data)
    from casework.configuration import bundles

    original = bundles.bundle_from_files(upload.files)
    assert original.process_key == "triage" and "triage" in original.forms


def test_upload_into_existing_draft_replaces_file(client, session, wf, alice):
    draft = drafts.create_draft(session, process_key="triage", title="t", files=triage_files(), actor="alice",
                                reason=None)
    token = sign_in(client, alice)
    new = triage_bpmn(task_name="Uploaded name").encode()
    response = client.post(f"/admin/drafts/{draft.id}/upload", data={
        "csrf_token": token, "version": draft.version, "file": (io.BytesIO(new), "triage.bpmn")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    session.expire(draft)
    assert "Uploaded name" in drafts.files_of(draft)["bpmn"]["triage.bpmn"]


@pytest.mark.parametrize("name, entries, message", [
    ("slip.zip", {"../../etc/evil.bpmn": b"<x/>"}, "unsafe path"),
    ("abs.zip", {"/etc/evil.bpmn": b"<x/>"}, "unsafe path"),
    ("win.zip", {"C:/evil.bpmn": b"<x/>"}, "unsafe path"),
    ("bomb.zip", {"big.bpmn": b"<a>" + b" " * (4 * 1024 * 1024) + b"</a>"}, "zip bomb"),
    ("empty.zip", {"notes.txt": b"nothing here"}, "contains no process"),
    ("xxe.zip", {"x.bpmn": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                           b"<d>&e;</d>"}, "DOCTYPE"),
    ("badform.zip", {"f.schema.json": b'{"type": 12}'}, "not a valid JSON Schema"),
    ("dup.zip", {"a/x.bpmn": b"<x/>", "b/x.bpmn": b"<x/>"}, "both called"),
])
def test_hostile_zips_refused_with_clear_message(name, entries, message):
    with pytest.raises(Invalid, match=message):
        transfer.read_upload(name, _zip(entries))


def test_too_many_entries_refused():
    entries = {f"f{n}.bpmn": b"<x/>" for n in range(transfer.MAX_ZIP_ENTRIES + 1)}
    with pytest.raises(Invalid, match="entries"):
        transfer.read_upload("many.zip", _zip(entries))


def test_not_a_zip_and_unknown_type():
    with pytest.raises(Invalid, match="not a readable zip"):
        transfer.read_upload("x.zip", b"PK\x03\x04garbage")
    with pytest.raises(Invalid, match="import a .bpmn"):
        transfer.read_upload("x.exe", b"MZ")
    with pytest.raises(Invalid, match="not UTF-8"):
        transfer.read_upload("x.bpmn", b"<a>\xff\xfe\xfa</a>" * 3)


def test_hostile_xml_upload_gets_clear_page_error(client, session, alice):
    token = sign_in(client, alice)
    billion = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
               b"<lolz>&lol2;</lolz>")
    response = _post(client, token, "laughs.bpmn", billion)
    assert response.status_code == 422
    assert "DOCTYPE" in soup(response).select_one(".govuk-error-summary").text
    response = _post(client, token, "broken.bpmn", b"<definitions><unclosed></definitions>")
    assert response.status_code == 422
    assert "not well-formed XML" in soup(response).select_one(".govuk-error-summary").text
