"""Children in Need census (DfE, one XML file per collection year) from casework's own records and the
workflow history of the children's processes (referral, childrens_assessment, child_protection).

Collection year Y runs 1 April Y-1 to 31 March Y (Year=Y, ReferenceDate=31 March Y). One ``CINdetails`` per
children's case open at any time in the year. Field sources: docs/returns.md. Nothing is invented: a field
whose data is not stored anywhere queryable is left out and reported as an issue against the child.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from lxml import etree
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from casework.records import codes
from casework.records.models_case import Case
from casework.records.models_person import Person
from casework.returns.common import InstanceFacts, Issue, as_date, instance_facts, london_date, person_link
from engine.calendar import WorkingDayCalendar

CHILD_PROCESSES = ("referral", "childrens_assessment", "child_protection")

REFERRAL_SOURCES = {"1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4", "5A", "5B",
                    "5C", "5D", "6", "7", "8", "9", "10"}
PRIMARY_NEEDS = {f"N{i}" for i in range(1, 10)}
ASSESSMENT_FACTORS = {"1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
                      "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A",
                      "14A", "15A", "16A", "17A", "18A", "18B", "18C", "19A", "19B", "19C", "20", "21", "22A",
                      "23A", "24A"}
CATEGORY_OF_ABUSE = {"neglect": "NEG", "physical": "PHY", "emotional": "EMO", "sexual": "SAB", "multiple": "MUL"}
# case close reason (casework/records/codes.py CASE_CLOSE_REASONS) -> DfE ReasonForClosure
CLOSURE_REASONS = {"adopted": "RC1", "died": "RC2", "moved_away": "RC5", "transferred": "RC5",
                   "age_18": "RC7", "needs_met": "RC7", "other": "RC7", "no_further_action": "RC8"}
NFA_DECISIONS = {"nfa", "information_advice"}
SEX_CODES = {"M": "M", "F": "F", "I": "U", "U": "U"}  # 2025-26 <Sex>
GENDER_CURRENT = {"M": "1", "F": "2", "I": "9", "U": "0"}  # before 2025-26 <GenderCurrent>


UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # the DfE check letters (no I, O, S)


def upn_check_letter(body: str) -> str | None:
    """The check letter for UPN characters 2-13 (DfE: weights 2..13, remainder mod 23)."""
    total = 0
    for weight, ch in zip(range(2, 14), body, strict=True):
        if ch.isdigit():
            total += weight * int(ch)
        elif ch in UPN_LETTERS:
            total += weight * UPN_LETTERS.index(ch)
        else:
            return None
    return UPN_LETTERS[total % 23]


def collection_period(year: int) -> tuple[date, date]:
    return date(year - 1, 4, 1), date(year, 3, 31)


@dataclass
class CinReturn:
    year: int
    xml: bytes
    children: int = 0
    episodes: int = 0
    issues: list[Issue] = field(default_factory=list)
    child_people: dict[str, int] = field(default_factory=dict)  # LAchildID -> person id

    @property
    def empty(self) -> bool:
        return self.children == 0


@dataclass
class _Child:
    person: dict
    cases: list[dict] = field(default_factory=list)


def _d(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sub(parent, tag: str, text: str | None = None):
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _opt(parent, tag: str, value) -> None:
    if value is not None:
        _sub(parent, tag, value if isinstance(value, str) else (
            value.isoformat() if isinstance(value, date) else str(value)))


class _Builder:
    def __init__(self, year: int, la_code: str, calendar: WorkingDayCalendar):
        self.year = year
        self.start, self.end = collection_period(year)
        self.la_code = la_code
        self.calendar = calendar
        self.issues: list[Issue] = []

    def issue(self, person: dict, child_id: str, fld: str, code: str, message: str) -> None:
        self.issues.append(Issue(person["id"], child_id, fld, code, message, person_link(person["id"])))

    # ------------------------------------------------------------------------------------------ child
    def child(self, parent, child: _Child, instances: dict[str, list[InstanceFacts]],
              previous_plans: list[date]) -> int:
        p = child.person
        cid = p["local_id"] or str(p["id"])
        el = _sub(parent, "Child")
        ids = _sub(el, "ChildIdentifiers")
        _sub(ids, "LAchildID", cid)
        if len(cid) > 10:
            self.issue(p, cid, "LAchildID", "cw_la_child_id_too_long", "LAchildID is longer than 10 characters")
        if p["upn"]:
            _sub(ids, "UPN", p["upn"])
            upn = p["upn"]
            if len(upn) != 13 or not upn[1:12].isdigit() or upn_check_letter(upn[1:]) != upn[0]:
                self.issue(p, cid, "UPN", "cw_upn_invalid", f"UPN {upn} fails the DfE check letter")
        else:
            self.issue(p, cid, "UPN", "cw_upn_missing",
                       "No UPN, and the reason it is unknown (UPNunknown UN1-UN10) is not recorded in casework")
        dob = p["date_of_birth"]
        if dob is None:
            self.issue(p, cid, "PersonBirthDate", "cw_birth_date_missing", "Date of birth (or expected) missing")
        elif p["dob_is_expected"]:
            _sub(ids, "ExpectedPersonBirthDate", dob.isoformat())
        else:
            _sub(ids, "PersonBirthDate", dob.isoformat())
        sex = p["sex"]
        if sex not in SEX_CODES:
            self.issue(p, cid, "Sex" if self.year >= 2026 else "GenderCurrent", "cw_sex_missing",
                       "Sex not recorded")
        elif self.year >= 2026:
            _sub(ids, "Sex", SEX_CODES[sex])
        else:
            _sub(ids, "GenderCurrent", GENDER_CURRENT[sex])
        if p["date_of_death"] is not None:
            _sub(ids, "PersonDeathDate", p["date_of_death"].isoformat())
            if dob is not None and p["date_of_death"] < dob:
                self.issue(p, cid, "PersonDeathDate", "cw_death_before_birth", "Date of death before birth")

        chars = _sub(el, "ChildCharacteristics")
        if p["ethnicity"] in codes.ETHNICITY:
            _sub(chars, "Ethnicity", p["ethnicity"])
        else:
            self.issue(p, cid, "Ethnicity", "cw_ethnicity_missing",
                       "Ethnicity not recorded (use NOBT if not yet obtained, REFU if refused)")
        disabilities = [d for d in (p["disabilities"] or []) if d in codes.DISABILITY]
        if disabilities:
            dis = _sub(chars, "Disabilities")
            for code in disabilities:
                _sub(dis, "Disability", code)
            if "NONE" in disabilities and len(disabilities) > 1:
                self.issue(p, cid, "Disability", "cw_disability_none_with_others",
                           "NONE recorded together with a disability")
        else:
            self.issue(p, cid, "Disability", "cw_disability_missing",
                       "Disability not recorded (record NONE if the child has none)")

        episodes = 0
        for case in child.cases:
            self.cin_details(el, p, cid, case, instances.get(case["reference"], []), previous_plans)
            episodes += 1
        return episodes

    # ------------------------------------------------------------------------------------------ episode
    def cin_details(self, parent, p: dict, cid: str, case: dict, facts: list[InstanceFacts],
                    previous_plans: list[date]) -> None:
        by_key: dict[str, list[InstanceFacts]] = defaultdict(list)
        for f in facts:
            by_key[f.process_key].append(f)
        referral = by_key["referral"][-1] if by_key["referral"] else None
        el = _sub(parent, "CINdetails")

        referral_date = as_date(referral.get("referral_date")) if referral else None
        if referral_date is None:
            referral_date = next((as_date(f.start_data.get("referral_date")) for f in facts
                                  if as_date(f.start_data.get("referral_date"))), None) or case["opened_on"]
        _sub(el, "CINreferralDate", referral_date.isoformat())
        if p["date_of_birth"] and not p["dob_is_expected"] and referral_date < p["date_of_birth"]:
            self.issue(p, cid, "CINreferralDate", "cw_referral_before_birth", "Referral date before the birth")
        self._code(el, p, cid, "ReferralSource", referral.get("referral_source") if referral else None,
                   REFERRAL_SOURCES, "referral_source", "referral-contact")
        self._code(el, p, cid, "PrimaryNeedCode", referral.get("primary_need") if referral else None,
                   PRIMARY_NEEDS, "primary_need", "referral-contact")
        closed = case["closed_on"] if case["closed_on"] and case["closed_on"] <= self.end else None
        if closed is not None:
            _sub(el, "CINclosureDate", closed.isoformat())
            reason = CLOSURE_REASONS.get(case["close_reason"] or "")
            if reason:
                _sub(el, "ReasonForClosure", reason)
            else:
                self.issue(p, cid, "ReasonForClosure", "cw_closure_reason_missing",
                           f"Case {case['reference']} closed without a reason")
            if closed < referral_date:
                self.issue(p, cid, "CINclosureDate", "cw_closure_before_referral",
                           f"Case {case['reference']} closed before the referral date")

        # an ICPC that followed a section 47 is reported in <Section47> only (DfE rule 2884)
        plans = [f for f in by_key["child_protection"] if f.get("icpc_date")
                 and f.get("strategy_outcome") != "section_47"]
        icpc_dates = [d for d in (as_date(f.get("icpc_date")) for f in plans) if d and self.start <= d <= self.end]
        if icpc_dates:
            _sub(el, "DateOfInitialCPC", max(icpc_dates).isoformat())

        decision = referral.get("decision") if referral else None
        if decision is not None:
            _sub(el, "ReferralNFA", "true" if decision in NFA_DECISIONS else "false")
        elif by_key["childrens_assessment"] or by_key["child_protection"]:
            _sub(el, "ReferralNFA", "false")
        else:
            self.issue(p, cid, "ReferralNFA", "cw_referral_decision_missing",
                       f"No referral decision recorded for case {case['reference']}")

        self.assessments(el, p, cid, by_key["childrens_assessment"])
        self.cin_plans(el, p, cid, case, by_key)
        self.section47(el, p, cid, by_key["child_protection"])
        self.protection_plans(el, p, cid, by_key["child_protection"], previous_plans)

    def _code(self, el, p, cid, tag, value, allowed, var, form) -> None:
        if value is None:
            self.issue(p, cid, tag, f"cw_{var}_not_recorded",
                       f"{tag}: '{var}' (form {form}) is not in the workflow history (the form does not pass it "
                       "to the engine; it is kept only as text in the chronology)")
        elif str(value) not in allowed:
            self.issue(p, cid, tag, f"cw_{var}_invalid", f"{tag}: '{value}' is not a census code")
        else:
            _sub(el, tag, str(value))

    def assessments(self, parent, p, cid, facts: list[InstanceFacts]) -> None:
        rows = []
        for f in facts:
            started = as_date(f.get("allocation_date")) or london_date(f.started_at)
            authorised = [t for t in f.completed("authorise_assessment")
                          if t.values.get("authorisation") == "authorise"]
            auth_date = london_date(authorised[-1].at) if authorised else None
            if started is None or started > self.end or (auth_date is not None and auth_date < self.start):
                continue
            rows.append((f, started, auth_date))
        if not rows:
            return
        for f, started, auth_date in rows:  # the DfE layout repeats <Assessments>, one per assessment
            a = _sub(parent, "Assessments")
            _sub(a, "AssessmentActualStartDate", started.isoformat())
            if auth_date is not None and auth_date <= self.end:
                _sub(a, "AssessmentAuthorisationDate", auth_date.isoformat())
                if auth_date < started:
                    self.issue(p, cid, "AssessmentAuthorisationDate", "cw_assessment_authorised_before_start",
                               "Assessment authorised before it started")
                factors = f.get("assessment_factors")
                if factors is None:
                    self.issue(p, cid, "AssessmentFactors", "cw_assessment_factors_not_recorded",
                               "Factors identified at assessment (form single-assessment) are not in the workflow "
                               "history (kept only as text in the chronology)")
                else:
                    good = [x for x in factors if x in ASSESSMENT_FACTORS]
                    bad = [x for x in factors if x not in ASSESSMENT_FACTORS]
                    if bad:
                        self.issue(p, cid, "AssessmentFactors", "cw_assessment_factor_invalid",
                                   f"Not census factor codes: {', '.join(map(str, bad))}")
                    fbox = _sub(a, "FactorsIdentifiedAtAssessment")
                    for x in good:
                        _sub(fbox, "AssessmentFactors", x)

    def cin_plans(self, parent, p, cid, case, by_key) -> None:
        """A CIN plan starts when an assessment is authorised with outcome cin_plan, or when a child protection
        plan ends stepping down to CIN; it ends when the case closes."""
        starts = []
        for f in by_key["childrens_assessment"]:
            for t in f.completed("authorise_assessment"):
                outcome = t.values.get("outcome") or f.get("outcome")
                if t.values.get("authorisation") == "authorise" and outcome == "cin_plan":
                    starts.append(london_date(t.at))
        for f in by_key["child_protection"]:
            if f.get("end_reason") == "step_down_cin" and as_date(f.get("plan_end_date")):
                starts.append(as_date(f.get("plan_end_date")))
            starts.extend(self._cin_plan_after_no_plan(f))
        cp_starts = sorted(d for d in (as_date(f.get("icpc_date")) for f in by_key["child_protection"]
                                        if f.get("icpc_outcome") == "plan") if d is not None)
        for start in sorted(d for d in starts if d is not None):
            # a CIN plan ends when a child protection plan starts (never concurrent: DfE 4001/4017) or the case
            # closes
            ends = [d for d in cp_starts if d >= start] + ([case["closed_on"]] if case["closed_on"] else [])
            end = min(ends) if ends else None
            if start > self.end or (end is not None and end < self.start):
                continue
            box = _sub(parent, "CINPlanDates")
            _sub(box, "CINPlanStartDate", start.isoformat())
            if end is not None and end <= self.end:
                _sub(box, "CINPlanEndDate", end.isoformat())

    @staticmethod
    def _cin_plan_after_no_plan(f: InstanceFacts) -> list[date]:
        """child_protection.bpmn ("Route: no plan"): a child whose authorised assessment led to the enquiry goes on
        to a child in need plan when a manager confirms no conference is needed, or the conference makes no plan
        (a child not yet assessed gets an assessment instead). The plan starts on that confirmation or conference."""
        if not f.start_data.get("assessment_outcome"):
            return []
        if f.get("icpc_outcome") == "no_plan" and as_date(f.get("icpc_date")):
            return [as_date(f.get("icpc_date"))]
        if f.get("enquiry_outcome") == "no_icpc":
            agreed = [t for t in f.completed("confirm_no_conference") if t.values.get("confirm") == "agree"]
            return [london_date(agreed[-1].at)] if agreed else []
        return []

    def section47(self, parent, p, cid, facts: list[InstanceFacts]) -> None:
        for f in facts:
            if f.get("strategy_outcome") != "section_47":
                continue
            strategy = as_date(f.get("strategy_discussion_date"))
            started = as_date(f.get("enquiry_start_date"))
            icpc = as_date(f.get("icpc_date"))
            anchor = started or strategy
            if anchor is None or anchor > self.end or (icpc is not None and icpc < self.start):
                continue
            box = _sub(parent, "Section47")
            if started is not None:
                _sub(box, "S47ActualStartDate", started.isoformat())
            else:
                self.issue(p, cid, "S47ActualStartDate", "cw_s47_start_not_recorded",
                           "Section 47 start date (form section-47-enquiry, enquiry_start_date) is not in the "
                           "workflow history (kept only as text in the chronology)")
            if strategy is not None:
                _sub(box, "InitialCPCtarget", self.calendar.working_days_after(strategy, 15).isoformat())
            outcome = f.get("enquiry_outcome")
            if icpc is not None:
                _sub(box, "DateOfInitialCPC", icpc.isoformat())
                if started is not None and icpc < started:
                    self.issue(p, cid, "DateOfInitialCPC", "cw_icpc_before_s47", "ICPC before the section 47 start")
            if outcome is not None:
                _sub(box, "ICPCnotRequired", "false" if outcome == "icpc" else "true")

    def protection_plans(self, parent, p, cid, facts: list[InstanceFacts], previous_plans: list[date]) -> None:
        rows = []
        for f in facts:
            if f.get("icpc_outcome") != "plan":
                continue
            start = as_date(f.get("icpc_date"))
            end = as_date(f.get("plan_end_date"))
            if start is None or start > self.end or (end is not None and end < self.start):
                continue
            rows.append((f, start, end if end is not None and end <= self.end else None))
        if not rows:
            return
        for f, start, end in rows:  # the DfE layout repeats <ChildProtectionPlans>, one per plan
            plan = _sub(parent, "ChildProtectionPlans")
            _sub(plan, "CPPstartDate", start.isoformat())
            if end is not None:
                _sub(plan, "CPPendDate", end.isoformat())
                if end < start:
                    self.issue(p, cid, "CPPendDate", "cw_cpp_end_before_start", "Plan ends before it starts")
            icpc_tasks = f.completed("record_icpc")
            initial = next((t.values.get("category_of_abuse") for t in icpc_tasks
                            if t.values.get("category_of_abuse")), None)
            latest = f.get("category_of_abuse")
            if initial in CATEGORY_OF_ABUSE:
                _sub(plan, "InitialCategoryOfAbuse", CATEGORY_OF_ABUSE[initial])
            else:
                self.issue(p, cid, "InitialCategoryOfAbuse", "cw_category_of_abuse_missing",
                           "No category of abuse recorded at the initial conference")
            if latest in CATEGORY_OF_ABUSE:
                _sub(plan, "LatestCategoryOfAbuse", CATEGORY_OF_ABUSE[latest])
            _sub(plan, "NumberOfPreviousCPP", str(sum(1 for d in previous_plans if d < start)))
            reviews = sorted({d for d in (as_date(t.values.get("review_date")) for t in f.completed("record_review"))
                              if d is not None and d <= self.end})
            for d in reviews:  # one <Reviews> per review
                _sub(_sub(plan, "Reviews"), "CPPreviewDate", d.isoformat())
                if d < start:
                    self.issue(p, cid, "CPPreviewDate", "cw_review_before_plan", "Review before the plan start")


PERSON_COLUMNS = (Person.id, Person.local_id, Person.upn, Person.date_of_birth, Person.dob_is_expected,
                  Person.date_of_death, Person.sex, Person.ethnicity, Person.disabilities)


def build_cin(conn: Connection, year: int, *, la_code: str, software_code: str = "casework",
              release: str = "1", serial_no: int = 1, now: datetime | None = None,
              calendar: WorkingDayCalendar | None = None,
              progress: Callable[[int], None] | None = None, total: Callable[[int], None] | None = None) -> CinReturn:
    """The census for collection year `year` (Year element; 1 April year-1 to 31 March year)."""
    start, end = collection_period(year)
    builder = _Builder(year, la_code, calendar or WorkingDayCalendar())
    in_year = and_(Case.service_area == "children", Case.opened_on <= end,
                   or_(Case.closed_on.is_(None), Case.closed_on >= start))
    persons_in_year = select(Case.person_id).where(in_year)
    # every children's case of those children (earlier plans count towards NumberOfPreviousCPP)
    case_rows = conn.execute(
        select(Case.id, Case.reference, Case.person_id, Case.opened_on, Case.closed_on, Case.close_reason,
               and_(Case.opened_on <= end, or_(Case.closed_on.is_(None), Case.closed_on >= start)).label("in_year"))
        .where(Case.service_area == "children", Case.person_id.in_(persons_in_year))
        .order_by(Case.person_id, Case.opened_on, Case.id)).mappings().all()
    children: dict[int, _Child] = {}
    for row in conn.execute(select(*PERSON_COLUMNS).where(Person.id.in_(persons_in_year))
                            .order_by(Person.id)).mappings():
        children[row["id"]] = _Child(dict(row))
    ref_person: dict[str, int] = {}
    for row in case_rows:
        ref_person[row["reference"]] = row["person_id"]
        if row["in_year"] and row["person_id"] in children:
            children[row["person_id"]].cases.append(dict(row))
    if total:
        total(len(children))

    refs = select(Case.reference).where(Case.service_area == "children", Case.person_id.in_(persons_in_year))
    by_ref: dict[str, list[InstanceFacts]] = defaultdict(list)
    plans_by_person: dict[int, list[date]] = defaultdict(list)
    for facts in instance_facts(conn, CHILD_PROCESSES, refs).values():
        by_ref[facts.business_key or ""].append(facts)
        if facts.process_key == "child_protection" and facts.get("icpc_outcome") == "plan":
            d = as_date(facts.get("icpc_date"))
            if d is not None and facts.business_key in ref_person:
                plans_by_person[ref_person[facts.business_key]].append(d)

    root = etree.Element("Message")
    header = _sub(root, "Header")
    coll = _sub(header, "CollectionDetails")
    _sub(coll, "Collection", "CIN")
    _sub(coll, "Year", str(year))
    _sub(coll, "ReferenceDate", end.isoformat())
    source = _sub(header, "Source")
    _sub(source, "SourceLevel", "L")
    _sub(source, "LEA", la_code)
    _sub(source, "SoftwareCode", software_code)
    _sub(source, "Release", release)
    _sub(source, "SerialNo", str(serial_no))
    _sub(source, "DateTime", (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
         .isoformat())
    box = _sub(root, "Children")
    result = CinReturn(year, b"")
    if not (len(la_code) == 3 and la_code.isdigit()):
        builder.issues.append(Issue(None, "", "LEA", "cw_la_code_invalid", "LEA must be the 3-digit LA code"))
    for n, child in enumerate(children.values(), 1):
        result.child_people[child.person["local_id"] or str(child.person["id"])] = child.person["id"]
        result.episodes += builder.child(box, child, by_ref, sorted(plans_by_person.get(child.person["id"], [])))
        result.children += 1
        if progress and n % 500 == 0:
            progress(500)
    if progress:
        progress(result.children % 500)
    result.issues = builder.issues
    result.xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return result
