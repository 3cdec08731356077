"""A configurator's change in a real browser: open a draft in the bpmn-js modeller, save, see a validation
problem, follow its link to the element, fix it with the casework panel, submit; a second configurator
approves and publishes. Also a round trip of files with unknown extensions through the modeller."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import expect

from casework.accounts import service as accounts
from casework.configuration import drafts
from casework.extensions import database
from tests.admin.samples import triage_files
from tests.browser.conftest import PASSWORD, Journey, LiveServer

_seq = itertools.count(1)
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def seed(live_server: LiveServer, make_files, key: str) -> dict:
    n = next(_seq)
    files = make_files(f"{key}{n}")
    author, reviewer = f"cfg_a{n}", f"cfg_b{n}"
    with database.session_scope() as session:
        for username in (author, reviewer):
            accounts.create_user(session, username=username, display_name=f"Configurator {username}",
                                 password=PASSWORD, roles=["configurator"])
        draft = drafts.create_draft(session, process_key=f"{key}{n}", title="Referral triage", files=files,
                                    actor=author, reason="browser journey")
        draft_id = draft.id
    return {"author": author, "reviewer": reviewer, "draft": draft_id, "key": f"{key}{n}", "files": files}



def sign_in(journey: Journey, live_server: LiveServer, username: str) -> None:
    """Sign in by handing the browser a signed session cookie (as tests.conftest.sign_in does for the Flask
    client): these journeys sign in dozens of times, and the sign-in form is rate limited per IP."""
    import time

    from casework.accounts.models import User

    app = live_server.app
    with database.session_scope() as session:
        user = accounts.get_user(session, username)
        assert isinstance(user, User)
        now = int(time.time())
        data = {"uid": user.id, "epoch": user.session_epoch, "issued": now, "seen": now,
                "csrf": f"csrf-{user.id}-{now}"}
    value = app.session_interface.get_signing_serializer(app).dumps(data)
    context = journey.page.context
    context.clear_cookies()
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live_server.url}])

def saved_files(draft_id: int) -> dict:
    with database.session_scope() as session:
        return drafts.files_of(drafts.get_draft(session, draft_id))


def open_modeller(journey: Journey, draft_id: int, file: str | None = None) -> None:
    journey.goto(f"/admin/drafts/{draft_id}/modeller" + (f"?file={file}" if file else ""))
    expect(journey.page.locator("#modeller[data-ready=true]")).to_have_count(1)


@pytest.mark.browser
def test_configurator_fixes_publishes_with_second_configurator(journey: Journey, live_server: LiveServer) -> None:
    s = seed(live_server, lambda key: triage_files(form=None, key=key), "bt")
    page = journey.page
    sign_in(journey, live_server, s["author"])
    journey.goto(f"/admin/drafts/{s['draft']}")
    expect(page.locator("#problems")).to_contain_text("names no form")
    journey.check("draft with a problem")

    open_modeller(journey, s["draft"])
    expect(page.locator(".djs-element[data-element-id=Task_triage]")).to_have_count(1)
    journey.check("modeller")

    page.get_by_role("button", name="Save and check").click()
    expect(page.locator("#save-status")).to_contain_text("problem(s) to look at")
    link = page.locator('#problems a[data-element-id="Task_triage"]')
    link.click()
    selected = page.evaluate("() => window.caseworkModeller.modeler.get('selection').get().map(e => e.id)")
    assert selected == ["Task_triage"]

    # the casework panel for the selected user task: pick the form, apply (saved on the server)
    expect(page.locator("#panel-form")).to_have_attribute("data-element", "Task_triage")
    page.get_by_label("Form", exact=True).select_option("triage")
    page.get_by_label("Due date").fill("working_days_after(today(), 10)")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#save-status")).to_contain_text("Settings applied and saved")
    expect(page.locator("#no-problems")).to_be_visible()
    journey.check("modeller fixed")
    xml = saved_files(s["draft"])["bpmn"]["triage.bpmn"]
    assert 'name="formJsonSchemaFilename" value="triage.schema.json"' in xml
    assert "acme:audit" in xml and "kept as it is" in xml

    journey.goto(f"/admin/drafts/{s['draft']}")
    page.get_by_label("What does this change and why?").fill("Triage needs its form")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Submitted for review")
    page.get_by_label("Your review").fill("I approve my own work")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("a different configurator must approve it")
    journey.check("same person refused")

    page.get_by_role("button", name="Sign out").click()
    sign_in(journey, live_server, s["reviewer"])
    journey.goto(f"/admin/drafts/{s['draft']}")
    page.get_by_label("Your review").fill("Form and due date checked")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Approved")
    page.get_by_label("Why publish now?").fill("Ready for the front door")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Published {s['key']} version 1")
    expect(page.locator("#history")).to_contain_text("Ready for the front door")
    journey.check("published")
    journey.goto("/admin/processes")
    expect(page.locator(f'tr[data-process="{s["key"]}"]')).to_contain_text("Version 1")
    journey.check("process library")


def _canon(el) -> tuple:
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(),
            tuple(_canon(c) for c in el if isinstance(c.tag, str)))


def _semantics(xml: str) -> dict:
    """Every BPMN element with an id: its type, name, and all extension content (as canonical XML)."""
    root = etree.fromstring(xml.encode("utf-8"))
    out = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.get("id") or not el.tag.startswith(BPMN):
            continue
        ext = el.find(f"{BPMN}extensionElements")
        ext_text = _canon(ext) if ext is not None else None
        out[el.get("id")] = (etree.QName(el).localname, " ".join((el.get("name") or "").split()), ext_text)
    return out


ROOT = Path(__file__).resolve().parents[2]
ROUND_TRIP = sorted(ROOT.glob("processes/*.bpmn")) + sorted((ROOT.parent / "shared" / "corpora" / "bpmn-miwg"
                                                              ).glob("*.bpmn"))


@pytest.mark.browser
@pytest.mark.parametrize("source", ["triage", *ROUND_TRIP],
                         ids=["triage", *[f"{p.parent.name}/{p.name}" for p in ROUND_TRIP]])
def test_round_trip_through_the_modeller_keeps_the_model(journey: Journey, live_server: LiveServer,
                                                         source) -> None:
    """Every processes/*.bpmn and MIWG file: load into bpmn-js, save from bpmn-js; every element keeps its id,
    type, name and extension content (spiffworkflow and other tools' extensions)."""
    if source == "triage":
        name = "triage.bpmn"
        s = seed(live_server, lambda key: triage_files(key=key), "rt")
    else:
        name = source.name
        s = seed(live_server, lambda key: {"bpmn": {name: source.read_text("utf-8-sig")}, "dmn": {}, "forms": {}},
                 "rt")
    files = s["files"]
    sign_in(journey, live_server, s["author"])
    open_modeller(journey, s["draft"], name)
    journey.page.get_by_role("button", name="Save and check").click()
    expect(journey.page.locator("#save-status")).to_contain_text("Saved")
    before, after = _semantics(files["bpmn"][name]), _semantics(saved_files(s["draft"])["bpmn"][name])
    assert after == before


@pytest.mark.browser
def test_modeller_editing_needs_no_csp_exception(journey: Journey, live_server: LiveServer) -> None:
    """Drag a shape, edit a label, add a task from the palette, undo: no securitypolicyviolation events under
    the app's strict policy (style-src 'self', script-src 'self' + nonce)."""
    s = seed(live_server, lambda key: triage_files(key=key), "csp")
    page = journey.page
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(journey, live_server, s["author"])
    open_modeller(journey, s["draft"])
    page.evaluate("() => { window.__violations = []; document.addEventListener('securitypolicyviolation', "
                  "e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }")
    task = page.locator(".djs-element[data-element-id=Task_triage]")
    box = task.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 10, steps=5)
    page.mouse.up()
    task.dblclick()
    page.keyboard.type(" now")
    page.mouse.click(5, 5)
    page.locator(".djs-palette .entry.bpmn-icon-task").click()
    page.mouse.click(box["x"] + 20, box["y"] + box["height"] + 60)
    page.keyboard.press("Control+z")
    page.get_by_role("button", name="Save and check").click()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    assert page.evaluate("() => window.__violations") == []
    assert console_errors == []  # e.g. bpmn-js refusing an unsupported configuration
    assert "Triage the referral now" in saved_files(s["draft"])["bpmn"]["triage.bpmn"]
    journey.check("modeller after editing")


@pytest.mark.browser
def test_admin_pages_are_accessible(journey: Journey, live_server: LiveServer) -> None:
    """axe (WCAG 2.2 AA) and CSP on every admin page type, including the live form preview and a simulation."""
    from tests.admin.samples import waiting_files
    from tests.admin.test_dmn import DMN

    s = seed(live_server, lambda key: {**waiting_files(key=key), "dmn": {"band.dmn": DMN}}, "a11y")
    page = journey.page
    sign_in(journey, live_server, s["author"])
    for path, label in ((f"/admin/drafts/{s['draft']}", "draft"), ("/admin/processes", "library"),
                        ("/admin/processes/new", "new process"), ("/admin/import", "import"),
                        ("/admin/settings", "settings"),
                        (f"/admin/drafts/{s['draft']}/files/forms/triage.schema.json", "edit as text"),
                        (f"/admin/drafts/{s['draft']}/decisions/band.dmn", "decision table")):
        journey.goto(path)
        journey.check(label)
    journey.goto(f"/admin/drafts/{s['draft']}/form?form=triage")
    page.get_by_label("JSON Schema (Draft 2020-12)").fill(
        '{"type": "object", "properties": {"child_name": {"type": "string", "title": "Child\'s name"}}}')
    expect(page.locator("#form-preview")).to_contain_text("Child's name")
    journey.check("form editor live preview")
    journey.goto(f"/admin/drafts/{s['draft']}/simulate")
    page.locator("#data-Task_triage").fill('{"decision": "accept"}')
    page.get_by_role("button", name="Complete Triage").click()
    expect(page.locator("#timers")).to_contain_text("Timer_wait")
    page.get_by_label("Days forward").fill("3")
    page.get_by_role("button", name="Move the clock forward").click()
    expect(page.locator('[data-task="Task_review"]')).to_have_count(1)
    journey.check("simulation")


@pytest.mark.browser
def test_user_administration_pages_are_accessible(journey: Journey, live_server: LiveServer) -> None:
    n = next(_seq)
    with database.session_scope() as session:
        accounts.create_user(session, username=f"adm{n}", display_name="Ada Admin", password=PASSWORD,
                             roles=["administrator"])
        accounts.create_user(session, username=f"sam{n}", display_name="Sam Worker", password=PASSWORD,
                             roles=["practitioner"])
    sign_in(journey, live_server, f"adm{n}")
    for path, label in (("/admin/users", "users"), (f"/admin/users/sam{n}", "edit user"),
                        ("/admin/users/new", "add user"), ("/admin/teams", "teams")):
        journey.goto(path)
        journey.check(label)
    journey.goto(f"/admin/users/sam{n}")
    journey.page.get_by_label("Team manager").check()
    journey.page.get_by_role("button", name="Save").click()
    expect(journey.page.locator(f'tr[data-user="sam{n}"]')).to_contain_text("Team manager")


def seed_case(n: int) -> dict:
    """A practitioner with an open case to start the published process on (workspace side)."""
    from datetime import date

    from casework.auth.access import Actor
    from casework.records import service_case as cases
    from tests.records.factories import create_person

    with database.session_scope() as session:
        team = accounts.create_team(session, code=f"adm-team{n}", name=f"Admin journey team {n}")
        worker = accounts.create_user(session, username=f"prac{n}", display_name=f"Pat Practitioner {n}",
                                      password=PASSWORD, roles=["practitioner"], teams=[team.code])
        manager = accounts.create_user(session, username=f"mgr{n}", display_name=f"Mo Manager {n}",
                                       password=PASSWORD, roles=["team_manager"], teams=[team.code],
                                       manages=[team.code])
        person = create_person(session, Actor.from_user(manager), forename="Ava", surname=f"Journey{n}",
                               date_of_birth=date(2015, 3, 14))
        case = cases.open_case(session, Actor.from_user(manager), person, {
            "service_area": "children", "open_reason": "referral", "team_id": team.id, "worker_id": worker.id})
        return {"worker": worker.username, "person": person.id, "case": case.id, "reference": case.reference}


@pytest.mark.browser
def test_add_user_task_in_modeller_publish_and_start_from_workspace(journey: Journey,
                                                                    live_server: LiveServer) -> None:
    from sqlalchemy import select

    from engine.schema import process_definition, process_instance

    s = seed(live_server, lambda key: triage_files(key=key), "addtask")
    c = seed_case(next(_seq))
    page = journey.page
    sign_in(journey, live_server, s["author"])
    open_modeller(journey, s["draft"])
    modeller = "window.caseworkModeller.modeler"

    # append a task after Task_triage with the context pad, name it, make it a user task with the replace menu
    page.locator(".djs-element[data-element-id=Task_triage]").click()
    page.locator('.djs-context-pad .entry[data-action="append.append-task"]').click()
    page.keyboard.type("Check the decision")
    page.locator("#canvas").click(position={"x": 5, "y": 5})
    new_id = page.evaluate(f"""() => {modeller}.get('elementRegistry').filter(
        e => e.businessObject && e.businessObject.name === 'Check the decision')[0].id""")
    page.locator(f".djs-element[data-element-id={new_id}]").click()
    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-user-task"]').click()
    new_id = page.evaluate(f"""() => {modeller}.get('elementRegistry').filter(
        e => e.businessObject && e.businessObject.name === 'Check the decision')[0].id""")
    kind = page.evaluate(f"() => {modeller}.get('elementRegistry').get('{new_id}').businessObject.$type")
    assert kind == "bpmn:UserTask"

    page.get_by_role("button", name="Save and check").click()
    expect(page.locator(f'#problems a[data-element-id="{new_id}"]')).to_have_count(1)
    expect(page.locator("#problems")).to_contain_text("names no form")
    page.locator(f'#problems a[data-element-id="{new_id}"]').click()
    expect(page.locator("#panel-element")).to_contain_text("Check the decision")
    expect(page.locator("#panel-form")).to_have_attribute("data-element", new_id)
    page.get_by_label("Form", exact=True).select_option("triage")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#save-status")).to_contain_text("Settings applied and saved")
    # the engine refuses two flows out of Task_triage: remove the old flow, connect the new task to the end
    expect(page.locator("#problems")).to_contain_text("Multiple outgoing flows are not supported")
    page.evaluate(f"() => {modeller}.get('selection').select({modeller}.get('elementRegistry').get('Flow_2'))")
    page.locator('.djs-context-pad .entry[data-action="delete"]').click()
    assert page.evaluate(f"() => !{modeller}.get('elementRegistry').get('Flow_2')")
    page.locator(f".djs-element[data-element-id={new_id}]").click()
    page.locator('.djs-context-pad .entry[data-action="connect"]').click()
    page.locator(".djs-element[data-element-id=EndEvent_1]").click()
    page.wait_for_function(f"""() => {{
        const task = {modeller}.get('elementRegistry').get('{new_id}');
        return task.outgoing.length === 1 && task.outgoing[0].target.id === 'EndEvent_1'; }}""")
    page.get_by_role("button", name="Save and check").click()
    expect(page.locator("#save-status")).to_contain_text("Saved.")
    problems = page.locator("#problems").all_inner_texts()
    assert problems == [], problems
    journey.check("user task added")

    journey.goto(f"/admin/drafts/{s['draft']}")
    page.get_by_label("What does this change and why?").fill("Second look at every triage decision")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(journey, live_server, s["reviewer"])
    journey.goto(f"/admin/drafts/{s['draft']}")
    page.get_by_label("Your review").fill("Checked")
    page.get_by_role("button", name="Approve").click()
    page.get_by_label("Why publish now?").fill("Go live")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Published {s['key']} version 1")

    # the practitioner starts the new version on a case from the workspace
    page.get_by_role("button", name="Sign out").click()
    sign_in(journey, live_server, c["worker"])
    journey.goto(f"/people/{c['person']}")
    page.locator(f"#process_key-{c['case']}").select_option(s["key"])
    page.get_by_role("button", name=f"Start the chosen process for {c['reference']}").click()
    page.wait_for_load_state()
    journey.check("process started from the workspace")
    with database.session_scope() as session:
        rows = session.execute(select(process_instance.c.business_key, process_definition.c.version)
                               .join(process_definition, process_definition.c.id == process_instance.c.definition_id)
                               .where(process_instance.c.process_key == s["key"])).all()
    assert [(r.business_key, r.version) for r in rows] == [(c["reference"], 1)]
