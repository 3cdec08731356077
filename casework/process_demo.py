"""Demo data: people at every stage of each bundled process.

For each process a few demo cases get an instance driven through the real engine with the example answers
(casework/process_samples.py), stopping after 0, 1, 2... completed steps, so the inboxes, team queues,
approvals and case views all have something to show. Completions go through the engine exactly as the
workspace does: the form is validated, the engine gets only the form's routing fields.

Children's cases follow whole stories (CHILD_STORIES: referral, assessment, child protection on the same case,
with the answers a social worker would give; a process that an earlier one starts through connector
casework.start_process, e.g. the assessment a strategy discussion decides on, is driven, never started by
hand), so the demo's Children in Need census for the collection year of the sample dates (2026-27,
`casework returns cin --year 2027`) is complete and passes the DfE's rules with no issue: each demo child has
a UPN, ethnicity and disability recorded, every assessment is authorised (an unauthorised one is DfE query
8670Q at the year's reference date) and every section 47 reaches its conference (8675Q). Contacts still in
progress are adults' referrals, outside the census.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.models import Team, User
from casework.auth.access import Actor
from casework.demo import DemoStep, register_demo_step
from casework.process_samples import sample
from casework.records.models_case import Case, CaseProcess
from casework.records.models_person import Person
from casework.records.service_case import attach_process, open_case

# Who does each role's work in the demo, per service area (see casework/demo.py DEMO_USERS).
DEMO_ROLE_USERS = {
    "children": {"practitioner": "sam.worker", "team_manager": "morgan.manager", "head_of_service": "chris.head",
                 "finance_officer": "fin.officer"},
    "adults": {"practitioner": "priya.adults", "team_manager": "jo.adultsmanager",
               "head_of_service": "chris.head", "finance_officer": "fin.officer"},
}


@dataclass(frozen=True)
class DemoJourney:
    process_key: str
    service_area: str
    stages: tuple[int, ...]  # completed steps at which each demo instance stops
    start_data: Callable[[Case], dict[str, Any]] = lambda case: {}
    # form -> overrides of the examples; a list gives the overrides of each completion of that form in turn
    answers: dict[str, Any] = field(default_factory=dict)
    until: str | None = None  # instead of counting steps: complete tasks until this task has been completed
    started_by_model: bool = False  # an earlier process of the story starts it (casework.start_process): drive that one


ADULT_CONTACT = {"service": "adults", "referral_source": None, "primary_need": None,
                 "route_of_access": "discharge_from_hospital", "primary_support_reason": "memory_cognition",
                 "concerns": "Ward asks for support at home after a fall; daughter says she is not eating."}
JOURNEYS = (
    # contacts still being handled: adults (a child's undecided contact would be an incomplete census episode)
    DemoJourney("referral", "adults", (0, 1, 2), answers={"referral-contact": ADULT_CONTACT}),
    DemoJourney("care_and_support_plan", "adults", (0, 1, 2, 3),
                start_data=lambda case: {"referral_date": case.opened_on.isoformat(), "person_id": case.person_id}),
    DemoJourney("payment_authorisation", "adults", (0, 1, 2),
                start_data=lambda case: {"person_id": case.person_id},
                answers={"payment-request": {"provider_id": "SUP-10231"}}),
)


def _child_start(case: Case) -> dict[str, Any]:
    return {"referral_date": SAMPLE_REFERRAL_DATE}


SAMPLE_REFERRAL_DATE = "2026-11-02"  # process_samples: the demo children's referral date (census year 2026-27)
CP_LEAD = {"icpc-outcome": {"lead_social_worker": "alex.worker"}}
ALLOCATE = {"assessment-allocation": {"allocated_worker": "sam.worker"}}
MAX_STEPS = 30  # a story's process runs to its `until` task (or its end), overdue reviews on the way included
RETURNED = {"authorisation": "return", "outcome": None, "manager_comments": "Add the school's views, please."}


def _referral(until: str, decision: str, team: str) -> DemoJourney:
    return DemoJourney("referral", "children", (MAX_STEPS,), until=until, answers={
        "referral-contact": {"service": "children", "referral_date": SAMPLE_REFERRAL_DATE},
        "referral-decision": {"decision": decision, "allocated_team": team}})


def _assessment(outcome: str, returned: int = 0, *, started_by_model: bool = False) -> DemoJourney:
    """Allocated, child seen, completed and authorised (after being returned `returned` times). Started by hand
    (from the case view) unless `started_by_model`: then the instance an earlier step started is driven."""
    authorise = {"authorisation": "authorise", "outcome": outcome}
    return DemoJourney("childrens_assessment", "children", (MAX_STEPS,), start_data=_child_start,
                       answers={**ALLOCATE, "assessment-authorisation": [RETURNED] * returned + [authorise]},
                       started_by_model=started_by_model)


def _protection(until: str, **answers: dict[str, Any]) -> DemoJourney:
    return DemoJourney("child_protection", "children", (MAX_STEPS,), until=until, start_data=_child_start,
                       answers={**CP_LEAD, **answers})


# One story per demo children's case: (journey with one stage) in the order they are started.
CHILD_STORIES: tuple[tuple[DemoJourney, ...], ...] = (
    # disclosure of physical harm: strategy discussion, section 47, conference -> child protection plan
    (_referral("record_feedback", "strategy_discussion", "cp-east"), _protection("record_core_group"),
     _assessment("section_47")),
    # low mood at home: assessment -> child in need plan
    (_referral("record_feedback", "childrens_assessment", "cin-east"), _assessment("cin_plan")),
    # neglect: plan made at conference; the assessment was returned once before it was authorised
    (_referral("referral_decision", "strategy_discussion", "cp-east"),
     _protection("record_icpc", **{"icpc-outcome": {**CP_LEAD["icpc-outcome"], "category_of_abuse": "neglect"}}),
     _assessment("section_47", returned=1)),
    # strategy discussion decides a single assessment is enough (child protection starts it for the case);
    # assessment returned twice -> CIN plan
    (_referral("referral_decision", "strategy_discussion", "cp-east"),
     _protection("strategy_discussion", **{"strategy-discussion": {"strategy_outcome": "single_assessment"}}),
     _assessment("cin_plan", returned=2, started_by_model=True)),
)

# 8 digits after the LA number: establishment 4, year 2, serial 3 (with the LA's 3 digits: UPN characters 2-13)
DEMO_UPN_LA = "201"


def demo_upn(person_id: int) -> str:
    from casework.returns.cin import upn_check_letter

    body = f"{DEMO_UPN_LA}4000{26:02d}{person_id % 1000:03d}"
    return upn_check_letter(body) + body


def _census_characteristics(person: Person | None) -> None:
    """What the social worker records on a child's record during the assessment (census characteristics)."""
    if person is None:
        return
    if not person.upn:
        person.upn = demo_upn(person.id)
    if not person.disabilities:
        person.disabilities = ["NONE"]


