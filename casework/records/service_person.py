"""People: create (with duplicate check), update (names kept as history), search, restriction."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

import nhs_number as nhs
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from casework import audit
from casework.accounts.models import Team, User
from casework.audit import AuditAction
from casework.auth.access import Actor
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid
from casework.records import codes
from casework.records.access import can_edit_person, get_visible_person, visible_people_clause
from casework.records.common import apply_changes, check_version, stamp_new, touch
from casework.records.models_person import Person, PersonName, PersonRestriction

MAX_PAGE = 100
NAME_FIELDS = ("forename", "middle_names", "surname")
SIMPLE_FIELDS = ("preferred_name", "sex", "gender", "ethnicity", "disabilities", "first_language",
                 "interpreter_needed", "upn", "nhs_number", "date_of_birth", "dob_is_expected", "date_of_death")


def normalise_nhs_number(value: str | None) -> str | None:
    """Digits only (spaces/dashes allowed on input); an invalid number is refused with a field message."""
    if value is None or value.strip() == "":
        return None
    digits = "".join(ch for ch in value if ch not in " -")
    if len(digits) != 10 or not digits.isdigit() or not nhs.is_valid(digits):
        raise Invalid("That is not a valid NHS number",
                      details={"nhs_number": "Enter a valid 10-digit NHS number (the check digit does not match)"})
    return digits


def check_upn(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    upn = value.strip().upper()
    if len(upn) != 13 or not upn[0].isalpha() or not upn[1:12].isdigit() or not upn[12].isalnum():
        raise Invalid("That is not a valid UPN", details={"upn": "A UPN is a letter, 11 digits and a final character"})
    return upn


def check_dates(dob: date | None, expected: bool, dod: date | None, *, today: date | None = None) -> None:
    today = today or date.today()
    if dob and dob > today and not expected:
        raise Invalid("Date of birth is in the future",
                      details={"date_of_birth": "Date of birth cannot be in the future unless it is an expected "
                                                "date of birth (set dob_is_expected)"})
    if expected and dob is None:
        raise Invalid("Give the expected date of birth", details={"date_of_birth": "Enter the expected date"})
    if dod and dod > today:
        raise Invalid("Date of death is in the future", details={"date_of_death": "Cannot be in the future"})
    if dod and dob and dod < dob:
        raise Invalid("Date of death is before date of birth",
                      details={"date_of_death": "Date of death must be on or after the date of birth"})
    if dod and expected:
        raise Invalid("An unborn child cannot have a date of death",
                      details={"date_of_death": "Remove the date of death or the expected-birth flag"})
    if dob and dob.year < 1880:
        raise Invalid("Date of birth is too early", details={"date_of_birth": "Enter a real date of birth"})


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def set_search_columns(person: Person) -> None:
    person.surname_norm = _norm(person.surname)
    person.search_name = _norm(" ".join(filter(None, [person.forename, person.preferred_name, person.surname])))


def _check_codes(data: dict[str, Any]) -> None:
    codes.check_code(codes.SEX, data.get("sex"), "sex")
    codes.check_code(codes.GENDER, data.get("gender"), "gender")
    codes.check_code(codes.ETHNICITY, data.get("ethnicity"), "ethnicity")
    codes.check_code(codes.LANGUAGE, data.get("first_language"), "first_language")
    codes.check_codes(codes.DISABILITY, data.get("disabilities"), "disabilities")


def find_duplicates(session: Session, actor: Actor, *, forename: str, surname: str, date_of_birth: date | None,
                    nhs_number: str | None = None, exclude_id: int | None = None) -> list[tuple[Person, str]]:
    """Likely matches the actor may see: NHS number exact, or same date of birth and similar names."""
    matches: dict[int, tuple[Person, str]] = {}
    visible = visible_people_clause(actor)
    if nhs_number:
        for p in session.scalars(select(Person).where(Person.nhs_number == nhs_number, visible)):
            matches[p.id] = (p, "Same NHS number")
    if date_of_birth is not None:
        sn, fn = _norm(surname), _norm(forename)
        candidates = session.scalars(
            select(Person).where(Person.date_of_birth == date_of_birth, visible,
                                 or_(Person.surname_norm.like(sn[:2] + "%"),
                                     func.substr(Person.search_name, 1, 1) == fn[:1])).limit(200))
        for p in candidates:
            s_ratio = difflib.SequenceMatcher(None, sn, p.surname_norm).ratio()
            f_ratio = difflib.SequenceMatcher(None, fn, _norm(p.forename)).ratio()
            if (s_ratio >= 0.75 and f_ratio >= 0.6) or (s_ratio == 1.0 and fn[:1] == _norm(p.forename)[:1]):
                matches.setdefault(p.id, (p, "Similar name and same date of birth"))
    matches.pop(exclude_id or -1, None)
    return list(matches.values())


def _nhs_in_use(session: Session, nhs_number: str, exclude_id: int | None = None) -> bool:
    q = select(Person.id).where(Person.nhs_number == nhs_number)
    if exclude_id:
        q = q.where(Person.id != exclude_id)
    return session.scalar(q.limit(1)) is not None


class DuplicateSuspected(Conflict):
    code = "possible_duplicate"


def create_person(session: Session, actor: Actor, data: dict[str, Any], *,
                  confirm_not_duplicate: bool = False) -> Person:
    actor.require(Permission.RECORDS_EDIT)
    data = dict(data)
    data["nhs_number"] = normalise_nhs_number(data.get("nhs_number"))
    data["upn"] = check_upn(data.get("upn"))
    _check_codes(data)
    check_dates(data.get("date_of_birth"), bool(data.get("dob_is_expected")), data.get("date_of_death"))
    if data["nhs_number"] and _nhs_in_use(session, data["nhs_number"]):
        matches = find_duplicates(session, actor, forename=data["forename"], surname=data["surname"],
                                  date_of_birth=None, nhs_number=data["nhs_number"])
        raise DuplicateSuspected("A person with this NHS number already exists",
                                 details={"nhs_number": "This NHS number is already on a person's record",
                                          "matches": [match_summary(p, why) for p, why in matches]})
    if not confirm_not_duplicate:
        matches = find_duplicates(session, actor, forename=data["forename"], surname=data["surname"],
                                  date_of_birth=data.get("date_of_birth"))
        if matches:
            raise DuplicateSuspected(
                "This person may already have a record: check the matches, then confirm it is a new person "
                "(confirm_not_duplicate) if none is them",
                details={"matches": [match_summary(p, why) for p, why in matches]})
    restricted_users = data.pop("restricted_to_users", []) or []
    restricted_teams = data.pop("restricted_to_teams", []) or []
    person = Person(**{k: v for k, v in data.items() if k in NAME_FIELDS + SIMPLE_FIELDS + ("restricted",)})
    person.disabilities = list(data.get("disabilities") or [])
    stamp_new(person, actor)
    set_search_columns(person)
    name = PersonName(name_type="legal", forename=person.forename, middle_names=person.middle_names,
                      surname=person.surname, valid_from=data.get("date_of_birth"))
    stamp_new(name, actor)
    person.names.append(name)
    session.add(person)
    session.flush()
    person.local_id = f"P{person.id:08d}"
    if person.restricted or restricted_users or restricted_teams:
        set_restriction(session, actor, person, restricted=True, users=restricted_users, teams=restricted_teams,
                        creating=True)
    audit.record(session, actor, AuditAction.CREATE, record_type="person", record_id=person.id, person_id=person.id,
                 fields=sorted(k for k, v in data.items() if v not in (None, [], False)))
    session.flush()
    return person


def match_summary(person: Person, why: str) -> dict[str, Any]:
    return {"id": person.id, "local_id": person.local_id, "name": person.display_name,
            "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
            "nhs_number": person.nhs_number, "reason": why,
            "alerts": [{"alert_type": a.alert_type, "description": a.description} for a in person.active_alerts]}


PERSON_VIEW_FIELDS = NAME_FIELDS + SIMPLE_FIELDS + ("names", "addresses", "contacts", "alerts", "restriction")


def view_person(session: Session, actor: Actor, person_id: int) -> Person:
    """Open a person's record to read it (audited once)."""
    person = get_visible_person(session, actor, person_id)
    audit.record(session, actor, AuditAction.VIEW, record_type="person", record_id=person.id, person_id=person.id,
                 fields=PERSON_VIEW_FIELDS)
    return person


