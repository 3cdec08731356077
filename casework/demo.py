"""Demo data: teams and users for every role; other modules register further steps (people, cases...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import Team, User
from casework.accounts.service import create_team, create_user

DEMO_PASSWORD = "casework-demo-2026"

DEMO_TEAMS = [
    ("mash", "Children's Front Door (MASH)", "children"),
    ("cin-east", "Children in Need – East", "children"),
    ("cp-east", "Child Protection – East", "children"),
    ("adults-north", "Adults Locality North", "adults"),
    ("finance", "Social Care Finance", "finance"),
]
# username, name, roles, teams, manages
DEMO_USERS = [
    ("sam.worker", "Sam Okafor", ["practitioner"], ["mash", "cin-east"], []),
    ("alex.worker", "Alex Green", ["practitioner"], ["cin-east", "cp-east"], []),
    ("priya.adults", "Priya Shah", ["practitioner"], ["adults-north"], []),
    ("morgan.manager", "Morgan Ellis", ["team_manager"], [], ["mash", "cin-east", "cp-east"]),
    ("jo.adultsmanager", "Jo Patel", ["team_manager"], [], ["adults-north"]),
    ("chris.head", "Chris Lowe", ["head_of_service"], [], ["mash", "cin-east", "cp-east", "adults-north"]),
    ("fin.officer", "Fran Idowu", ["finance_officer"], ["finance"], []),
    ("casey.config", "Casey Moore", ["configurator"], [], []),
    ("robin.config", "Robin Hart", ["configurator"], [], []),
    ("ade.admin", "Ade Bello", ["administrator"], [], []),
    ("ig.officer", "Indira Grant", ["ig_officer"], [], []),
]


@dataclass(frozen=True)
class DemoStep:
    name: str
    run: Callable[[Session, int, Callable[[str], None]], None]  # (session, people, echo)
    order: int = 100


_steps: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> None:
    if all(s.name != step.name for s in _steps):
        _steps.append(step)
        _steps.sort(key=lambda s: s.order)


def load_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo teams and users if missing; returns (username, name, roles) rows."""
    for code, name, area in DEMO_TEAMS:
        if session.scalar(select(Team).where(Team.code == code)) is None:
            create_team(session, code=code, name=name, service_area=area)
    rows = []
    for username, name, roles, teams, manages in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            create_user(session, username=username, display_name=name, password=DEMO_PASSWORD, roles=roles,
                        teams=teams, manages=manages, check_rules=False)
        rows.append((username, name, ", ".join(roles)))
    return rows


def run_demo(session: Session, *, people: int, echo: Callable[[str], None]) -> list[tuple[str, str, str]]:
    rows = load_demo_accounts(session)
    session.flush()
    for step in _steps:
        step.run(session, people, echo)
    return rows
