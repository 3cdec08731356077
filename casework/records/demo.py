"""`casework demo --people N`: a synthetic population (households, cases, notes, alerts, allocations).

Bulk inserts (Core executemany in batches of ~10k rows) so a million people load in minutes on PostgreSQL.
NHS numbers are valid (mod 11) and drawn from the synthetic 999 range reserved for test data.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from casework.accounts.models import Team, TeamMembership, User
from casework.demo import DemoStep, register_demo_step
from casework.records.models_case import Allocation, Case
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_note import CaseNote
from casework.records.models_person import Person, PersonAddress, PersonAlert, PersonName, PersonRestriction
from casework.records.models_relationship import PersonRelationship

FORENAMES_F = ("Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella "
               "Poppy Evie Elsie Charlotte Aisha Fatima Maryam Zara Hannah Chloe Ruby Jessica Amira Maya Nia "
               "Sarah Claire Emma Laura Rebecca Kelly Joanne Michelle Lisa Helen Karen Susan Margaret Patricia "
               "Agnieszka Ioana Priya Ayesha Chiamaka Adaeze Leah Megan Holly Niamh Eilidh Bethany").split()
FORENAMES_M = ("Noah Oliver George Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie "
               "Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Adam Yusuf Ibrahim "
               "Daniel James David John Michael Paul Mark Andrew Richard Peter Stephen Christopher Kevin Gary "
               "Jakub Andrei Ravi Imran Kwame Chidi Tomasz Liam Connor Callum Kieran Reece Jordan Kyle").split()
SURNAMES = ("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
            "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper "
            "Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis "
            "Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw "
            "Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster "
            "Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills "
            "Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson "
            "Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford "
            "Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts "
            "Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster "
            "Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding "
            "Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson "
            "Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton "
            "Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy "
            "Chambers Kowalski Nowak Popescu Okafor Adeyemi Mensah Nguyen Chen Wang Kumar Sharma Mahmood Rahman "
            "Ozturk Yilmaz Abdi Mohamed Osman Haddad Silva Santos Ferreira").split()
STREET_NAMES = ["High Street", "Station Road", "Church Lane", "Park Road", "Victoria Road", "Green Lane",
                "Manor Road", "Kings Road", "Queens Road", "Mill Lane", "Albert Street", "Chapel Street",
                "School Lane", "The Crescent", "Windsor Avenue", "Oak Close", "Elm Grove", "Meadow Way"]
TOWNS = ["Eastbridge", "Northfield", "Westmoor", "Southgate", "Kingsford", "Ashby Vale"]
ETHNICITIES = ["WBRI"] * 70 + ["WOTH"] * 6 + ["AIND"] * 3 + ["APKN"] * 3 + ["ABAN"] * 2 + ["BAFR"] * 3 + \
    ["BCRB"] * 2 + ["MWBC"] * 2 + ["MOTH"] * 2 + ["CHNE", "WIRI", "WROM", "AOTH", "BOTH", "OOTH", "NOBT"]
LANGS = ["ENG"] * 88 + ["POL", "URD", "PAN", "BEN", "ARA", "SOM", "RUM", "GUJ", "POR", "LIT", "TUR", "SGN"]
NOTE_SUBJECTS = [("home_visit", "Home visit"), ("phone_call", "Call with parent"), ("meeting", "Core group meeting"),
                 ("direct_work", "Direct work session"), ("supervision", "Case discussed in supervision"),
                 ("case_note", "Contact from school")]
BATCH = 10_000
SEALED_RATE = 0.001  # share of people with a sealed (restricted) record
EPOCH = date(2026, 1, 1)


def nhs_check_digit(base9: int) -> int | None:
    digits = f"{base9:09d}"
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return 0 if check == 11 else (None if check == 10 else check)


def synthetic_nhs_number(person_id: int) -> str | None:
    """A valid NHS number in the 999 test range (one per id up to 1,000,000; None if the check digit is 10)."""
    base = 998_999_999 + person_id
    if base > 999_999_999:
        return None
    check = nhs_check_digit(base)
    return None if check is None else f"{base:09d}{check}"


class _Ctx:
    def __init__(self, session: Session, rng: random.Random) -> None:
        self.session, self.rng = session, rng
        self.now = datetime.now(UTC)
        teams = {t.code: t.id for t in session.scalars(select(Team))}
        self.children_teams = [teams[c] for c in ("cin-east", "cp-east", "mash") if c in teams]
        self.adult_teams = [teams[c] for c in ("adults-north",) if c in teams]
        self.members: dict[int, list[int]] = {}
        for m in session.scalars(select(TeamMembership).where(TeamMembership.is_manager.is_(False))):
            self.members.setdefault(m.team_id, []).append(m.user_id)
        self.author = session.scalar(select(User.id).where(User.username == "sam.worker"))
        self.sealed_team = teams.get("cp-east")
        self.person_id = (session.scalar(select(func.max(Person.id))) or 0) + 1
        self.case_id = (session.scalar(select(func.max(Case.id))) or 0) + 1
        self.note_id = (session.scalar(select(func.max(CaseNote.id))) or 0) + 1
        self.rows: dict[Any, list[dict[str, Any]]] = {}

    def add(self, table: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        order = [Person, PersonName, PersonAddress, PersonAlert, PersonRestriction, PersonRelationship, Case,
                 Allocation, CaseNote, ChronologyEntry]
        copy = self.session.get_bind().dialect.name == "postgresql"
        for model in order:
            rows = self.rows.pop(model, [])
            if rows and copy:
                _copy_rows(self.session, model.__table__.name, rows)
                continue
            for start in range(0, len(rows), BATCH):
                self.session.execute(insert(model.__table__), rows[start:start + BATCH])


def _copy_rows(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY is several times faster than INSERT for bulk loads (same transaction)."""
    cols = list(rows[0])
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list) else v for v in (row[c] for c in cols)])