def update_person(session: Session, actor: Actor, person: Person, changes: dict[str, Any],
                  expected_version: int | None) -> Person:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    check_version(person, expected_version)
    changes = dict(changes)
    if "nhs_number" in changes:
        changes["nhs_number"] = normalise_nhs_number(changes["nhs_number"])
        if changes["nhs_number"] and _nhs_in_use(session, changes["nhs_number"], exclude_id=person.id):
            raise Conflict("Another record has this NHS number",
                           details={"nhs_number": "This NHS number is already on another person's record"})
    if "upn" in changes:
        changes["upn"] = check_upn(changes["upn"])
    _check_codes(changes)
    dob = changes.get("date_of_birth", person.date_of_birth)
    expected = changes.get("dob_is_expected", person.dob_is_expected)
    dod = changes.get("date_of_death", person.date_of_death)
    check_dates(dob, bool(expected), dod)
    name_changed = any(f in changes and changes[f] != getattr(person, f) for f in NAME_FIELDS)
    if name_changed:
        if not (changes.get("surname", person.surname) and changes.get("forename", person.forename)):
            raise Invalid("A person needs a forename and a surname",
                          details={"surname": "Enter a surname", "forename": "Enter a forename"})
        today = changes.pop("name_valid_from", None) or date.today()
        for old in person.names:
            if old.name_type == "legal" and old.ended_at is None:
                old.name_type = "previous"
                old.valid_to = today
                old.ended_at, old.ended_by = utcnow(), actor.user_id
        for f in NAME_FIELDS:
            if f in changes:
                setattr(person, f, changes[f])
        new = PersonName(name_type="legal", forename=person.forename, middle_names=person.middle_names,
                         surname=person.surname, valid_from=today)
        stamp_new(new, actor)
        person.names.append(new)
    changes.pop("name_valid_from", None)
    changed = apply_changes(session, actor, person, {f: changes[f] for f in SIMPLE_FIELDS if f in changes},
                            record_type="person", person_id=person.id)
    if name_changed:
        changed += [f for f in NAME_FIELDS if f in changes]
    set_search_columns(person)
    touch(person, actor)
    audit.record(session, actor, AuditAction.UPDATE, record_type="person", record_id=person.id, person_id=person.id,
                 fields=changed)
    session.flush()
    return person


