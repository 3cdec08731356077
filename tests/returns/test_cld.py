"""Adult Social Care Client Level Data: an adult driven through the care and support plan with the real
engine, a finance agreement, our own field checks, and an empty quarter."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from casework.finance.models import Agreement
from casework.returns.cld import COLUMNS, build_cld, quarter_period, validate_row
from tests.processes.samples import sample
from tests.returns.helpers import make_case, make_child

SW, TM = "sw.ana", "tm.bea"


def _rows(ret):
    return list(csv.DictReader(io.StringIO(ret.csv)))


def _adult(session, n=1, **kw):
    return make_child(session, n, date_of_birth=date(1940, 2, 3), upn=None, nhs_number=kw.pop("nhs", None), **kw)


def _agreement(session, person, **kw):
    data = dict(kind="service", person_id=person.id, service_type="home_care", unit="hour", unit_cost_pence=2150,
                units_per_week=Decimal("14"), start_date=date(2026, 12, 1), status="authorised", reference="SA-1")
    data.update(kw)
    a = Agreement(**data)
    session.add(a)
    session.flush()
    return a


def test_quarter_periods_are_financial_year_quarters():
    assert quarter_period("2026Q1") == (date(2026, 4, 1), date(2026, 6, 30))
    assert quarter_period("2026Q4") == (date(2027, 1, 1), date(2027, 3, 31))
    with pytest.raises(ValueError):
        quarter_period("2026-2")


def test_request_assessment_service_and_review_events(session, connection, start, clock):
    person = _adult(session, nhs="9434765919")
    make_case(session, person, "AD-0000001", service_area="adults")
    j = start("care_and_support_plan", "AD-0000001", referral_date="2026-11-02")
    j.submit("needs_assessment", sample("care-act-needs-assessment"), SW)
    j.submit("draft_care_plan", sample("care-and-support-plan"), SW)
    j.submit("sign_off_care_plan", sample("care-plan-sign-off"), TM)
    j.submit("arrange_services", sample("arrange-services", services_start_date="2026-12-01"), SW)
    j.wf.deliver_message(j.conn, "payment_authorisation_decided", "AD-0000001", {"payment_outcome": "authorised"},
                         "engine")
    j.fire_timers(datetime(2027, 1, 16, 0, 1, tzinfo=UTC))
    j.submit("review_care_plan", sample("care-plan-review", review_date="2027-01-20", review_outcome="revise"), SW)
    _agreement(session, person)

    q3 = build_cld(connection, "2026Q3", la_code="999")
    rows = _rows(q3)
    assert list(rows[0]) == list(COLUMNS)
    assert [r["Event_Type"] for r in rows] == ["Request", "Assessment", "Service"]
    req, asm, svc = rows
    assert (req["Event_Start_Date"], req["Event_Outcome"], req["NHS_Number"], req["Gender"]) == (
        "2026-11-02", "Progress to Assessment", "9434765919", "Male")
    assert (asm["Event_Start_Date"], asm["Event_End_Date"], asm["Eligible_Needs_Identified"],
            asm["Event_Outcome"]) == ("2026-11-02", "2026-11-02", "Yes", "Progress to Support Planning / Services")
    assert (svc["Service_Type"], svc["Service_Component"], svc["Delivery_Mechanism"], svc["Unit_Cost"],
            svc["Cost_Frequency"], svc["Planned_Units_Per_Week"], svc["Event_Reference"]) == (
        "Long Term Support: Community", "Home Support", "CASSR Managed Personal Budget", "21.50", "Hourly", "14",
        "SA-1")
    assert (q3.rows, q3.people, q3.by_event) == (3, 1, {"Request": 1, "Assessment": 1, "Service": 1})
    # the support reason recorded at the needs assessment is on every row of the person
    assert {r["Primary_Support_Reason"] for r in rows} == {"Physical Support: Personal care support"}
    # no contact recorded the route of access: reported against the request, never invented
    assert [(i.field, i.code) for i in q3.issues] == [("Request_Route_of_Access", "cld_not_recorded")]
    assert req["Request_Route_of_Access"] == ""
    assert {i.link for i in q3.issues} == {f"/people/{person.id}"}

    q4 = _rows(build_cld(connection, "2026Q4", la_code="999"))
    assert [r["Event_Type"] for r in q4] == ["Service", "Review"]
    assert (q4[1]["Event_Start_Date"], q4[1]["Review_Outcome"]) == ("2027-01-20", "Change in Care and Support")


def test_field_checks_on_broken_rows():
    row = {c: "" for c in COLUMNS}
    row.update(LA_Code="999", LA_Person_Unique_Identifier="CW1", Gender="Robot", Date_of_Birth="1940-01-01",
               Client_Type="Service User", Event_Type="Service", Event_Reference="SA-9",
               Event_Start_Date="2026-12-01", Event_End_Date="2026-11-01", Unit_Cost="0", NHS_Number="12")
    codes = sorted({(i.field, i.code) for i in validate_row(row, 5)})
    assert ("Gender", "cld_invalid_code") in codes
    assert ("Event_End_Date", "cld_end_before_start") in codes
    assert ("Unit_Cost", "cld_unit_cost_not_positive") in codes
    assert ("NHS_Number", "cld_invalid_nhs_number") in codes
    assert ("Service_Type", "cld_missing") in codes and ("Planned_Units_Per_Week", "cld_missing") in codes


def test_rejected_agreements_and_children_are_left_out(session, connection):
    person = _adult(session)
    _agreement(session, person, status="rejected")
    child = make_child(session, 2)
    make_case(session, child, "CH-0000002")
    ret = build_cld(connection, "2026Q3", la_code="999")
    assert ret.empty and ret.issues == []


def test_empty_quarter_is_a_header_only_file(connection):
    ret = build_cld(connection, "2019Q1", la_code="999")
    assert ret.empty and ret.csv == ",".join(COLUMNS) + "\r\n"


def test_route_of_access_and_support_reason_come_from_the_adults_contact(session, connection, start):
    """The adult's contact (referral-contact, service adults) records the route of access and, if known, the
    support reason; the needs assessment's support reason outranks the contact's."""
    person = _adult(session, nhs="9434765919")
    make_case(session, person, "AD-0000002", service_area="adults")
    r = start("referral", "AD-0000002")
    contact = sample("referral-contact", service="adults", referral_source=None, primary_need=None,
                     route_of_access="discharge_from_hospital", primary_support_reason="memory_cognition")
    r.submit("record_contact", contact, SW)  # as the workspace does: routing fields only
    j = start("care_and_support_plan", "AD-0000002", referral_date="2026-11-02")

    before = build_cld(connection, "2026Q3", la_code="999")
    req = _rows(before)[0]
    assert (req["Event_Type"], req["Request_Route_of_Access"]) == ("Request", "Discharge from hospital")
    assert req["Primary_Support_Reason"] == "Support with Memory and Cognition"
    assert before.issues == []

    j.submit("needs_assessment", sample("care-act-needs-assessment", primary_support_reason="mental_health"), SW)
    after = _rows(build_cld(connection, "2026Q3", la_code="999"))
    assert {r["Primary_Support_Reason"] for r in after} == {"Mental Health Support"}

    # a request before any contact with a route: the gap is reported against the request
    other = _adult(session, 3)
    make_case(session, other, "AD-0000003", service_area="adults")
    start("care_and_support_plan", "AD-0000003", referral_date="2026-11-03")
    issues = {(i.person_id, i.field, i.code) for i in build_cld(connection, "2026Q3", la_code="999").issues}
    assert issues == {(other.id, "Request_Route_of_Access", "cld_not_recorded"),
                      (other.id, "Primary_Support_Reason", "cld_not_recorded")}


def test_contact_form_asks_adults_for_the_route_of_access():
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "forms" / "referral-contact.schema.json").read_text())
    check = jsonschema.Draft202012Validator(schema)
    adult = sample("referral-contact", service="adults", referral_source=None, primary_need=None,
                   route_of_access=None)
    assert [e.message for e in check.iter_errors(adult)] == ["'route_of_access' is a required property"]
    assert not list(check.iter_errors({**adult, "route_of_access": "prison"}))
    assert list(check.iter_errors({**adult, "route_of_access": "by_pigeon"}))
    assert not list(check.iter_errors(sample("referral-contact")))  # children: not asked