def _person(ctx: _Ctx, *, surname: str, female: bool, age: int, line1: str, postcode: str, town: str) -> dict:
    rng = ctx.rng
    pid = ctx.person_id
    ctx.person_id += 1
    forename = rng.choice(FORENAMES_F if female else FORENAMES_M)
    dob = EPOCH - timedelta(days=age * 365 + rng.randrange(365))
    norm = surname.lower()
    row = {
        "id": pid, "local_id": f"P{pid:08d}", "nhs_number": synthetic_nhs_number(pid), "upn": None,
        "forename": forename, "middle_names": None, "surname": surname, "preferred_name": None,
        "surname_norm": norm, "search_name": f"{forename.lower()} {norm}", "date_of_birth": dob,
        "dob_is_expected": False, "date_of_death": None, "sex": "F" if female else "M",
        "gender": "woman" if female else "man", "ethnicity": rng.choice(ETHNICITIES), "disabilities": [],
        "first_language": rng.choice(LANGS), "interpreter_needed": False, "restricted": False,
        "pds_linked_at": None, "version": 1, "created_at": ctx.now, "created_by": None, "updated_at": ctx.now,
        "updated_by": None,
    }
    if ctx.sealed_team and rng.random() < SEALED_RATE:  # a few sealed records (e.g. adoption), seen by one team only
        row["restricted"] = True
        ctx.add(PersonRestriction, {"person_id": pid, "user_id": None, "team_id": ctx.sealed_team,
                                    "created_at": ctx.now, "created_by": ctx.author})
    if age < 18 and rng.random() < 0.06:
        row["disabilities"] = [rng.choice(["LD", "AUT", "COMM", "BEH", "HEAR", "MOB"])]
    ctx.add(Person, row)
    ctx.add(PersonName, {"person_id": pid, "name_type": "legal", "forename": forename, "middle_names": None,
                         "surname": surname, "valid_from": dob, "valid_to": None, "ended_at": None, "ended_by": None,
                         "created_at": ctx.now, "created_by": None})
    ctx.add(PersonAddress, {"person_id": pid, "address_type": "home", "line1": line1, "line2": None, "town": town,
                            "postcode": postcode, "uprn": None, "start_date": max(dob, EPOCH - timedelta(days=3000)),
                            "end_date": None, "ended_by": None, "created_at": ctx.now, "created_by": None})
    if rng.random() < 0.03:
        kind = rng.choice(["risk_to_staff", "communication_needs", "interpreter_required", "animals"])
        text_ = {"risk_to_staff": "Visit in pairs: history of aggression towards professionals",
                 "communication_needs": "Uses BSL; book an interpreter", "interpreter_required":
                 "Interpreter needed for all meetings", "animals": "Two large dogs; ask for them to be secured"}[kind]
        ctx.add(PersonAlert, {"person_id": pid, "alert_type": kind, "description": text_, "ended_at": None,
                              "ended_by": None, "created_at": ctx.now, "created_by": ctx.author})
    return row


def _rel(ctx: _Ctx, a: int, b: int, kind: str, start: date | None) -> None:
    ctx.add(PersonRelationship, {"person_id": a, "related_person_id": b, "rel_type": kind,
                                 "parental_responsibility": kind == "parent", "same_household": True,
                                 "start_date": start, "end_date": None, "version": 1, "created_at": ctx.now,
                                 "created_by": None, "updated_at": ctx.now, "updated_by": None})


