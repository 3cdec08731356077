"""Demo data: people at every stage of each bundled process.

For each process a few demo cases get an instance driven through the real engine with the example answers
(casework/process_samples.py), stopping after 0, 1, 2... completed steps, so the inboxes, team queues,
approvals and case views all have something to show. Completions go through the engine exactly as the
workspace does: the form is validated, the engine gets only the form's routing fields.
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
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # form -> overrides of the examples


JOURNEYS = (
    DemoJourney("referral", "children", (0, 1, 2, 4),
                answers={"referral-contact": {"service": "children"}}),
    DemoJourney("childrens_assessment", "children", (0, 1, 2, 3),
                start_data=lambda case: {"referral_date": case.opened_on.isoformat()},
                answers={"assessment-allocation": {"allocated_worker": "sam.worker"}}),
    DemoJourney("child_protection", "children", (0, 1, 2, 4),
                start_data=lambda case: {"referral_date": case.opened_on.isoformat()},
                answers={"icpc-outcome": {"lead_social_worker": "alex.worker"}}),
    DemoJourney("care_and_support_plan", "adults", (0, 1, 2, 3),
                start_data=lambda case: {"referral_date": case.opened_on.isoformat()}),
    DemoJourney("payment_authorisation", "adults", (0, 1, 2),
                start_data=lambda case: {"person_id": case.person_id},
                answers={"payment-request": {"provider_id": "SUP-10231"}}),
)


def _schema(forms_dir: Path, form: str) -> dict[str, Any]:
    return json.loads((forms_dir / f"{form}.schema.json").read_text())


def drive(session: Session, case: Case, journey: DemoJourney, steps: int, *, forms_dir: Path) -> int:
    """Start `journey` on `case` and complete up to `steps` tasks; returns how many were completed."""
    from casework.engine_host import get_engine, operation_session

    engine = get_engine()
    users = DEMO_ROLE_USERS[journey.service_area]
    conn = session.connection()
    with operation_session(session):
        result = engine.start(conn, journey.process_key, business_key=case.reference,
                              data=journey.start_data(case), actor=users["practitioner"])
        attach_process(session, case, instance_id=result.instance_id, process_key=journey.process_key)
        done = 0
        while done < steps:
            items = [i for i in engine.work_items_for(conn, result.instance_id) if i["form"]]
            if not items:
                break
            item = items[0]
            schema = _schema(forms_dir, item["form"])
            answers = sample(item["form"], **journey.answers.get(item["form"], {}))
            jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(answers)
            routing = schema.get("x-routing-fields")
            data = {k: answers.get(k) for k in routing} if isinstance(routing, list) else answers
            actor = item["assignee"] or users.get(item["role"] or "", users["practitioner"])
            engine.complete_task(conn, item["id"], data, actor)
            done += 1
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


def run(session: Session, people: int, echo: Callable[[str], None]) -> None:
    from engine.schema import process_definition

    settings = current_app.config["SETTINGS"]
    published = set(session.execute(select(process_definition.c.process_key)).scalars())
    started = 0
    for journey in JOURNEYS:
        if journey.process_key not in published:
            echo(f"Demo: {journey.process_key} is not published (run casework init first); skipped")
            continue
        already = session.scalar(select(func.count()).select_from(CaseProcess)
                                 .where(CaseProcess.process_key == journey.process_key)) or 0
        if already:
            continue  # an earlier `casework demo` drove this process
        for case, steps in zip(_demo_cases(session, journey, len(journey.stages)), journey.stages, strict=False):
            drive(session, case, journey, steps, forms_dir=Path(settings.forms_dir))
            started += 1
    echo(f"Demo: {started} process instances at different stages")


register_demo_step(DemoStep("processes", run=run, order=400))
