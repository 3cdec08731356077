"""A practitioner writes on the case record in a real browser: a case note saved as a draft (after fixing a
mistake), completed, then corrected (both kept on the case view), and a small document uploaded and listed.
axe-clean (WCAG 2.2 AA) and screenshotted at every step."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casework.accounts import service as accounts
from casework.auth.access import Actor
from casework.extensions import database
from casework.records import service_case as cases
from casework.records.models_document import Document
from casework.records.models_note import CaseNote
from casework.records.service_person import create_person
from tests.browser.conftest import PASSWORD, Journey, LiveServer

_seq = itertools.count(1)


def seed() -> dict:
    """A team with a practitioner and a manager, and a child with an open case allocated to the practitioner."""
    n = next(_seq)
    team, worker, manager = f"cnteam{n}", f"cnworker{n}", f"cnmanager{n}"
    with database.session_scope() as session:
        accounts.create_team(session, code=team, name=f"Case notes team {n}")
        accounts.create_user(session, username=worker, display_name=f"Pat Notes {n}", password=PASSWORD,
                             roles=["practitioner"], teams=[team])
        accounts.create_user(session, username=manager, display_name=f"Mo Notes {n}", password=PASSWORD,
                             roles=["team_manager"], teams=[team], manages=[team])
        boss = Actor.from_user(accounts.get_user(session, manager))
        person = create_person(session, boss, {"forename": "Ava", "surname": f"Noteworthy{n}",
                                               "date_of_birth": date(2015, 3, 14)}, confirm_not_duplicate=True)
        case = cases.open_case(session, boss, person, {
            "service_area": "children", "open_reason": "referral", "team_id": accounts.get_team(session, team).id,
            "worker_id": accounts.get_user(session, worker).id})
        return {"worker": worker, "person_id": person.id, "name": f"Ava Noteworthy{n}", "case": case.reference}


@pytest.mark.browser
def test_practitioner_writes_completes_and_corrects_a_note_and_uploads_a_document(
        journey: Journey, live_server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = seed()
    page = journey.page
    journey.sign_in(s["worker"])
    journey.goto(f"/people/{s['person_id']}")
    expect(page).to_have_title(f"{s['name']} – casework")
    journey.check("case view")

    # a note with a mistake: no subject
    page.get_by_role("link", name="Add a case note").click()
    expect(page).to_have_title("Add a case note – casework")
    journey.check("add a case note")
    page.get_by_label("Type of note").select_option("home_visit")
    page.get_by_label("Note", exact=True).fill("Seen at home with mum. Room was tidy.")
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_title("Error: Add a case note – casework")
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(["Enter a subject"])  # waits for the page to be parsed
    expect(page.get_by_label("Note", exact=True)).to_have_value("Seen at home with mum. Room was tidy.")
    journey.check("note error summary")
    summary.get_by_role("link", name="Enter a subject").click()
    page.get_by_label("Subject").fill("Home visit")
    page.get_by_label("This is a significant event").check()
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_title(f"{s['name']} – casework")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved as a draft")
    with database.session_scope() as session:
        note = session.scalars(select(CaseNote).where(CaseNote.person_id == s["person_id"])).one()
        note_id, status = note.id, note.status
    assert status == "draft"
    card = page.locator(f"#note-{note_id}")
    expect(card).to_contain_text("Draft")
    journey.check("draft on the case view")

    # complete the draft
    card.get_by_role("link", name="Edit or complete").click()
    expect(page).to_have_title("Edit a draft case note – casework")
    expect(page.get_by_label("Subject")).to_have_value("Home visit")
    journey.check("edit the draft")
    page.get_by_label("Subject").fill("Home visit: Ava seen alone")
    page.get_by_role("button", name="Save and complete").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("completed")
    expect(card).not_to_contain_text("Draft")
    expect(page.locator("#chronology ~ div table")).to_contain_text("Home visit: Ava seen alone")  # significant
    journey.check("completed note")

    # correct it: the original stays, the correction shows under it
    card.get_by_role("link", name="Add a correction").click()
    expect(page).to_have_title("Add a correction – casework")
    journey.check("add a correction")
    page.get_by_role("button", name="Add correction").click()
    expect(page).to_have_title("Error: Add a correction – casework")
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text(
        ["Enter the correction", "Enter the reason for the correction"])
    journey.check("correction error summary")
    page.get_by_label("Correction", exact=True).fill("Mum's partner was also present.")
    page.get_by_label("Reason for the correction").fill("Left out by mistake")
    page.get_by_role("button", name="Add correction").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The original note is kept")
    expect(card).to_contain_text("Seen at home with mum. Room was tidy.")
    expect(card.locator(".casework-correction")).to_contain_text("Mum's partner was also present.")
    expect(card.locator(".casework-correction")).to_contain_text("Reason: Left out by mistake")
    journey.check("corrected note")

    # upload a small document: first a file whose content is not what its name says, then a real text file
    page.get_by_role("link", name="Upload a document").click()
    expect(page).to_have_title("Upload a document – casework")
    journey.check("upload a document")
    fake = tmp_path / "report.pdf"
    fake.write_text("this is not a PDF")
    page.get_by_label("File").set_input_files(str(fake))
    page.get_by_label("Title").fill("School report")
    page.get_by_label("Type of document").select_option("letter")
    page.get_by_role("button", name="Upload document").click()
    expect(page).to_have_title("Error: Upload a document – casework")
    expect(page.locator(".govuk-error-summary a")).to_have_attribute("href", "#file")
    expect(page.get_by_label("Title")).to_have_value("School report")
    journey.check("upload refused")
    real = tmp_path / "school-report.txt"
    real.write_text("Attendance 92%. Settled in class.\n")
    page.get_by_label("File").set_input_files(str(real))
    page.get_by_role("button", name="Upload document").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Document ‘School report’ uploaded")
    row = page.locator("#documents ~ div table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("School report")
    expect(row).to_contain_text("Pat Notes")
    journey.check("document listed")
    with page.expect_download() as download:
        row.locator("a[download]").click()
    assert download.value.suggested_filename == "school-report.txt"
    with database.session_scope() as session:
        docs = session.scalars(select(Document).where(Document.person_id == s["person_id"])).all()
        note = session.get(CaseNote, note_id)
        assert (note.status, note.body, [c.reason for c in note.corrections]) == (
            "complete", "Seen at home with mum. Room was tidy.", ["Left out by mistake"])
    assert [d.title for d in docs] == ["School report"]