def _case(ctx: _Ctx, person: dict, area: str, teams: list[int]) -> None:
    rng = ctx.rng
    cid = ctx.case_id
    ctx.case_id += 1
    opened = EPOCH - timedelta(days=rng.randrange(20, 900))
    closed = rng.random() < 0.4
    team = rng.choice(teams) if teams else None
    worker = rng.choice(ctx.members.get(team, [None])) if team else None
    prefix = {"children": "CH", "adults": "AD"}[area]
    ctx.add(Case, {"id": cid, "reference": f"{prefix}-{cid:07d}", "person_id": person["id"], "service_area": area,
                   "status": "closed" if closed else "open", "opened_on": opened, "open_reason": "referral",
                   "closed_on": opened + timedelta(days=rng.randrange(10, 19)) if closed else None,
                   "close_reason": "needs_met" if closed else None, "summary": None,
                   "team_id": None if closed else team, "worker_id": None if closed else worker, "version": 1,
                   "created_at": ctx.now, "created_by": ctx.author, "updated_at": ctx.now, "updated_by": ctx.author})
    opened_at = datetime.combine(opened, datetime.min.time(), tzinfo=UTC)
    ctx.add(Allocation, {"case_id": cid, "team_id": team, "worker_id": worker, "reason": "Allocated at referral",
                         "started_at": opened_at, "allocated_by": ctx.author,
                         "ended_at": opened_at + timedelta(days=20) if closed else None, "ended_by": None})
    events = [("referral_received", "Referral received"), ("assessment_started", "Assessment started"),
              ("assessment_completed", "Assessment completed")]
    if area == "children" and rng.random() < 0.3:
        events += [("strategy_discussion", "Strategy discussion held"), ("conference", "Initial child protection "
                   "conference"), ("plan_started", "Child protection plan started")]
    for n, (kind, title) in enumerate(events):
        ctx.add(ChronologyEntry, {"person_id": person["id"], "case_id": cid, "source": "workflow", "kind": kind,
                                  "title": title, "detail": None, "occurred_at": opened_at + timedelta(days=n * 7),
                                  "source_ref": f"demo:{cid}:{n}", "created_at": ctx.now, "created_by": None})
    for n in range(rng.randrange(1, 4)):
        note_type, subject = rng.choice(NOTE_SUBJECTS)
        occurred = opened_at + timedelta(days=3 + n * 11, hours=rng.randrange(9, 17))
        significant = rng.random() < 0.1
        nid = ctx.note_id
        ctx.note_id += 1
        ctx.add(CaseNote, {"id": nid, "person_id": person["id"], "case_id": cid, "note_type": note_type,
                           "subject": subject, "body": f"{subject}. Spoke with {person['forename']}; "
                           "views recorded and next steps agreed.", "occurred_at": occurred,
                           "significant": significant, "status": "complete", "completed_at": occurred,
                           "completed_by": worker or ctx.author, "version": 2, "created_at": occurred,
                           "created_by": worker or ctx.author, "updated_at": occurred,
                           "updated_by": worker or ctx.author})
        if significant:
            ctx.add(ChronologyEntry, {"person_id": person["id"], "case_id": cid, "source": "note",
                                      "kind": "significant_event", "title": subject, "detail": None,
                                      "occurred_at": occurred, "source_ref": f"note:{nid}", "created_at": ctx.now,
                                      "created_by": worker or ctx.author})


def _household(ctx: _Ctx) -> int:
    rng = ctx.rng
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.04:
        surname = f"{surname}-{rng.choice(SURNAMES)}"
    line1 = f"{rng.randrange(1, 240)} {rng.choice(STREET_NAMES)}"
    postcode = f"ZZ{rng.randrange(1, 99)} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
               f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    town = rng.choice(TOWNS)
    shape = rng.random()
    adults = [_person(ctx, surname=surname, female=True, age=rng.randrange(19, 50), line1=line1, postcode=postcode,
                      town=town)]
    if shape < 0.55:
        adults.append(_person(ctx, surname=surname, female=False, age=rng.randrange(19, 55), line1=line1,
                              postcode=postcode, town=town))
        _rel(ctx, adults[0]["id"], adults[1]["id"], "partner", None)
    children = []
    if shape < 0.8:
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            children.append(_person(ctx, surname=surname, female=rng.random() < 0.5, age=rng.randrange(0, 17),
                                    line1=line1, postcode=postcode, town=town))
    for child in children:
        for adult in adults:
            _rel(ctx, adult["id"], child["id"], "parent", child["date_of_birth"])
    for i, a in enumerate(children):
        for b in children[i + 1:]:
            _rel(ctx, a["id"], b["id"], "sibling", None)
    if children and rng.random() < 0.12:
        for child in children[: rng.choice([1, 2])]:
            _case(ctx, child, "children", ctx.children_teams)
    elif rng.random() < 0.05:
        _case(ctx, adults[-1], "adults", ctx.adult_teams)
    return len(adults) + len(children)


def generate_population(session: Session, people: int, echo: Callable[[str], None] = click.echo, *,
                        seed: int = 2026, progress: bool = True) -> int:
    """Insert about `people` synthetic people (whole households); returns how many were made."""
    if people <= 0:
        return 0
    ctx = _Ctx(session, random.Random(seed))  # noqa: S311 - synthetic data, not security
    made = 0
    bar = click.progressbar(length=people, label="People", file=None if progress else _Null())
    with bar:
        pending = 0
        while made < people:
            size = _household(ctx)
            made += size
            pending += size
            if pending >= BATCH:
                ctx.flush()
                bar.update(pending)
                pending = 0
        ctx.flush()
        bar.update(pending)
    if session.get_bind().dialect.name == "postgresql":
        for table in ("person", "case_record", "case_note"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                 f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    echo(f"Generated {made} people in households, with cases, notes, alerts and allocations")
    return made


class _Null:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _demo_step(session: Session, people: int, echo: Callable[[str], None]) -> None:
    generate_population(session, people, echo)


register_demo_step(DemoStep(name="records.population", run=_demo_step, order=20))
