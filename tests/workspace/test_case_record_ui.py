"""Writing to the case record from the workspace: case notes (draft, complete, corrections), documents
(upload with the service's checks, audited download) and chronology (entry by hand, CSV / PDF export)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from casework.audit import AuditEvent
from casework.records import service_case as cases
from casework.records import service_note as notes
from casework.records import service_relationship as rels
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_document import Document, DocumentAccess
from casework.records.models_note import CaseNote
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def summary_links(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(a.get_text(strip=True), a["href"]) for a in page(response).select(".govuk-error-summary a")]


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    team = create_team(session, code="cin-east")
    other_team = create_team(session, code="adults-north")
    worker = create_user(session, username="pat", display_name="Pat Practitioner", roles=["practitioner"],
                         teams=[team])
    colleague = create_user(session, username="sam", display_name="Sam Colleague", roles=["practitioner"],
                            teams=[team])
    outsider = create_user(session, username="olu", roles=["practitioner"], teams=[other_team])
    reader = create_user(session, username="fin", roles=["finance_officer"], teams=[team])
    manager = actor_for(create_user(session, roles=["team_manager"], manages=[team], teams=[team]))
    actor = actor_for(worker)
    person = create_person(session, actor, forename="Ava", surname="Okafor", date_of_birth=date(2015, 3, 14))
    sister = create_person(session, actor, forename="Bea", surname="Okafor", date_of_birth=date(2017, 5, 2))
    rels.add_relationship(session, actor, person, {"related_person_id": sister.id, "rel_type": "sibling"})
    case = cases.open_case(session, manager, person, {"service_area": "children", "open_reason": "referral",
                                                      "team_id": team.id, "worker_id": worker.id})
    session.flush()
    return {"worker": worker, "colleague": colleague, "outsider": outsider, "reader": reader, "person": person,
            "sister": sister, "case": case, "actor": actor}


def note_form(**overrides: str | list[str]) -> dict:
    form = {"note_type": "home_visit", "subject": "Home visit", "body": "Seen at home with mum.",
            "occurred_at-day": "2", "occurred_at-month": "3", "occurred_at-year": "2026", "occurred_time": "14:30",
            "action": "draft"}
    form.update(overrides)
    return form


def test_add_note_page_and_draft_then_complete(client, session, world):
    token = sign_in(client, world["worker"])
    person, case = world["person"], world["case"]
    view = page(client.get(f"/people/{person.id}"))
    add = view.find("a", string="Add a case note")
    assert add is not None and add["href"] == f"/people/{person.id}/notes/new"
    response = client.get(f"/people/{person.id}/notes/new")
    assert response.status_code == 200
    doc = page(response)
    assert doc.title.get_text(strip=True) == "Add a case note – casework"
    assert doc.select_one(f"#case_id option[value='{case.id}']").has_attr("selected")  # the one open case
    assert [i["value"] for i in doc.select("input[name=linked_person_ids]")] == [str(world["sister"].id)]

    response = client.post(f"/people/{person.id}/notes", data={
        **note_form(significant="yes", case_id=str(case.id), linked_person_ids=[str(world["sister"].id)]),
        "csrf_token": token})
    assert response.status_code == 302
    note = session.scalars(select(CaseNote).where(CaseNote.person_id == person.id)).one()
    assert response.headers["Location"] == f"/people/{person.id}#note-{note.id}"
    assert (note.status, note.subject, note.case_id, note.significant) == ("draft", "Home visit", case.id, True)
    assert note.occurred_at.hour == 14 and note.occurred_at.minute == 30  # 14:30 GMT in March
    assert [link.person_id for link in note.linked] == [world["sister"].id]

    card = page(client.get(f"/people/{person.id}")).select_one(f"#note-{note.id}")
    assert "Draft" in card.get_text() and "Pat Practitioner" in card.get_text()
    assert card.find("a", href=f"/notes/{note.id}/edit") is not None

    edit = page(client.get(f"/notes/{note.id}/edit"))
    assert edit.select_one("#subject")["value"] == "Home visit"
    assert edit.select_one("input[name=version]")["value"] == str(note.version)
    response = client.post(f"/notes/{note.id}/edit", data={
        **note_form(subject="Home visit (seen alone)", significant="yes", case_id=str(case.id), action="complete"),
        "version": str(note.version), "csrf_token": token})
    assert response.status_code == 302
    session.refresh(note)
    assert (note.status, note.subject, note.completed_by) == ("complete", "Home visit (seen alone)",
                                                              world["worker"].id)
    assert note.linked == []  # unticked on the edit
    entry = session.scalars(select(ChronologyEntry).where(ChronologyEntry.source_ref == f"note:{note.id}")).one()
    assert entry.kind == "significant_event" and entry.person_id == person.id
    # a completed note is never edited again: the edit page sends to the correction form
    assert client.get(f"/notes/{note.id}/edit").headers["Location"] == f"/notes/{note.id}/corrections/new"


def test_note_errors_keep_what_was_typed(client, session, world):
    token = sign_in(client, world["worker"])
    person = world["person"]
    response = client.post(f"/people/{person.id}/notes", data={
        **note_form(note_type="", subject="", body="Typed words stay", **{"occurred_at-day": "31",
                                                                          "occurred_at-month": "2"}),
        "csrf_token": token})
    assert response.status_code == 422
    doc = page(response)
    assert doc.title.get_text(strip=True) == "Error: Add a case note – casework"
    assert summary_links(response) == [("Select the type of note", "#note_type"), ("Enter a subject", "#subject"),
                                       ("The date it happened must be a real date", "#occurred_at-day")]
    assert doc.select_one("#body").get_text() == "Typed words stay"
    assert doc.select_one("#occurred_at-day")["value"] == "31"
    # completing needs a body; the future is refused by the service and shown on the field
    response = client.post(f"/people/{person.id}/notes", data={**note_form(body="", action="complete"),
                                                               "csrf_token": token})
    assert response.status_code == 422
    assert summary_links(response) == [("Write the note before completing it", "#body")]
    response = client.post(f"/people/{person.id}/notes", data={**note_form(**{"occurred_at-year": "2999"}),
                                                               "csrf_token": token})
    assert response.status_code == 422
    assert summary_links(response) == [("Cannot be in the future", "#occurred_at-day")]
    assert page(response).select_one("#subject")["value"] == "Home visit"
    assert session.scalars(select(CaseNote).where(CaseNote.person_id == person.id)).all() == []


def test_correction_is_appended_and_shown_under_the_original(client, session, world):
    token = sign_in(client, world["worker"])
    person = world["person"]
    note = notes.create_note(session, world["actor"], person, {
        "note_type": "phone_call", "subject": "Call with school", "body": "Attendance at 80%.",
        "case_id": world["case"].id}, complete=True)
    session.flush()
    response = client.get(f"/notes/{note.id}/corrections/new")
    assert response.status_code == 200
    doc = page(response)
    assert doc.title.get_text(strip=True) == "Add a correction – casework"
    assert "Attendance at 80%." in doc.select_one(".govuk-summary-list").get_text()

    response = client.post(f"/notes/{note.id}/corrections", data={"body": "", "reason": "", "csrf_token": token})
    assert response.status_code == 422
    assert summary_links(response) == [("Enter the correction", "#body"),
                                       ("Enter the reason for the correction", "#reason")]

    response = client.post(f"/notes/{note.id}/corrections", data={
        "body": "Attendance was 70%, not 80%.", "reason": "Wrong figure recorded", "csrf_token": token})
    assert response.status_code == 302
    session.refresh(note)
    assert note.body == "Attendance at 80%." and [c.body for c in note.corrections] == ["Attendance was 70%, not 80%."]
    card = page(client.get(f"/people/{person.id}")).select_one(f"#note-{note.id}")
    text = card.get_text(" ", strip=True)
    assert "Attendance at 80%." in text and "Attendance was 70%, not 80%." in text  # both kept
    assert "Correction by Pat Practitioner" in text and "Reason: Wrong figure recorded" in text
    assert card.find("a", href=f"/notes/{note.id}/corrections/new") is not None
    assert card.find("a", href=f"/notes/{note.id}/edit") is None
    # a colleague in the team corrects too; a draft is not corrected (it is edited)
    draft = notes.create_note(session, world["actor"], person, {"note_type": "case_note", "subject": "Draft",
                                                                 "body": "x"})
    session.flush()
    assert client.get(f"/notes/{draft.id}/corrections/new").headers["Location"] == f"/notes/{draft.id}/edit"


def test_note_permissions(client, session, world):
    person = world["person"]
    own = notes.create_note(session, world["actor"], person, {"note_type": "case_note", "subject": "Team note",
                                                               "body": "On the case", "case_id": world["case"].id},
                            complete=True)
    draft = notes.create_note(session, world["actor"], person, {"note_type": "case_note", "subject": "Pat's draft",
                                                                 "body": "x"})
    session.flush()
    # another team's worker: the case's notes do not exist for them
    token = sign_in(client, world["outsider"])
    assert client.get(f"/notes/{own.id}/corrections/new").status_code == 404
    assert client.post(f"/notes/{own.id}/corrections", data={"body": "x", "reason": "y",
                                                             "csrf_token": token}).status_code == 404
    assert client.get(f"/notes/{draft.id}/edit").status_code == 404
    # a colleague may not open someone else's draft
    token = sign_in(client, world["colleague"])
    assert client.get(f"/notes/{draft.id}/edit").status_code == 404
    assert client.post(f"/notes/{draft.id}/edit", data={**note_form(), "version": "1",
                                                        "csrf_token": token}).status_code == 404
    # a read-only role sees the case view without write links and is refused every write
    token = sign_in(client, world["reader"])
    view = page(client.get(f"/people/{person.id}"))
    assert view.find("a", string="Add a case note") is None
    assert view.find("a", href=f"/notes/{own.id}/corrections/new") is None
    assert client.get(f"/people/{person.id}/notes/new").status_code == 403
    assert client.post(f"/people/{person.id}/notes", data={**note_form(), "csrf_token": token}).status_code == 403
    assert client.post(f"/notes/{own.id}/corrections", data={"body": "x", "reason": "y",
                                                             "csrf_token": token}).status_code == 403
    assert client.post(f"/people/{person.id}/documents", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/people/{person.id}/chronology", data={"csrf_token": token}).status_code == 403
    # without the CSRF token nothing is written
    sign_in(client, world["worker"])
    assert client.post(f"/people/{person.id}/notes", data=note_form()).status_code == 400
    assert len(own.corrections) == 0


def test_restricted_person_is_404_for_note_pages(client, session, world):
    from casework.records import service_person as people

    person = world["person"]
    people.set_restriction(session, world["actor"], person, restricted=True, users=[], teams=[])
    session.flush()
    assert person.restricted
    token = sign_in(client, world["outsider"])
    assert client.get(f"/people/{person.id}/notes/new").status_code == 404
    assert client.post(f"/people/{person.id}/notes", data={**note_form(), "csrf_token": token}).status_code == 404
    assert client.get(f"/people/{person.id}/documents/new").status_code == 404
    assert client.get(f"/people/{person.id}/chronology.csv").status_code == 404


def upload(client, person_id: int, token: str, *, name: str = "letter.pdf", data: bytes = PDF,  # type: ignore[no-untyped-def]
           title: str = "Letter from school", case_id: str = "", document_type: str = "letter"):
    return client.post(f"/people/{person_id}/documents", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), name), "title": title, "case_id": case_id, "document_type": document_type,
        "csrf_token": token})


def test_upload_list_and_download_a_document(client, session, world, settings):
    token = sign_in(client, world["worker"])
    person = world["person"]
    response = client.get(f"/people/{person.id}/documents/new")
    assert response.status_code == 200
    assert page(response).title.get_text(strip=True) == "Upload a document – casework"
    response = upload(client, person.id, token, case_id=str(world["case"].id))
    assert response.status_code == 302 and response.headers["Location"] == f"/people/{person.id}#documents"
    doc = session.scalars(select(Document).where(Document.person_id == person.id)).one()
    assert doc.case_id == world["case"].id and doc.title == "Letter from school"
    assert doc.document_type == "letter"

    rows = page(client.get(f"/people/{person.id}")).select("#documents ~ div table tbody tr")
    assert len(rows) == 1
    cells = [td.get_text(" ", strip=True) for td in rows[0].select("td")]
    assert cells[0].startswith("Letter from school") and cells[1] == "Letter" and cells[2].startswith("PDF")
    assert "Pat Practitioner" in cells[3] and cells[4] == "1"
    assert [a["href"] for a in rows[0].select("td")[5].select("a")] == [
        f"/documents/{doc.id}", f"/documents/{doc.id}/versions/new"]
    link = rows[0].select_one("a")["href"]
    assert link == f"/documents/{doc.id}/download"

    response = client.get(link)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    accesses = session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == doc.id)).all()
    assert [(a.user_id, a.action) for a in accesses] == [(world["worker"].id, "download")]
    assert session.scalars(select(AuditEvent).where(AuditEvent.record_type == "document",
                                                    AuditEvent.record_id == str(doc.id),
                                                    AuditEvent.action == "view")).first() is not None
    # another team's worker cannot download the case's document; a read-only role can, but not upload
    sign_in(client, world["outsider"])
    assert client.get(link).status_code == 404
    assert "Letter from school" not in page(client.get(f"/people/{person.id}")).get_text()
    sign_in(client, world["reader"])
    assert client.get(link).status_code == 200
    assert page(client.get(f"/people/{person.id}")).find("a", string="Upload a document") is None
    assert page(client.get(f"/people/{person.id}")).select_one(f'a[href="/people/{person.id}/cases/new"]') is None
    assert client.get(f"/people/{person.id}/documents/new").status_code == 403


def test_upload_refusals_are_gov_uk_errors(client, session, world, app):
    token = sign_in(client, world["worker"])
    person = world["person"]
    response = upload(client, person.id, token, name="virus.pdf", data=b"MZ\x90\x00" + b"\x00" * 200)
    assert response.status_code == 422
    assert page(response).title.get_text(strip=True) == "Error: Upload a document – casework"
    assert [href for _text, href in summary_links(response)] == ["#file"]
    assert page(response).select_one("#title")["value"] == "Letter from school"  # typed title kept
    response = upload(client, person.id, token, name="notes.pdf", data=b"just some text")
    assert response.status_code == 422 and summary_links(response)[0][1] == "#file"
    response = upload(client, person.id, token, name="scan.png", data=PDF)  # a PDF named .png
    assert response.status_code == 422
    assert "named .png" in summary_links(response)[0][0]
    response = upload(client, person.id, token, title="", data=b"")
    assert response.status_code == 422
    assert summary_links(response) == [("Enter a title", "#title")]
    response = client.post(f"/people/{person.id}/documents", content_type="multipart/form-data",
                           data={"title": "No file", "document_type": "letter", "csrf_token": token})
    assert response.status_code == 422 and summary_links(response) == [("Select a file to upload", "#file")]
    response = client.post(f"/people/{person.id}/documents", content_type="multipart/form-data",
                           data={"csrf_token": token})
    assert summary_links(response) == [("Select a file to upload", "#file"), ("Enter a title", "#title"),
                                       ("Select the type of document", "#document_type")]  # in page order
    # over the request size limit: refused before the form is read, still shown on the form
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(client, person.id, token, data=PDF + b"0" * 5000)
    assert response.status_code == 413
    assert [href for _t, href in summary_links(response)] == ["#file"]
    assert session.scalars(select(Document).where(Document.person_id == person.id)).all() == []


def test_upload_requires_a_document_type_from_the_list(client, session, world):
    token = sign_in(client, world["worker"])
    person = world["person"]
    form = page(client.get(f"/people/{person.id}/documents/new"))
    options = [(o["value"], o.get_text(strip=True)) for o in form.select("select#document_type option")]
    assert options[0] == ("", "Choose a type") and ("court_report", "Court report") in options
    assert form.find("label", attrs={"for": "document_type"}).get_text(strip=True) == "Type of document"
    response = upload(client, person.id, token, document_type="")
    assert response.status_code == 422
    assert page(response).title.get_text(strip=True) == "Error: Upload a document – casework"
    assert summary_links(response) == [("Select the type of document", "#document_type")]
    assert page(response).select_one("#document_type-error") is not None
    assert page(response).select_one("#title")["value"] == "Letter from school"  # typed title kept
    response = upload(client, person.id, token, document_type="selfie")
    assert response.status_code == 422
    assert summary_links(response) == [("Select a type of document from the list", "#document_type")]
    assert session.scalars(select(Document).where(Document.person_id == person.id)).all() == []
    # a refused file keeps the chosen type selected
    response = upload(client, person.id, token, document_type="court_report", name="scan.png")
    assert response.status_code == 422
    assert page(response).select_one("#document_type option[selected]")["value"] == "court_report"
    assert upload(client, person.id, token, document_type="court_report").status_code == 302
    doc = session.scalars(select(Document).where(Document.person_id == person.id)).one()
    assert doc.document_type == "court_report"


def test_documents_table_shows_type_and_not_recorded_for_older_rows(client, session, world, settings):
    from casework.records import service_document as docs

    token = sign_in(client, world["worker"])
    person = world["person"]
    docs.add_document(session, world["actor"], documents_dir=settings.documents_dir, max_bytes=10_000,
                      person_id=person.id, case_id=None, note_id=None, title="Old scan",
                      upload=docs.Upload("old.pdf", PDF))  # as rows from before document types existed
    session.flush()
    assert upload(client, person.id, token, title="Consent", document_type="consent_form").status_code == 302
    rows = page(client.get(f"/people/{person.id}")).select("#documents ~ div table tbody tr")
    types = {r.select("td")[0].get_text(" ", strip=True).split(" (")[0]: r.select("td")[1].get_text(strip=True)
             for r in rows}
    assert types == {"Consent": "Consent form", "Old scan": "Not recorded"}


def test_add_chronology_entry_and_export(client, session, world):
    token = sign_in(client, world["worker"])
    person = world["person"]
    view = page(client.get(f"/people/{person.id}"))
    assert view.find("a", href=f"/people/{person.id}/chronology/new") is not None
    assert view.find("a", href=f"/people/{person.id}/chronology.csv") is not None
    assert view.find("a", href=f"/people/{person.id}/chronology.pdf") is not None
    response = client.get(f"/people/{person.id}/chronology/new")
    assert response.status_code == 200
    assert page(response).title.get_text(strip=True) == "Add a chronology entry – casework"

    response = client.post(f"/people/{person.id}/chronology", data={
        "kind": "workflow", "title": "", "occurred_at-day": "", "occurred_at-month": "", "occurred_at-year": "",
        "csrf_token": token})
    assert response.status_code == 422
    assert summary_links(response) == [("Select the type of entry", "#kind"), ("Enter what happened", "#title"),
                                       ("Enter the date it happened", "#occurred_at-day")]
    response = client.post(f"/people/{person.id}/chronology", data={
        "kind": "strategy_discussion", "title": "=Strategy discussion with police", "detail": "Agreed s47.",
        "occurred_at-day": "1", "occurred_at-month": "3", "occurred_at-year": "2026", "occurred_time": "10:00",
        "case_id": str(world["case"].id), "csrf_token": token})
    assert response.status_code == 302
    entry = session.scalars(select(ChronologyEntry).where(ChronologyEntry.person_id == person.id,
                                                          ChronologyEntry.source == "manual")).one()
    assert (entry.kind, entry.case_id, entry.created_by) == ("strategy_discussion", world["case"].id,
                                                            world["worker"].id)
    assert "=Strategy discussion with police" in page(client.get(f"/people/{person.id}")).select_one("table").get_text()

    response = client.get(f"/people/{person.id}/chronology.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].startswith("occurred_at,kind") and "'=Strategy discussion with police" in text
    response = client.get(f"/people/{person.id}/chronology.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    exports = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "chronology",
                                                       AuditEvent.action == "export")).all()
    assert len(exports) == 2
    # the outsider's export leaves out the case's entry (not visible to another team)
    sign_in(client, world["outsider"])
    assert "Strategy discussion" not in client.get(f"/people/{person.id}/chronology.csv").get_data(as_text=True)


def test_stale_draft_edit_keeps_the_typed_note(client, session, world):
    token = sign_in(client, world["worker"])
    draft = notes.create_note(session, world["actor"], world["person"], {"note_type": "case_note",
                                                                          "subject": "First", "body": "x"})
    session.flush()
    stale = str(draft.version - 1)
    response = client.post(f"/notes/{draft.id}/edit", data={**note_form(subject="Typed in the old window"),
                                                            "version": stale, "csrf_token": token})
    assert response.status_code == 409
    doc = page(response)
    assert summary_links(response)[0][1] == "#subject"
    assert doc.select_one("#subject")["value"] == "Typed in the old window"
    assert doc.select_one("input[name=version]")["value"] == str(draft.version)
    session.refresh(draft)
    assert draft.subject == "First"
    response = client.post(f"/notes/{draft.id}/edit", data={**note_form(subject="Typed in the old window"),
                                                            "version": str(draft.version), "csrf_token": token})
    assert response.status_code == 302
    session.refresh(draft)
    assert draft.subject == "Typed in the old window" and draft.status == "draft"
