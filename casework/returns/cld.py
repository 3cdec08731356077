"""Adult Social Care Client Level Data (NHS England / DHSC), one CSV per quarter: one row per request,
assessment, service and review event, from the care and support plan process history and finance agreements.

Quarter ``2026Q2`` is the second quarter of the financial year starting April 2026 (1 July-30 September
2026); Q1 is April-June, Q4 January-March of the next calendar year. Field sources and our own field checks:
docs/returns.md. A value casework does not store is left blank and reported as an issue, never invented.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from casework.finance.models import Agreement
from casework.records.models_case import Case
from casework.records.models_person import Person
from casework.returns.common import Issue, as_date, instance_facts, london_date, person_link

COLUMNS = ("LA_Code", "LA_Person_Unique_Identifier", "NHS_Number", "Gender", "Ethnicity", "Date_of_Birth",
           "Date_of_Death", "Client_Type", "Primary_Support_Reason", "Event_Type", "Event_Reference",
           "Event_Start_Date", "Event_End_Date", "Event_Outcome", "Request_Route_of_Access", "Assessment_Type",
           "Eligible_Needs_Identified", "Service_Type", "Service_Component", "Delivery_Mechanism", "Unit_Cost",
           "Cost_Frequency", "Planned_Units_Per_Week", "Review_Reason", "Review_Outcome")

GENDER = {"M": "Male", "F": "Female", "I": "Other", "U": "Unknown"}
SERVICE = {  # finance service type -> (Service_Type, Service_Component)
    "home_care": ("Long Term Support: Community", "Home Support"),
    "residential": ("Long Term Support: Residential Care", "Residential Care"),
    "nursing": ("Long Term Support: Nursing Care", "Nursing Care"),
    "day_care": ("Long Term Support: Community", "Day Care"),
    "day_opportunities": ("Long Term Support: Community", "Day Care"),
    "supported_living": ("Long Term Support: Community", "Supported Living"),
    "respite": ("Short Term Support: Other Short Term", "Short Term Residential Care"),
    "shared_lives": ("Long Term Support: Community", "Shared Lives"),
    "extra_care": ("Long Term Support: Community", "Extra Care Housing"),
    "direct_payment": ("Long Term Support: Community", "Direct Payment"),
    "equipment": ("Long Term Support: Community", "Equipment and Adaptations"),
    "one_off": ("Long Term Support: Community", "Other Long Term Community Support"),
}
DELIVERY = {"service": "CASSR Managed Personal Budget", "direct_payment": "Direct Payment",
            "one_off": "CASSR Commissioned Support only"}
COST_FREQUENCY = {"hour": "Hourly", "day": "Daily", "night": "Daily", "session": "Per Session", "week": "Weekly",
                  "item": "One-off"}
REVIEW_OUTCOME = {"continue": "No change in Care and Support", "revise": "Change in Care and Support",
                  "end": "Support Ended: Other reason"}
EVENT_TYPES = ("Request", "Assessment", "Service", "Review")
SERVICE_STATUSES = ("authorised", "ended")
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")

# Our own field rules (docs/returns.md): columns that must be filled for every row / per event type.
MANDATORY = ("LA_Code", "LA_Person_Unique_Identifier", "Gender", "Date_of_Birth", "Client_Type",
             "Primary_Support_Reason", "Event_Type", "Event_Reference", "Event_Start_Date")
MANDATORY_BY_EVENT = {
    "Request": ("Request_Route_of_Access",),
    "Assessment": ("Assessment_Type",),
    "Service": ("Service_Type", "Service_Component", "Delivery_Mechanism", "Unit_Cost", "Cost_Frequency",
                "Planned_Units_Per_Week"),
    "Review": ("Review_Reason", "Review_Outcome"),
}
# form codes (care-act-needs-assessment / referral-contact) -> DHSC Client Level Data values
PRIMARY_SUPPORT_REASON = {
    "physical_access_mobility": "Physical Support: Access and mobility only",
    "physical_personal_care": "Physical Support: Personal care support",
    "sensory_visual": "Sensory Support: Support for visual impairment",
    "sensory_hearing": "Sensory Support: Support for hearing impairment",
    "sensory_dual": "Sensory Support: Support for dual impairment",
    "memory_cognition": "Support with Memory and Cognition",
    "learning_disability": "Learning Disability Support",
    "mental_health": "Mental Health Support",
    "social_substance_misuse": "Social Support: Substance misuse support",
    "social_asylum_seeker": "Social Support: Asylum seeker support",
    "social_isolation_other": "Social Support: Support for social isolation / other",
}
ROUTE_OF_ACCESS = {
    "discharge_from_hospital": "Discharge from hospital",
    "diversion_from_hospital": "Diversion from hospital services",
    "self_funder_depleted": "Self-funder with depleted funds",
    "planned_entry_transition": "Planned entry (transition)",
    "community_other": "Community / other route",
    "prison": "Prison",
}
NOT_RECORDED = {  # reported once per person (support reason) / per request (route), never invented
    "Primary_Support_Reason": "Primary support reason not recorded by the quarter's end: record it on the Care Act "
                              "needs assessment (or on the adult's contact)",
    "Request_Route_of_Access": "Route of access not recorded: record it on the adult's contact (referral-contact)",
}


def quarter_period(quarter: str) -> tuple[date, date]:
    m = QUARTER.match(quarter)
    if not m:
        raise ValueError("quarter must look like 2026Q2")
    year, q = int(m.group(1)), int(m.group(2))
    first_month = 4 + 3 * (q - 1)
    y = year + (first_month > 12)
    first_month = (first_month - 1) % 12 + 1
    start = date(y, first_month, 1)
    end_month = first_month + 2
    end = date(y, end_month + 1, 1) if end_month < 12 else date(y + 1, 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


@dataclass
class CldReturn:
    quarter: str
    csv: str
    rows: int = 0
    people: int = 0
    by_event: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.rows == 0


def _overlaps(start, end, q_start, q_end) -> bool:
    return start is not None and start <= q_end and (end is None or end >= q_start)


def validate_row(row: dict, person_id: int | None) -> list[Issue]:
    """Our own CLD field checks for one row (mandatory fields, codes, date order, numbers)."""
    out = []
    rec = row["LA_Person_Unique_Identifier"] or ""

    def add(fld, code, msg):
        out.append(Issue(person_id, rec, fld, code, msg, person_link(person_id)))

    for col in MANDATORY + MANDATORY_BY_EVENT.get(row["Event_Type"], ()):
        if row.get(col) in (None, "") and col not in NOT_RECORDED:
            add(col, "cld_missing", f"{row['Event_Type']} {row['Event_Reference']}: {col} is mandatory")
    if row["Event_Type"] not in EVENT_TYPES:
        add("Event_Type", "cld_invalid_code", f"Unknown event type {row['Event_Type']}")
    if row["Gender"] and row["Gender"] not in GENDER.values():
        add("Gender", "cld_invalid_code", f"Unknown gender {row['Gender']}")
    nhs = row.get("NHS_Number")
    if nhs and not (len(nhs) == 10 and nhs.isdigit()):
        add("NHS_Number", "cld_invalid_nhs_number", "NHS number must be 10 digits")
    if row["Event_End_Date"] and row["Event_Start_Date"] and row["Event_End_Date"] < row["Event_Start_Date"]:
        add("Event_End_Date", "cld_end_before_start", f"{row['Event_Reference']}: ends before it starts")
    if row["Date_of_Birth"] and row["Event_Start_Date"] and row["Event_Start_Date"] < row["Date_of_Birth"]:
        add("Event_Start_Date", "cld_event_before_birth", f"{row['Event_Reference']}: before the date of birth")
    if row["Event_Type"] == "Service":
        try:
            if row["Unit_Cost"] not in (None, "") and float(row["Unit_Cost"]) <= 0:
                add("Unit_Cost", "cld_unit_cost_not_positive", "Unit cost must be more than 0")
            if row["Planned_Units_Per_Week"] not in (None, "") and float(row["Planned_Units_Per_Week"]) <= 0:
                add("Planned_Units_Per_Week", "cld_units_not_positive", "Planned units must be more than 0")
        except ValueError:
            add("Unit_Cost", "cld_not_a_number", "Unit cost and planned units must be numbers")
    return out


def build_cld(conn: Connection, quarter: str, *, la_code: str,
              progress: Callable[[int], None] | None = None, total: Callable[[int], None] | None = None) -> CldReturn:
    q_start, q_end = quarter_period(quarter)
    adult_cases = and_(Case.service_area == "adults", Case.opened_on <= q_end,
                       or_(Case.closed_on.is_(None), Case.closed_on >= q_start))
    agreements_in_q = and_(Agreement.status.in_(SERVICE_STATUSES), Agreement.start_date <= q_end,
                           or_(Agreement.end_date.is_(None), Agreement.end_date >= q_start))
    people_q = select(Case.person_id).where(adult_cases).union(select(Agreement.person_id).where(agreements_in_q))
    people = {r["id"]: dict(r) for r in conn.execute(
        select(Person.id, Person.local_id, Person.nhs_number, Person.sex, Person.ethnicity, Person.date_of_birth,
               Person.date_of_death).where(Person.id.in_(people_q)).order_by(Person.id)).mappings()}
    case_person = dict(conn.execute(select(Case.reference, Case.person_id).where(adult_cases)).all())
    rows: list[tuple[int, dict]] = []

    def base(pid: int) -> dict:
        p = people[pid]
        return {"LA_Code": la_code, "LA_Person_Unique_Identifier": p["local_id"] or str(p["id"]),
                "NHS_Number": p["nhs_number"] or "", "Gender": GENDER.get(p["sex"] or "", ""),
                "Ethnicity": p["ethnicity"] or "", "Date_of_Birth": _iso(p["date_of_birth"]),
                "Date_of_Death": _iso(p["date_of_death"]), "Client_Type": "Service User",
                "Primary_Support_Reason": PRIMARY_SUPPORT_REASON.get(support.get(pid, ("", ""))[1], "")}

    facts = instance_facts(conn, ("care_and_support_plan", "referral"), select(Case.reference).where(adult_cases),
                           steps=True)
    plans = [f for f in facts.values() if f.process_key == "care_and_support_plan"]
    contacts: dict[str, list[tuple[date, str | None]]] = {}  # case reference -> (contact date, route code)
    support: dict[int, tuple[str, str]] = {}  # person -> (when, code) of the latest support reason recorded
    for f in facts.values():
        pid = case_person.get(f.business_key or "")
        if f.process_key == "referral":
            for t in f.completed("record_contact"):
                when = as_date(t.values.get("referral_date")) or london_date(t.at)
                if when is not None and when <= q_end:
                    contacts.setdefault(f.business_key or "", []).append((when, t.values.get("route_of_access")))
        tasks = f.completed("needs_assessment") if f.process_key == "care_and_support_plan" else \
            f.completed("record_contact")
        for t in tasks:
            code = t.values.get("primary_support_reason")
            when = london_date(t.at)
            if pid is not None and code and when is not None and when <= q_end:
                # an assessment's reason outranks a contact's; then the later one
                key = f"{int(f.process_key == 'care_and_support_plan')}{t.at.isoformat()}"
                if key > support.get(pid, ("", ""))[0]:
                    support[pid] = (key, code)

    def route(f, requested: date) -> str:
        code = f.get("route_of_access")  # handed over in the start data, if the referral passes it on
        if not code:
            earlier = sorted((c for c in contacts.get(f.business_key or "", []) if c[0] <= requested and c[1]),
                             key=lambda c: c[0])
            code = earlier[-1][1] if earlier else None
        return ROUTE_OF_ACCESS.get(code or "", "")

    for f in plans:
        pid = case_person.get(f.business_key or "")
        if pid is None or pid not in people:
            continue
        requested = as_date(f.start_data.get("referral_date")) or london_date(f.started_at)
        assessed = f.completed("needs_assessment")
        assessed_on = london_date(assessed[-1].at) if assessed else None
        if requested and q_start <= requested <= q_end:
            rows.append((pid, {**base(pid), "Event_Type": "Request", "Event_Reference": f"REQ-{f.instance_id}",
                               "Event_Start_Date": _iso(requested), "Event_End_Date": _iso(requested),
                               "Event_Outcome": "Progress to Assessment",
                               "Request_Route_of_Access": route(f, requested)}))
        if _overlaps(requested, assessed_on, q_start, q_end):
            eligible = f.values.get("eligible")
            outcome = "" if assessed_on is None or assessed_on > q_end else (
                "Progress to Support Planning / Services" if eligible else "No Services Provided: needs not eligible")
            rows.append((pid, {**base(pid), "Event_Type": "Assessment", "Event_Reference": f"ASM-{f.instance_id}",
                               "Event_Start_Date": _iso(requested),
                               "Event_End_Date": _iso(assessed_on) if assessed_on and assessed_on <= q_end else "",
                               "Event_Outcome": outcome, "Assessment_Type": "Long Term Support Needs Assessment",
                               "Eligible_Needs_Identified": "" if eligible is None else ("Yes" if eligible else "No")}))
        for n, t in enumerate(f.completed("review_care_plan"), 1):
            when = as_date(t.values.get("review_date")) or london_date(t.at)
            if when and q_start <= when <= q_end:
                rows.append((pid, {**base(pid), "Event_Type": "Review",
                                   "Event_Reference": f"REV-{f.instance_id}-{n}", "Event_Start_Date": _iso(when),
                                   "Event_End_Date": _iso(when), "Review_Reason": "Planned",
                                   "Event_Outcome": REVIEW_OUTCOME.get(t.values.get("review_outcome") or "", ""),
                                   "Review_Outcome": REVIEW_OUTCOME.get(t.values.get("review_outcome") or "", "")}))
    for a in conn.execute(select(Agreement.id, Agreement.reference, Agreement.person_id, Agreement.kind,
                                 Agreement.service_type, Agreement.unit, Agreement.unit_cost_pence,
                                 Agreement.units_per_week, Agreement.start_date, Agreement.end_date)
                          .where(agreements_in_q).order_by(Agreement.id)).mappings():
        if a["person_id"] not in people:
            continue
        stype, component = SERVICE.get(a["service_type"], ("", ""))
        end = a["end_date"] if a["end_date"] and a["end_date"] <= q_end else None
        rows.append((a["person_id"], {
            **base(a["person_id"]), "Event_Type": "Service", "Event_Reference": a["reference"] or f"SA-{a['id']}",
            "Event_Start_Date": _iso(a["start_date"]), "Event_End_Date": _iso(end),
            "Event_Outcome": "Service ended" if end else "", "Service_Type": stype, "Service_Component": component,
            "Delivery_Mechanism": DELIVERY.get(a["kind"], ""), "Unit_Cost": f"{a['unit_cost_pence'] / 100:.2f}",
            "Cost_Frequency": COST_FREQUENCY.get(a["unit"], ""),
            "Planned_Units_Per_Week": _units(a["units_per_week"])}))

    result = CldReturn(quarter, "")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    if total:
        total(len(rows))
    rows.sort(key=lambda r: (r[0], EVENT_TYPES.index(r[1]["Event_Type"]), r[1]["Event_Start_Date"]))
    seen: set[int] = set()
    for n, (pid, row) in enumerate(rows, 1):
        writer.writerow(row)
        result.by_event[row["Event_Type"]] = result.by_event.get(row["Event_Type"], 0) + 1
        result.issues.extend(validate_row(row, pid))
        if pid not in seen:
            seen.add(pid)
            if not row["Primary_Support_Reason"]:
                result.issues.append(Issue(pid, row["LA_Person_Unique_Identifier"], "Primary_Support_Reason",
                                           "cld_not_recorded", NOT_RECORDED["Primary_Support_Reason"],
                                           person_link(pid)))
        if row["Event_Type"] == "Request" and not row["Request_Route_of_Access"]:
            result.issues.append(Issue(pid, row["LA_Person_Unique_Identifier"], "Request_Route_of_Access",
                                       "cld_not_recorded",
                                       f"{row['Event_Reference']}: {NOT_RECORDED['Request_Route_of_Access']}",
                                       person_link(pid)))
        if progress and n % 1000 == 0:
            progress(1000)
    if progress:
        progress(len(rows) % 1000)
    result.rows, result.people, result.csv = len(rows), len(seen), out.getvalue()
    return result


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _units(value) -> str:
    from decimal import Decimal

    return format(Decimal(str(value)).normalize(), "f")
