"""CIN census from a child driven through the real engine, broken records, and an empty year."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lxml import etree

from casework.returns.cin import build_cin
from tests.returns.helpers import drive, make_case, make_child

NOW = datetime(2027, 4, 2, 9, tzinfo=UTC)


def _build(connection, year=2027, **kw):
    return build_cin(connection, year, la_code="999", now=NOW, **kw)


def _codes(ret, person_id=None):
    return sorted({i.code for i in ret.issues if person_id is None or i.person_id == person_id})


def text(el, path):
    found = el.find(path)
    return None if found is None else found.text


def test_child_through_referral_assessment_and_child_protection_full_answers(session, connection, start):
    child = make_child(session)
    make_case(session, child, "CH-0000001")
    drive(start, "CH-0000001", full=True)
    ret = _build(connection)
    root = etree.fromstring(ret.xml)
    assert (ret.children, ret.episodes) == (1, 1)
    assert text(root, "Header/CollectionDetails/Collection") == "CIN"
    assert text(root, "Header/CollectionDetails/ReferenceDate") == "2027-03-31"
    assert text(root, "Header/Source/LEA") == "999"
    c = root.find("Children/Child")
    assert text(c, "ChildIdentifiers/LAchildID") == "CW00001"
    assert text(c, "ChildIdentifiers/PersonBirthDate") == "2018-05-04"
    assert text(c, "ChildIdentifiers/Sex") == "M"
    assert text(c, "ChildCharacteristics/Ethnicity") == "WBRI"
    assert [d.text for d in c.iterfind("ChildCharacteristics/Disabilities/Disability")] == ["NONE"]
    d = c.find("CINdetails")
    assert [e.tag for e in d] == ["CINreferralDate", "ReferralSource", "PrimaryNeedCode", "ReferralNFA",
                                  "Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"]
    assert (text(d, "CINreferralDate"), text(d, "ReferralSource"), text(d, "PrimaryNeedCode")) == (
        "2026-11-02", "2A", "N1")
    assert text(d, "ReferralNFA") == "false"  # the ICPC followed the s47: reported there only (DfE 2884)
    a = d.find("Assessments")
    assert text(a, "AssessmentActualStartDate") == "2026-11-02"
    assert text(a, "AssessmentAuthorisationDate") == "2026-11-10"
    assert [f.text for f in a.iterfind("FactorsIdentifiedAtAssessment/AssessmentFactors")] == ["3B", "4B"]
    # the CIN plan from the authorised assessment ends when the child protection plan starts
    assert (text(d, "CINPlanDates/CINPlanStartDate"), text(d, "CINPlanDates/CINPlanEndDate")) == (
        "2026-11-10", "2026-11-20")
    s = d.find("Section47")
    assert (text(s, "S47ActualStartDate"), text(s, "InitialCPCtarget"), text(s, "DateOfInitialCPC"),
            text(s, "ICPCnotRequired")) == ("2026-11-04", "2026-11-24", "2026-11-20", "false")
    p = d.find("ChildProtectionPlans")
    assert (text(p, "CPPstartDate"), text(p, "CPPendDate"), text(p, "InitialCategoryOfAbuse"),
            text(p, "LatestCategoryOfAbuse"), text(p, "NumberOfPreviousCPP")) == (
        "2026-11-20", None, "PHY", "NEG", "0")
    assert [r.text for r in p.iterfind("Reviews/CPPreviewDate")] == ["2027-02-19"]
    assert ret.issues == []


def test_routing_fields_alone_carry_every_census_field(session, connection, start):
    """What the workspace passes the engine (each form's x-routing-fields) is enough for the census: referral
    source, primary need, assessment factors and the s47 start reach the history."""
    child = make_child(session)
    make_case(session, child, "CH-0000001")
    drive(start, "CH-0000001", full=False)
    ret = _build(connection)
    assert ret.issues == []
    d = etree.fromstring(ret.xml).find("Children/Child/CINdetails")
    assert d.find("ReferralSource") is not None and d.find("PrimaryNeedCode") is not None
    assert d.find("Section47/S47ActualStartDate") is not None
    assert text(d, "Section47/DateOfInitialCPC") == "2026-11-20"


def test_broken_records_give_the_expected_issue_codes(session, connection):
    ok = make_child(session, 1)
    make_case(session, ok, "CH-0000001", opened_on=date(2026, 6, 1), status="closed",
              closed_on=date(2026, 7, 1), close_reason="no_further_action")
    bare = make_child(session, 2, upn=None, sex=None, ethnicity=None, disabilities=[], date_of_birth=None)
    make_case(session, bare, "CH-0000002", opened_on=date(2026, 6, 1))
    wrong = make_child(session, 3, disabilities=["NONE", "VIS"], sex="X", upn="B201123426003")
    make_case(session, wrong, "CH-0000003", opened_on=date(2026, 6, 1), status="closed",
              closed_on=date(2026, 5, 1), close_reason=None)
    ret = _build(connection)
    assert ret.children == 3
    assert _codes(ret, bare.id) == ["cw_birth_date_missing", "cw_disability_missing", "cw_ethnicity_missing",
                                    "cw_primary_need_not_recorded", "cw_referral_decision_missing",
                                    "cw_referral_source_not_recorded", "cw_sex_missing", "cw_upn_missing"]
    assert {"cw_closure_before_referral", "cw_closure_reason_missing", "cw_sex_missing", "cw_upn_invalid",
            "cw_disability_none_with_others"} <= set(_codes(ret, wrong.id))
    closed = etree.fromstring(ret.xml).find("Children/Child/CINdetails")
    assert (text(closed, "CINclosureDate"), text(closed, "ReasonForClosure")) == ("2026-07-01", "RC8")
    fields = {(i.field, i.code) for i in ret.issues if i.person_id == bare.id}
    assert ("Ethnicity", "cw_ethnicity_missing") in fields


def test_cases_outside_the_year_and_adult_cases_are_left_out(session, connection):
    old = make_child(session, 1)
    make_case(session, old, "CH-0000001", opened_on=date(2024, 6, 1), status="closed",
              closed_on=date(2025, 1, 1), close_reason="needs_met")
    adult = make_child(session, 2, date_of_birth=date(1960, 1, 1))
    make_case(session, adult, "AD-0000002", opened_on=date(2026, 6, 1), service_area="adults")
    ret = _build(connection)
    assert ret.children == 0


def test_empty_year_is_a_valid_empty_return(connection):
    ret = _build(connection, year=2019)
    root = etree.fromstring(ret.xml)
    assert ret.empty and ret.issues == []
    assert root.tag == "Message" and len(root.find("Children")) == 0
    assert text(root, "Header/CollectionDetails/Year") == "2019"
    assert text(root, "Header/Source/DateTime") == "2027-04-02T09:00:00"


def test_full_answers_child_passes_the_dfe_rules_when_configured(session, connection, start, tmp_path):
    """The DfE rules engine runs in its own interpreter (a fake one here, printing what the real script
    prints); its issues come back against the child, field and record."""
    from casework.returns.dfe_validator import ruleset_for, run_dfe_validator

    child = make_child(session)
    make_case(session, child, "CH-0000001")
    drive(start, "CH-0000001", full=True)
    ret = _build(connection)
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho \'{"child": "CW00001", "rule": "8610", "field": "PrimaryNeedCode", '
                    '"message": "Primary Need code is missing", "value": null}\'\n')
    fake.chmod(0o755)
    issues = run_dfe_validator(ret.xml, 2027, str(fake), ret.child_people)
    assert [(i.code, i.field, i.link) for i in issues] == [("dfe_8610", "PrimaryNeedCode", f"/people/{child.id}")]
    assert ruleset_for(2026) == "cin2025_26" and ruleset_for(2027) == "cin2026_27"
    assert ruleset_for(2019) == "cin2022_23" and ruleset_for(2030) == "cin2026_27"
    (tmp_path / "full.xml").write_bytes(ret.xml)  # kept with --basetemp for a run with the real rules engine


def test_full_answers_child_has_no_issue_with_the_real_dfe_rules(session, connection, start, dfe_python):
    from casework.returns.dfe_validator import run_dfe_validator

    child = make_child(session)
    make_case(session, child, "CH-0000001")
    drive(start, "CH-0000001", full=False)  # as the workspace does: routing fields only
    ret = _build(connection)
    assert ret.issues == []
    assert [(i.field, i.code, i.message) for i in run_dfe_validator(ret.xml, 2027, dfe_python,
                                                                     ret.child_people)] == []


def test_child_already_assessed_goes_to_a_cin_plan_when_no_conference_is_needed(session, connection, start):
    """Child protection started by an authorised assessment's section 47 outcome: a manager agreeing that no
    conference is needed puts the child on a child in need plan (child_protection.bpmn, "Route: no plan"), which
    the census reports from that day; without the assessment in the start data the child is assessed instead."""
    from tests.processes.conftest import bundle_for
    from tests.processes.samples import sample
    from tests.returns.helpers import MANAGER, SW, submit

    assessed, not_assessed = make_child(session, 1), make_child(session, 2)
    make_case(session, assessed, "CH-0000001")
    make_case(session, not_assessed, "CH-0000002")
    for reference, start_data in (("CH-0000001", {"assessment_outcome": "section_47"}), ("CH-0000002", {})):
        c = start("child_protection", reference, referral_date="2026-11-02", **start_data)
        c.wf.publish(c.conn, bundle_for("childrens_assessment"), "configurator")  # what a no-plan ending starts
        submit(c, "strategy_discussion", sample("strategy-discussion"), SW, True)
        submit(c, "section_47_enquiry", sample("section-47-enquiry", enquiry_outcome="no_icpc"), SW, True)
        c.clock.set(c.clock.value.replace(day=12))
        submit(c, "confirm_no_conference", sample("no-conference-confirmation"), MANAGER, True)
    ret = _build(connection)
    root = etree.fromstring(ret.xml)
    by_id = {text(c, "ChildIdentifiers/LAchildID"): c for c in root.iterfind("Children/Child")}
    plan = by_id["CW00001"].find("CINdetails/CINPlanDates")
    assert plan is not None and text(plan, "CINPlanStartDate") == "2026-11-12"
    assert by_id["CW00002"].find("CINdetails/CINPlanDates") is None
