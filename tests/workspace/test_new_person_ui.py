"""The front door in the workspace: add a new person (duplicate check first), open a case, record a contact."""

from __future__ import annotations

from datetime import date

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.engine_host import bundle_paths
from casework.records import service_case as cases
from casework.records.models_case import Case
from casework.records.models_person import Person
from engine.definitions import load_bundle
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person

VALID_NHS = "9434765919"
OTHER_VALID_NHS = "9434765870"


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def summary(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The error summary: link target -> message."""
    box = page(response).select_one(".govuk-error-summary")
    assert box is not None, "no error summary"
    return {a["href"]: a.get_text(" ", strip=True) for a in box.select("a")}


def people_count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count(Person.id)))


def form(csrf: str, **overrides: str) -> dict[str, str]:
    data = {"csrf_token": csrf, "forename": "Mia", "middle_names": "", "surname": "Brennan-Fox", "dob-day": "4",
            "dob-month": "11", "dob-year": "2019", "sex": "F", "nhs_number": "", "address-line1": "",
            "address-line2": "", "address-town": "", "address-postcode": ""}
    data.update(overrides)
    return data


def front_door(session):  # type: ignore[no-untyped-def]
    team = create_team(session, code="mash-t", name="Front door", service_area="children")
    worker = create_user(session, username="fd.worker", teams=[team])
    return team, worker


def test_search_page_offers_add_a_new_person_prefilled_after_no_results(client, session):
    _team, worker = front_door(session)
    sign_in(client, worker)
    doc = page(client.get("/people"))
    assert doc.find("a", string="Add a new person")["href"] == "/people/new"
    response = client.get("/people?q=Mia+Brennan&dob-day=4&dob-month=11&dob-year=2019")
    assert "0 people found" in page(response).get_text()
    link = page(response).select_one("#add-searched")["href"]
    assert link.startswith("/people/new?")
    doc = page(client.get(link))
    assert doc.select_one("#forename")["value"] == "Mia" and doc.select_one("#surname")["value"] == "Brennan"
    assert [doc.select_one(f"#dob-{p}")["value"] for p in ("day", "month", "year")] == ["4", "11", "2019"]
    assert doc.title.get_text(strip=True) == "Add a new person – casework"


def test_add_person_needs_records_edit(client, session):
    officer = create_user(session, username="fin.off", roles=["finance_officer"])
    csrf = sign_in(client, officer)
    assert "Add a new person" not in page(client.get("/people")).get_text()
    assert client.get("/people/new").status_code == 403
    before = people_count(session)
    assert client.post("/people/new", data=form(csrf)).status_code == 403
    assert people_count(session) == before


def test_post_without_csrf_token_is_refused(client, session):
    _team, worker = front_door(session)
    sign_in(client, worker)
    before = people_count(session)
    assert client.post("/people/new", data=form("wrong-token")).status_code == 400
    assert people_count(session) == before


def test_missing_answers_come_back_with_an_error_summary(client, session):
    _team, worker = front_door(session)
    csrf = sign_in(client, worker)
    before = people_count(session)
    response = client.post("/people/new", data=form(csrf, forename="", surname=" ", sex="", **{
        "dob-day": "", "dob-month": "", "dob-year": ""}))
    assert response.status_code == 422
    assert page(response).title.get_text(strip=True) == "Error: Add a new person – casework"
    problems = summary(response)
    assert set(problems) == {"#forename", "#surname", "#dob-day", "#sex"}
    assert "first name" in problems["#forename"] and "date of birth" in problems["#dob-day"]
    response = client.post("/people/new", data=form(csrf, **{"dob-day": "31", "dob-month": "2"}))
    assert response.status_code == 422 and summary(response) == {
        "#dob-day": "Date of birth must be a real date, like 27 3 2015"}
    assert page(response).select_one("#dob-day")["value"] == "31"  # typed values kept
    response = client.post("/people/new", data=form(csrf, surname="S" * 101))
    assert response.status_code == 422
    assert summary(response) == {"#surname": "Last name must be 100 characters or fewer"}
    assert people_count(session) == before


def test_invalid_nhs_number_gets_the_services_message(client, session):
    _team, worker = front_door(session)
    csrf = sign_in(client, worker)
    before = people_count(session)
    response = client.post("/people/new", data=form(csrf, nhs_number="943 476 5918"))
    assert response.status_code == 422
    assert summary(response) == {"#nhs_number": "Enter a valid 10-digit NHS number (the check digit does not match)"}
    assert page(response).select_one("#nhs_number")["value"] == "943 476 5918"
    assert people_count(session) == before


def test_future_birth_needs_the_expected_box_and_bad_postcode_is_refused(client, session):
    _team, worker = front_door(session)
    csrf = sign_in(client, worker)
    next_year = str(date.today().year + 1)
    response = client.post("/people/new", data=form(csrf, **{"dob-year": next_year}))
    assert response.status_code == 422 and "future" in summary(response)["#dob-day"]
    response = client.post("/people/new", data=form(csrf, **{"address-line1": "1 High St", "address-postcode": "XX"}))
    assert response.status_code == 422
    assert summary(response) == {"#address-postcode": "Enter a real postcode, like SW1A 1AA"}
    response = client.post("/people/new", data=form(csrf, **{"address-town": "Leeds"}))
    assert response.status_code == 422 and list(summary(response)) == ["#address-line1"]
    before = people_count(session)
    response = client.post("/people/new", data=form(csrf, forename="Unborn", surname="Baby-Okoro", sex="U",
                                                      dob_is_expected="yes", **{"dob-year": next_year}))
    assert response.status_code == 302
    person = session.scalar(select(Person).where(Person.surname == "Baby-Okoro"))
    assert person.dob_is_expected and people_count(session) == before + 1


def test_no_match_creates_the_person_with_address_and_goes_to_open_a_case(client, session):
    _team, worker = front_door(session)
    csrf = sign_in(client, worker)
    response = client.post("/people/new", data=form(csrf, nhs_number="943 476 5919", **{
        "address-line1": "4 Mill Lane", "address-town": "Leeds", "address-postcode": "ls1 4ap"}))
    assert response.status_code == 302
    person = session.scalar(select(Person).where(Person.surname == "Brennan-Fox"))
    assert response.headers["Location"] == f"/people/{person.id}/cases/new?new=1"
    assert (person.forename, person.date_of_birth, person.sex, person.nhs_number) == (
        "Mia", date(2019, 11, 4), "F", VALID_NHS)
    assert person.created_by == worker.id
    assert [(a.line1, a.postcode) for a in person.addresses] == [("4 Mill Lane", "LS1 4AP")]
    created = session.scalar(select(AuditEvent).where(AuditEvent.action == "create",
                                                      AuditEvent.record_type == "person",
                                                      AuditEvent.record_id == str(person.id)))
    assert created is not None and created.actor_user_id == worker.id


def test_likely_matches_are_shown_and_never_created_silently(client, session):
    team, worker = front_door(session)
    actor = actor_for(worker)
    existing = create_person(session, actor, forename="Mia", surname="Brennan-Fox", date_of_birth=date(2019, 11, 4),
                             nhs_number=OTHER_VALID_NHS)
    sealed = create_person(session, actor_for(create_user(session, teams=[create_team(session)])), forename="Mia",
                           surname="Brennan-Foxe", date_of_birth=date(2019, 11, 4), restricted=True)
    csrf = sign_in(client, worker)
    before = people_count(session)
    response = client.post("/people/new", data=form(csrf, forename="Mya"))
    assert response.status_code == 409
    doc = page(response)
    assert doc.title.get_text(strip=True) == "This person may already have a record – casework"
    rows = doc.select("tbody tr")
    assert len(rows) == 1  # the sealed look-alike is not revealed
    assert rows[0].select_one("a")["href"] == f"/people/{existing.id}"
    assert "Mia Brennan-Fox" in rows[0].get_text() and "4 November 2019" in rows[0].get_text()
    assert rows[0].select("a")[-1]["href"] == f"/people/{existing.id}/cases/new"
    assert "Brennan-Foxe" not in doc.get_text()
    assert f"/people/{sealed.id}" not in [a["href"] for a in doc.select("a")]
    assert people_count(session) == before  # nothing saved
    confirm = doc.find("button", string=lambda s: s and "None of these" in s).find_parent("form")
    posted = {i["name"]: i.get("value", "") for i in confirm.select("input[type=hidden]")}
    assert posted["confirm_not_duplicate"] == "yes" and posted["forename"] == "Mya"
    response = client.post("/people/new", data=posted)
    assert response.status_code == 302
    assert people_count(session) == before + 1
    assert session.scalar(select(Person).where(Person.forename == "Mya")).surname == "Brennan-Fox"


def test_same_nhs_number_is_never_overridable(client, session):
    _team, worker = front_door(session)
    existing = create_person(session, actor_for(worker), forename="Jo", surname="Other", nhs_number=VALID_NHS)
    csrf = sign_in(client, worker)
    before = people_count(session)
    response = client.post("/people/new", data=form(csrf, nhs_number=VALID_NHS))
    assert response.status_code == 409
    doc = page(response)
    assert "already on a person's record" in doc.select_one(".govuk-warning-text").get_text()
    assert doc.find("button", string=lambda s: s and "None of these" in s) is None
    assert doc.select_one("tbody a")["href"] == f"/people/{existing.id}"
    forced = client.post("/people/new", data=form(csrf, nhs_number=VALID_NHS, confirm_not_duplicate="yes"))
    assert forced.status_code == 409 and people_count(session) == before


def test_change_what_i_entered_returns_to_the_form_with_the_answers(client, session):
    _team, worker = front_door(session)
    create_person(session, actor_for(worker), forename="Mia", surname="Brennan-Fox", date_of_birth=date(2019, 11, 4))
    csrf = sign_in(client, worker)
    doc = page(client.post("/people/new", data=form(csrf, **{"address-line1": "4 Mill Lane"})))
    change = doc.find("button", string=lambda s: s and "Change what I entered" in s).find_parent("form")
    posted = {i["name"]: i.get("value", "") for i in change.select("input[type=hidden]")}
    response = client.post("/people/new", data=posted)
    assert response.status_code == 200
    doc = page(response)
    assert doc.select_one("#forename")["value"] == "Mia" and doc.select_one("#address-line1")["value"] == "4 Mill Lane"


def test_open_a_case_defaults_to_my_team_and_validates(client, session):
    team, worker = front_door(session)
    person = create_person(session, actor_for(worker), forename="Noah", surname="Case-Opening")
    csrf = sign_in(client, worker)
    response = client.get(f"/people/{person.id}/cases/new")
    assert response.status_code == 200
    doc = page(response)
    assert doc.title.get_text(strip=True) == f"Open a case for {person.display_name} – casework"
    assert doc.select_one("input[name=team_id][checked]")["value"] == str(team.id)
    assert doc.select_one("input[name=service_area][checked]")["value"] == "children"
    response = client.post(f"/people/{person.id}/cases/new", data={"csrf_token": csrf, "service_area": "children",
                                                                   "team_id": str(team.id)})
    assert response.status_code == 422 and list(summary(response)) == ["#open_reason"]
    other = create_team(session, code="elsewhere")
    response = client.post(f"/people/{person.id}/cases/new", data={
        "csrf_token": csrf, "service_area": "children", "team_id": str(other.id), "open_reason": "referral"})
    assert response.status_code == 422 and list(summary(response)) == ["#team_id"]
    assert session.scalar(select(func.count(Case.id)).where(Case.person_id == person.id)) == 0
    response = client.post(f"/people/{person.id}/cases/new", data={
        "csrf_token": csrf, "service_area": "children", "team_id": str(team.id), "open_reason": "referral",
        "summary": "Call from school"})
    assert response.status_code == 302
    case = session.scalar(select(Case).where(Case.person_id == person.id))
    assert response.headers["Location"] == f"/cases/{case.reference}/opened"
    assert (case.team_id, case.open_reason, case.summary, case.status) == (team.id, "referral", "Call from school",
                                                                          "open")
    again = client.post(f"/people/{person.id}/cases/new", data={
        "csrf_token": csrf, "service_area": "children", "team_id": str(team.id), "open_reason": "referral"})
    assert again.status_code == 422 and summary(again) == {"#service_area": f"Already open: {case.reference}"}


def test_open_a_case_for_a_hidden_person_is_404_and_needs_records_edit(client, session):
    _team, worker = front_door(session)
    sealed = create_person(session, actor_for(create_user(session, teams=[create_team(session)])), restricted=True)
    sign_in(client, worker)
    assert client.get(f"/people/{sealed.id}/cases/new").status_code == 404
    officer = create_user(session, roles=["finance_officer"])
    sign_in(client, officer)
    assert client.get(f"/people/{sealed.id}/cases/new").status_code == 403


def _publish_referral(app, connection) -> None:  # type: ignore[no-untyped-def]
    from casework.engine_host import get_engine

    settings = app.config["SETTINGS"]
    bpmn, dmns = next((b, d) for b, d in bundle_paths(settings) if b.name == "referral.bpmn")
    get_engine(app).publish(connection, load_bundle([bpmn], settings.forms_dir, dmn_paths=dmns), "tests")


def test_case_opened_offers_record_a_contact_which_starts_the_referral(app, client, session, connection):
    team, worker = front_door(session)
    person = create_person(session, actor_for(worker), forename="Ivy", surname="Contactson")
    case = cases.open_case(session, actor_for(worker), person, {"service_area": "children",
                                                                "open_reason": "referral", "team_id": team.id})
    session.flush()
    csrf = sign_in(client, worker)
    doc = page(client.get(f"/cases/{case.reference}/opened"))
    assert doc.find("button", string=lambda s: s and "Record a contact" in s) is None  # no referral published
    _publish_referral(app, connection)
    response = client.get(f"/cases/{case.reference}/opened")
    assert response.status_code == 200
    doc = page(response)
    assert doc.title.get_text(strip=True) == f"Case {case.reference} opened – casework"
    viewed = session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "view", AuditEvent.record_type == "case", AuditEvent.record_id == str(case.id)))
    assert viewed == 2  # each showing of the page is audited
    start = doc.find("button", string=lambda s: s and "Record a contact" in s).find_parent("form")
    assert start["action"] == f"/cases/{case.reference}/start"
    posted = {i["name"]: i["value"] for i in start.select("input[type=hidden]")}
    assert posted == {"csrf_token": csrf, "process_key": "referral"}
    response = client.post(start["action"], data=posted)
    assert response.status_code == 302 and response.headers["Location"].startswith("/tasks/")
    task = page(client.get(response.headers["Location"]))
    assert "contact" in task.title.get_text().lower()