def _schema(forms_dir: Path, form: str) -> dict[str, Any]:
    return json.loads((forms_dir / f"{form}.schema.json").read_text())


def _answers(journey: DemoJourney, form: str, done: dict[str, int]) -> dict[str, Any]:
    overrides = journey.answers.get(form, {})
    if isinstance(overrides, list):
        n = done.get(form, 0)
        overrides = overrides[min(n, len(overrides) - 1)]
    done[form] = done.get(form, 0) + 1
    return sample(form, **overrides)


def drive(session: Session, case: Case, journey: DemoJourney, steps: int, *, forms_dir: Path) -> int:
    """Start `journey` on `case` and complete up to `steps` tasks; returns how many were completed."""
    from casework.engine_host import get_engine, operation_session
    from engine.schema import process_instance

    engine = get_engine()
    users = DEMO_ROLE_USERS[journey.service_area]
    conn = session.connection()
    with operation_session(session):
        # a process an earlier one started for this case (e.g. the referral's decision) is driven, not duplicated
        instance_id = conn.execute(select(process_instance.c.id).where(
            process_instance.c.business_key == case.reference, process_instance.c.process_key == journey.process_key,
            process_instance.c.status == "running").order_by(process_instance.c.id).limit(1)).scalar_one_or_none()
        if instance_id is None and journey.started_by_model:
            raise RuntimeError(f"Demo story: {journey.process_key} should have been started for {case.reference} "
                               "by the process before it (casework.start_process); check the model")
        if instance_id is None:
            instance_id = engine.start(conn, journey.process_key, business_key=case.reference,
                                       data=journey.start_data(case), actor=users["practitioner"]).instance_id
        if not any(link.instance_id == instance_id for link in case.processes):
            attach_process(session, case, instance_id=instance_id, process_key=journey.process_key)
        done = 0
        per_form: dict[str, int] = {}
        while done < steps:
            items = [i for i in engine.work_items_for(conn, instance_id) if i["form"]]
            if not items:
                break
            item = items[0]
            schema = _schema(forms_dir, item["form"])
            answers = _answers(journey, item["form"], per_form)
            jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(answers)
            routing = schema.get("x-routing-fields")
            data = {k: answers.get(k) for k in routing} if isinstance(routing, list) else answers
            actor = item["assignee"] or users.get(item["role"] or "", users["practitioner"])
            engine.complete_task(conn, item["id"], data, actor)
            done += 1
            if journey.until and item["task_spec"] == journey.until:
                break
    return done