def add_alias(session: Session, actor: Actor, person: Person, *, forename: str, surname: str,
              name_type: str = "alias", middle_names: str | None = None) -> PersonName:
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    codes.check_code({k: v for k, v in codes.NAME_TYPES.items() if k != "legal"}, name_type, "name_type")
    name = PersonName(person_id=person.id, name_type=name_type, forename=forename, middle_names=middle_names,
                      surname=surname, valid_from=date.today())
    stamp_new(name, actor)
    person.names.append(name)
    touch(person, actor)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, record_type="person_name", record_id=name.id,
                 person_id=person.id, fields=("name_type", "forename", "middle_names", "surname"))
    return name


def set_restriction(session: Session, actor: Actor, person: Person, *, restricted: bool, users: list[int],
                    teams: list[int], creating: bool = False) -> Person:
    """Seal (or unseal) a record. The actor setting it is always named, so they keep access."""
    actor.require(Permission.RECORDS_EDIT)
    if not creating and not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    known_users = set(session.scalars(select(User.id).where(User.id.in_(users)))) if users else set()
    known_teams = set(session.scalars(select(Team.id).where(Team.id.in_(teams)))) if teams else set()
    if set(users) - known_users:
        raise Invalid("Unknown user", details={"restricted_to_users": f"No users {sorted(set(users) - known_users)}"})
    if set(teams) - known_teams:
        raise Invalid("Unknown team", details={"restricted_to_teams": f"No teams {sorted(set(teams) - known_teams)}"})
    person.restricted = restricted
    person.restrictions.clear()
    session.flush()
    if restricted:
        for uid in sorted(set(users) | {actor.user_id}):
            r = PersonRestriction(user_id=uid)
            stamp_new(r, actor)
            person.restrictions.append(r)
        for tid in sorted(set(teams)):
            r = PersonRestriction(team_id=tid)
            stamp_new(r, actor)
            person.restrictions.append(r)
    if not creating:
        touch(person, actor)
        audit.record(session, actor, AuditAction.UPDATE, record_type="person", record_id=person.id,
                     person_id=person.id, fields=("restricted", "restricted_to_users", "restricted_to_teams"))
    session.flush()
    return person


