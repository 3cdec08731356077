"""Admin pages (Flask client + BeautifulSoup): library, draft, review steps, conflicts, settings, access."""

from __future__ import annotations

import re

from casework.configuration import drafts
from tests.admin.conftest import publish_via_review, soup
from tests.admin.samples import triage_bpmn, triage_files
from tests.conftest import sign_in
from tests.factories import create_user


def _new_draft(session, files=None, key="triage"):
    return drafts.create_draft(session, process_key=key, title="Referral triage", files=files or triage_files(),
                               actor="alice", reason="new")


def test_pages_need_configure_permission(client, session):
    user = create_user(session, roles=["practitioner"])
    sign_in(client, user)
    for url in ("/admin/processes", "/admin/settings", "/admin/import", "/admin/processes/new"):
        assert client.get(url).status_code == 403


def test_library_lists_processes_versions_instances_and_drafts(client, session, wf, alice, bob):
    publish_via_review(session, wf)
    wf.start(session.connection(), "triage", "case-9", actor="alice")
    _new_draft(session, triage_files(task_name="Triage v2"))
    sign_in(client, alice)
    page = soup(client.get("/admin/processes"))
    row = page.select_one('tr[data-process="triage"]')
    assert "Referral triage" in row.text and "Version 1" in row.text
    assert row.select("td")[3].text.strip() == "1"
    assert "Draft" in row.text and "alice" in row.text


def test_process_page_history_diff_and_export(client, session, wf, alice, bob):
    publish_via_review(session, wf)
    publish_via_review(session, wf, triage_files(task_name="Triage quickly"))
    sign_in(client, alice)
    response = client.get("/admin/processes/triage?from=1&to=2")
    page = soup(response)
    assert response.status_code == 200
    assert page.select_one("title").text.startswith("Referral triage")
    assert any("Renamed user task Task_triage from 'Triage the referral' to 'Triage quickly'" in li.text
               for li in page.select("#diff li"))
    history = page.select_one("#history").text
    assert "Published" in history and "Approved" in history and "go live" in history
    export = client.get("/admin/processes/triage/versions/1/export")
    assert export.status_code == 200 and export.mimetype == "application/zip"


def test_draft_page_lists_problems_linking_to_elements(client, session, wf, alice):
    draft = _new_draft(session, triage_files(form=None))
    sign_in(client, alice)
    page = soup(client.get(f"/admin/drafts/{draft.id}"))
    link = page.select_one('#problems a[data-element-id="Task_triage"]')
    assert link is not None and "select=Task_triage" in link["href"] and "/modeller" in link["href"]
    assert "names no form" in page.select_one("#problems").text


def test_review_journey_through_pages(client, session, wf, alice, bob):
    draft = _new_draft(session)
    token = sign_in(client, alice)
    response = client.post(f"/admin/drafts/{draft.id}/submit", data={"csrf_token": token, "reason": "",
                                                                      "version": draft.version})
    assert response.status_code == 422
    assert "Enter the reason" in soup(response).select_one(".govuk-error-summary").text
    response = client.post(f"/admin/drafts/{draft.id}/submit", data={"csrf_token": token, "reason": "ready",
                                                                      "version": draft.version})
    assert response.status_code == 302
    response = client.post(f"/admin/drafts/{draft.id}/approve", data={"csrf_token": token, "reason": "me"})
    assert response.status_code == 403
    assert "a different configurator must approve it" in soup(response).select_one(".govuk-error-summary").text
    token = sign_in(client, bob)
    assert client.post(f"/admin/drafts/{draft.id}/approve", data={"csrf_token": token, "reason": "ok"}
                       ).status_code == 302
    response = client.post(f"/admin/drafts/{draft.id}/publish", data={"csrf_token": token, "reason": "live"})
    assert response.status_code == 302 and response.location.endswith("/admin/processes/triage")
    page = soup(client.get("/admin/processes/triage"))
    assert "Published triage version 1" in page.text