DEMO_TEAMS = {"children": ("cin-east", "sam.worker"), "adults": ("adults-north", "priya.adults")}


def _demo_cases(session: Session, journey: DemoJourney, count: int) -> list[Case]:
    """Open cases of the right service area without this process yet; opens new ones for suitable people
    (children under 18, adults 18 and over, not sealed, alive) when the population has too few."""
    area = journey.service_area
    cases = [case for case in session.scalars(
        select(Case).where(Case.service_area == area, Case.status == "open").order_by(Case.id))
        if not any(link.process_key == journey.process_key for link in case.processes)][:count]
    if len(cases) >= count:
        return cases
    team_code, worker_name = DEMO_TEAMS[area]
    worker = session.scalar(select(User).where(User.username == worker_name))
    team = session.scalar(select(Team).where(Team.code == team_code))
    if worker is None or team is None:
        return cases
    actor = Actor.from_user(worker)
    adult_born_by = date.today().replace(year=date.today().year - 18)
    age = Person.date_of_birth > adult_born_by if area == "children" else Person.date_of_birth <= adult_born_by
    with_open_case = select(Case.person_id).where(Case.service_area == area, Case.status == "open")
    people = session.scalars(select(Person).where(
        age, Person.restricted.is_(False), Person.date_of_death.is_(None), Person.id.not_in(with_open_case))
        .order_by(Person.id).limit(count - len(cases)))
    for person in people:
        cases.append(open_case(session, actor, person, {
            "service_area": area, "open_reason": "referral", "team_id": team.id, "worker_id": worker.id,
            "summary": "Demo case"}))
    return cases


def _driven(session: Session, journey: DemoJourney) -> bool:
    """An earlier `casework demo` drove this process in this service area."""
    return bool(session.scalar(select(func.count()).select_from(CaseProcess).join(Case, Case.id == CaseProcess.case_id)
                               .where(CaseProcess.process_key == journey.process_key,
                                      Case.service_area == journey.service_area)))


def run(session: Session, people: int, echo: Callable[[str], None]) -> None:
    from engine.schema import process_definition

    settings = current_app.config["SETTINGS"]
    forms_dir = Path(settings.forms_dir)
    published = set(session.execute(select(process_definition.c.process_key)).scalars())
    wanted = {j.process_key for j in JOURNEYS} | {j.process_key for s in CHILD_STORIES for j in s}
    missing = sorted(wanted - published)
    for key in missing:
        echo(f"Demo: {key} is not published (run casework init first); skipped")
    started = 0
    stories = [s for s in CHILD_STORIES if all(j.process_key in published for j in s)]
    if stories and not _driven(session, stories[0][0]):
        story_cases = _demo_cases(session, stories[0][0], len(stories))
        for case, story in zip(story_cases, stories, strict=False):
            _census_characteristics(session.get(Person, case.person_id))
            for journey in story:
                drive(session, case, journey, journey.stages[0], forms_dir=forms_dir)
                started += 1
    for journey in JOURNEYS:
        if journey.process_key in missing or _driven(session, journey):
            continue
        for case, steps in zip(_demo_cases(session, journey, len(journey.stages)), journey.stages, strict=False):
            drive(session, case, journey, steps, forms_dir=forms_dir)
            started += 1
    claimed = _claim_for_demo_workers(session)
    echo(f"Demo: {started} process instances at different stages; {claimed} tasks claimed into practitioners' "
         "My work")


# Demo practitioners take some of their teams' waiting work, so My work is not empty on first sign-in.
DEMO_CLAIMS = (("sam.worker", ("mash", "cin-east"), 2), ("alex.worker", ("cp-east",), 1),
               ("priya.adults", ("adults-north",), 2))


def _claim_for_demo_workers(session: Session) -> int:
    from casework.engine_host import get_engine, operation_session
    from engine.schema import work_item

    engine, conn, claimed = get_engine(), session.connection(), 0
    with operation_session(session):
        for username, teams, count in DEMO_CLAIMS:
            has_work = conn.execute(select(work_item.c.id).where(
                work_item.c.status == "open", work_item.c.assignee == username).limit(1)).first()
            if has_work is not None:  # a second `casework demo` claims nothing more
                continue
            waiting = conn.execute(select(work_item.c.id).where(
                work_item.c.status == "open", work_item.c.assignee.is_(None), work_item.c.team.in_(teams),
                work_item.c.role == "practitioner").order_by(work_item.c.due_at, work_item.c.id).limit(count))
            for item_id in waiting.scalars().all():
                engine.claim(conn, item_id, username)
                claimed += 1
    return claimed


register_demo_step(DemoStep("processes", run=run, order=400))
