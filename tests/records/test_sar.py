"""Subject access request export: a zip with index.json / index.html, documents, the access log, and
third-party data marked for redaction review; information governance only; the export is audited."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from casework.audit import AuditEvent
from casework.auth.access import Actor
from casework.records import service_document as docs
from casework.records import service_note as notes
from casework.records.service_person import set_restriction
from casework.records.service_relationship import add_relationship
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import create_person


def test_sar_export_for_ig_officer(app, client, session):
    team = create_team(session)
    worker = Actor.from_user(create_user(session, roles=["practitioner"], teams=[team]))
    child = create_person(session, worker, forename="Sara", surname="Subject")
    sibling = create_person(session, worker, forename="Tom", surname="Thirdparty")
    add_relationship(session, worker, child, {"related_person_id": sibling.id, "rel_type": "sibling"})
    own = notes.create_note(session, worker, child, {"note_type": "home_visit", "subject": "Visit",
                                                     "body": "Sara was well", "significant": True},
                             complete=True)
    shared = notes.create_note(session, worker, child, {"note_type": "home_visit", "subject": "Both",
                                                        "body": "Sara and Tom", "linked_person_ids": [sibling.id]},
                               complete=True)
    about_sibling = notes.create_note(session, worker, sibling, {"note_type": "home_visit", "subject": "Tom",
                                                                 "body": "Mentions Sara",
                                                                 "linked_person_ids": [child.id]}, complete=True)
    doc = docs.add_document(session, worker, documents_dir=app.config["SETTINGS"].documents_dir, max_bytes=10_000,
                            person_id=child.id, case_id=None, note_id=None, title="Plan",
                            upload=docs.Upload(filename="plan.txt", data=b"the plan"))
    set_restriction(session, worker, child, restricted=True, users=[], teams=[team.id])  # sealing does not hide it
    session.flush()

    practitioner = create_user(session, roles=["practitioner"], teams=[team])
    sign_in(client, practitioner)
    assert client.get(f"/api/people/{child.id}").status_code == 200  # an access for the log
    assert client.get(f"/api/people/{child.id}/sar").status_code == 403

    ig = create_user(session, roles=["ig_officer"])
    sign_in(client, ig)
    assert client.get("/api/people/999999/sar").status_code == 404
    response = client.get(f"/api/people/{child.id}/sar")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"index.json", "index.html"} <= set(archive.namelist())
    index = json.loads(archive.read("index.json"))
    assert index["record"]["surname"] == "Subject"
    by_id = {n["id"]: n for n in index["notes"]}
    assert set(by_id) == {own.id, shared.id, about_sibling.id}
    assert by_id[own.id]["redaction_review"] is False
    assert by_id[shared.id]["redaction_review"] and by_id[shared.id]["third_party_person_ids"] == [sibling.id]
    assert by_id[about_sibling.id]["redaction_review"]
    assert [t["person_id"] for t in index["third_parties"]] == [sibling.id]
    assert index["relationships"][0]["redaction_review"] is True
    member = index["documents"][0]["versions"][0]["file"]
    assert index["documents"][0]["id"] == doc.id and archive.read(member) == b"the plan"
    assert any(e["action"] == "view" and e["actor_user_id"] == practitioner.id for e in index["access_log"])
    assert [(e["kind"], e["title"]) for e in index["chronology"]] == [("significant_event", "Visit")]
    html = archive.read("index.html").decode()
    assert "REVIEW FOR REDACTION" in html and "Thirdparty" in html
    exported = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "subject_access_request")).all()
    assert [(e.action, e.actor_user_id, e.person_id) for e in exported] == [("export", ig.id, str(child.id))]