def test_submit_with_problems_shows_them(client, session, wf, alice):
    draft = _new_draft(session, triage_files(form="missing"))
    token = sign_in(client, alice)
    response = client.post(f"/admin/drafts/{draft.id}/submit", data={"csrf_token": token, "reason": "go"})
    assert response.status_code == 422
    page = soup(response)
    assert "problem(s) to fix" in page.select_one(".govuk-error-summary").text
    assert "does not exist in the bundle" in page.select_one("#problems").text


def test_text_edit_conflict_keeps_the_typed_text(client, session, wf, alice, bob):
    draft = _new_draft(session)
    stale = draft.version
    drafts.save_files(session, draft, changes={"bpmn": {"triage.bpmn": triage_bpmn(task_name="Bob was here")}},
                      actor="bob", expected_version=stale)
    token = sign_in(client, alice)
    mine = triage_bpmn(task_name="Alice's version")
    response = client.post(f"/admin/drafts/{draft.id}/files/bpmn/triage.bpmn",
                           data={"csrf_token": token, "content": mine, "version": stale})
    assert response.status_code == 409
    page = soup(response)
    assert "Someone else (bob) saved this draft" in page.select_one(".govuk-error-summary").text
    assert "Alice's version" in page.select_one("#content").text
    assert "Bob was here" in drafts.files_of(draft)["bpmn"]["triage.bpmn"]


def test_new_process_creates_runnable_blank_draft(client, session, wf, alice):
    token = sign_in(client, alice)
    response = client.post("/admin/processes/new", data={"csrf_token": token, "title": "Short break",
                                                         "process_key": "short break"})
    assert response.status_code == 422
    assert "Use letters, numbers" in soup(response).select_one(".govuk-error-summary").text
    response = client.post("/admin/processes/new", data={"csrf_token": token, "title": "Short break",
                                                         "process_key": "short_break"})
    assert response.status_code == 302
    page = soup(client.get(response.location))
    assert page.select_one("#no-problems") is not None


def test_settings_page_validates_and_saves(client, session, alice):
    from casework.configuration.settings import closure_days

    token = sign_in(client, alice)
    page = soup(client.get("/admin/settings"))
    assert page.select_one("#closure_days") is not None
    data = {"csrf_token": token, "closure_days": "2026-12-29\n31/02/2026"}
    response = client.post("/admin/settings", data=data)
    assert response.status_code == 422
    summary = soup(response).select_one(".govuk-error-summary").text
    assert "'31/02/2026' is not a real date" in summary
    data.update(closure_days="2026-12-29\n30/12/2026")
    assert client.post("/admin/settings", data=data).status_code == 302
    assert [d.isoformat() for d in closure_days(session)] == ["2026-12-29", "2026-12-30"]


def test_csrf_required_on_admin_posts(client, session, alice):
    sign_in(client, alice)
    response = client.post("/admin/settings", data={"closure_days": ""})
    assert response.status_code == 400


def test_modeller_page_csp_and_assets(client, session, wf, alice):
    draft = _new_draft(session)
    sign_in(client, alice)
    response = client.get(f"/admin/drafts/{draft.id}/modeller?select=Task_triage")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-eval" not in csp
    assert "style-src 'self';" in csp and "unsafe-inline" not in csp  # bpmn-js needs no exception
    page = soup(response)
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = page.select("script[src]")
    assert any(s["src"].endswith("bpmn-modeler.production.min.js") and s.get("nonce") == nonce for s in scripts)
    assert page.select_one("#modeller")["data-select"] == "Task_triage"
    assert client.get("/assets/vendor/bpmn-js/bpmn-modeler.production.min.js").status_code == 200


def test_form_problem_links_to_the_form_editor(client, session, wf, alice):
    files = triage_files()
    files["forms"]["triage.schema.json"] = '{"type": "object", "properties": {"x": {"type": "banana"}}}'
    draft = drafts.create_draft(session, process_key="triage", title="t", files=files, actor="alice", reason=None)
    sign_in(client, alice)
    page = soup(client.get(f"/admin/drafts/{draft.id}"))
    links = [a["href"] for a in page.select("#problems a")]
    assert any(href.endswith("/form?form=triage") for href in links)
