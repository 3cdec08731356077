"""The workspace's statutory returns page (/returns): runs the CIN census checks (ours and the real DfE rules
engine) for a chosen year and the CLD checks for a quarter, lists each issue against the person and field with a
link to the record, hides a record the user may not see, and refuses bad input with the error summary (422)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bs4 import BeautifulSoup

from casework.finance.models import Agreement
from casework.records.models_person import PersonRestriction
from tests.conftest import sign_in
from tests.factories import create_team, create_user
from tests.returns.helpers import make_case, make_child


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def issue_rows(doc: BeautifulSoup) -> list[list[str]]:
    return [[c.get_text(" ", strip=True) for c in tr.select("td")] for tr in doc.select("#issues tbody tr")]


def _manager(session):  # type: ignore[no-untyped-def]
    team = create_team(session, code="ret-east")
    return create_user(session, username="ret.manager", roles=["team_manager"], teams=[team], manages=[team])


def _children(session):  # type: ignore[no-untyped-def]
    """An open children's case with no workflow (referral source etc. missing) for a visible child, and one for
    a sealed child only another team may see."""
    seen = make_child(session, 1, forename="Visible", surname="Child")
    make_case(session, seen, "CH-R000001", opened_on=date(2026, 6, 1))
    other = create_team(session, code="ret-adoption")
    sealed = make_child(session, 2, forename="Sealed", surname="Secret", restricted=True, upn="BADUPN")
    session.add(PersonRestriction(person_id=sealed.id, team_id=other.id))
    make_case(session, sealed, "CH-R000002", opened_on=date(2026, 6, 1))
    session.flush()
    return seen, sealed


def test_returns_page_needs_the_reports_permission(client, session):
    worker = create_user(session, username="ret.worker", roles=["practitioner"])
    sign_in(client, worker)
    assert client.get("/returns").status_code == 403
    sign_in(client, _manager(session))
    response = client.get("/returns")
    assert response.status_code == 200
    doc = page(response)
    assert doc.select_one("input#year")["value"] and doc.select_one("input#quarter") is not None
    assert doc.select_one("#issues") is None  # nothing is built until asked


def test_bad_year_and_quarter_are_422_with_the_error_summary(client, session):
    sign_in(client, _manager(session))
    for url, field in (("/returns?return=cin&year=20x6", "year"), ("/returns?return=cin&year=1999", "year"),
                       ("/returns?return=cld&quarter=2026Q5", "quarter"), ("/returns?return=xyz", "return")):
        response = client.get(url)
        assert response.status_code == 422, url
        doc = page(response)
        summary = doc.select_one(".govuk-error-summary")
        assert summary is not None, url
        assert summary.select_one(f"a[href='#{field}']") is not None, url
        assert doc.select_one("#issues") is None


def test_cin_issues_per_child_and_field_with_links_and_the_dfe_rules(client, session, dfe_python, monkeypatch):
    monkeypatch.setenv("CIN_VALIDATOR_PYTHON", dfe_python)
    monkeypatch.setenv("DFE_LA_CODE", "201")
    seen, sealed = _children(session)
    sign_in(client, _manager(session))
    response = client.get("/returns?return=cin&year=2027")
    assert response.status_code == 200
    doc = page(response)
    assert "Run" in doc.select_one("#dfe-status").get_text()
    rows = issue_rows(doc)
    assert int(doc.select_one("#issue-count").get_text()) == len(rows) > 0
    visible = [r for r in rows if r[0].startswith("Visible Child")]
    codes = {(r[1], r[2]) for r in visible}
    # our checks: the referral's census fields are not in any workflow history
    assert ("ReferralSource", "cw_referral_source_not_recorded") in codes
    assert ("ReferralNFA", "cw_referral_decision_missing") in codes
    # the DfE's rules engine on the same file: source of referral missing (8866)
    assert ("ReferralSource", "dfe_8866") in codes
    links = {a["href"] for a in doc.select("#issues a")}
    assert links == {f"/people/{seen.id}"}
    # the sealed child: listed (its issues are real) but without name, id, message or link
    hidden = [r for r in rows if r[0] == "Restricted record"]
    assert hidden and ("UPN", "cw_upn_invalid") in {(r[1], r[2]) for r in hidden}
    text = doc.get_text()
    assert "Sealed" not in text and "Secret" not in text and "BADUPN" not in text and "CW00002" not in text
    assert all(r[3].startswith("You cannot see this record") for r in hidden)


def test_cin_page_says_when_the_dfe_rules_could_not_run(client, session, monkeypatch, tmp_path):
    monkeypatch.setenv("CIN_VALIDATOR_PYTHON", str(tmp_path / "no-such-python"))
    _children(session)
    sign_in(client, _manager(session))
    doc = page(client.get("/returns?return=cin&year=2027"))
    assert "Could not run" in doc.select_one("#dfe-status").get_text()
    assert any(r[2] == "cw_referral_source_not_recorded" for r in issue_rows(doc))  # our checks still shown


def test_empty_year_is_said_to_be_a_valid_empty_return(client, session, monkeypatch):
    monkeypatch.setenv("DFE_LA_CODE", "201")
    sign_in(client, _manager(session))
    doc = page(client.get("/returns?return=cin&year=2019"))
    assert "valid and empty" in doc.get_text()
    assert doc.select_one("#issues") is None and doc.select_one("#issue-count").get_text() == "0"

    monkeypatch.delenv("DFE_LA_CODE")  # the council's LA code is not configured: an issue for the whole return
    rows = issue_rows(page(client.get("/returns?return=cin&year=2019")))
    assert rows == [["Whole return", "LEA", "cw_la_code_invalid", "LEA must be the 3-digit LA code"]]


def test_cld_issues_for_an_adult(client, session, monkeypatch):
    monkeypatch.setenv("DFE_LA_CODE", "201")
    adult = make_child(session, 3, forename="Ada", surname="Adult", date_of_birth=date(1950, 2, 3), upn=None)
    make_case(session, adult, "AD-R000003", opened_on=date(2026, 7, 1), service_area="adults")
    session.add(Agreement(kind="service", person_id=adult.id, service_type="home_care", unit="hour",
                          unit_cost_pence=2150, units_per_week=Decimal("14"), start_date=date(2026, 7, 6),
                          status="authorised", reference="SA-R1"))
    session.flush()
    sign_in(client, _manager(session))
    response = client.get("/returns?return=cld&quarter=2026q2")
    assert response.status_code == 200
    doc = page(response)
    rows = issue_rows(doc)
    assert rows and all(r[0].startswith("Ada Adult") for r in rows)
    assert ("Primary_Support_Reason", "cld_not_recorded") in {(r[1], r[2]) for r in rows}
    assert "Service" in doc.select_one("#counts").get_text()
    assert {a["href"] for a in doc.select("#issues a")} == {f"/people/{adult.id}"}