def search_people(session: Session, actor: Actor, *, q: str | None = None, nhs_number: str | None = None,
                  surname: str | None = None, forename: str | None = None, date_of_birth: date | None = None,
                  local_id: str | None = None, limit: int = 25, offset: int = 0) -> tuple[list[Person], bool]:
    """Search the people the actor may see; returns (page, has_more). At least one criterion is required."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = search_statement(actor, q=q, nhs_number=nhs_number, surname=surname, forename=forename,
                            date_of_birth=date_of_birth, local_id=local_id, limit=limit + 1, offset=offset)
    # one round trip: the alerts come joined (every person payload shows them)
    rows = list(session.scalars(stmt.options(joinedload(Person.alerts))).unique())
    return rows[:limit], len(rows) > limit


def search_statement(actor: Actor, *, q: str | None = None, nhs_number: str | None = None,
                     surname: str | None = None, forename: str | None = None, date_of_birth: date | None = None,
                     local_id: str | None = None, limit: int = 26, offset: int = 0) -> Select[tuple[Person]]:
    """The SELECT behind search_people (also used by bench/records.py to measure the database's share)."""
    if not any([q, nhs_number, surname, forename, date_of_birth, local_id]):
        raise Invalid("Give something to search for",
                      details={"q": "Enter a name, NHS number, date of birth or local id"})
    stmt = select(Person).where(visible_people_clause(actor))
    if nhs_number:
        stmt = stmt.where(Person.nhs_number == "".join(ch for ch in nhs_number if ch.isdigit()))
    if local_id:
        stmt = stmt.where(Person.local_id == local_id.strip().upper())
    if surname:
        stmt = stmt.where(Person.surname_norm.like(_like_prefix(_norm(surname)), escape="\\"))
    if forename:
        stmt = stmt.where(Person.search_name.like(_like_prefix(_norm(forename)), escape="\\"))
    if date_of_birth:
        stmt = stmt.where(Person.date_of_birth == date_of_birth)
    if q:
        words = _norm(q).split()
        if not any(len(w) >= 2 for w in words):
            raise Invalid("Enter at least 2 letters of a name", details={"q": "Enter at least 2 letters of a name"})
        for word in words:
            if len(word) >= 3:  # anywhere in a name: pg_trgm GIN index on PostgreSQL
                stmt = stmt.where(Person.search_name.like("%" + _escape(word) + "%", escape="\\"))
            else:  # 1-2 letters: the start of a name (still indexable through pg_trgm's word-start trigrams)
                stmt = stmt.where(or_(Person.search_name.like(_escape(word) + "%", escape="\\"),
                                      Person.search_name.like("% " + _escape(word) + "%", escape="\\")))
    return stmt.order_by(Person.surname_norm, Person.id).limit(limit).offset(max(0, offset))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(text: str) -> str:
    return _escape(text) + "%"
