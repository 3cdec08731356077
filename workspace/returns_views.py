"""Statutory returns in the workspace: build the Children in Need census for a collection year (our checks and,
when configured, the DfE's own rules engine) or the adult Client Level Data for a quarter, and list every issue
against the person and field with a link to the record to fix. A person the user may not see is listed without
personal details or link. Nothing is saved: the page builds the return on each request (read-only GET)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date

from flask import render_template, request
from sqlalchemy import select

from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.records.access import visible_person_ids
from casework.records.models_person import Person
from casework.returns.common import Issue
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav
from workspace import services
from workspace.views import blueprint

YEAR = re.compile(r"^\d{4}$")
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class IssueRow:
    person_id: int | None
    visible: bool
    name: str | None
    record: str | None
    field: str
    code: str
    message: str | None
    link: str | None


def current_collection_year(today: date) -> int:
    """The census year in progress: 1 April Y-1 to 31 March Y."""
    return today.year + (today.month >= 4)


def _rows(issues: list[Issue]) -> list[IssueRow]:
    session = db_session()
    ids = sorted({i.person_id for i in issues if i.person_id is not None})
    visible = visible_person_ids(session, current_actor(), ids)
    names = {pid: f"{fore} {sur}" for pid, fore, sur in session.execute(
        select(Person.id, Person.forename, Person.surname).where(Person.id.in_(visible)))} if visible else {}
    rows = []
    for i in issues:
        shown = i.person_id is None or i.person_id in visible
        rows.append(IssueRow(i.person_id, shown, names.get(i.person_id) if shown else None,
                             i.record if shown else None, i.field, i.code, i.message if shown else None,
                             i.link if shown else None))
    return rows


def _by_code(issues: list[Issue]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for i in issues:
        counts[i.code] = counts.get(i.code, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _la_code() -> str:
    return os.environ.get("DFE_LA_CODE", "")


def _cin(year: int) -> dict:
    from casework.returns.cin import build_cin, collection_period
    from casework.returns.dfe_validator import (
        ValidatorUnavailable,
        configured_validator,
        ruleset_for,
        run_dfe_validator,
    )

    ret = build_cin(services.conn(), year, la_code=_la_code(), calendar=services.calendar())
    issues = list(ret.issues)
    python = configured_validator()
    dfe = {"ran": False, "ruleset": ruleset_for(year), "error": None}
    if python and not ret.empty:
        try:
            issues.extend(run_dfe_validator(ret.xml, year, python, ret.child_people, timeout=600))
            dfe["ran"] = True
        except ValidatorUnavailable as exc:
            dfe["error"] = str(exc)
    start, end = collection_period(year)
    return {"kind": "cin", "year": year, "start": start, "end": end, "children": ret.children,
            "episodes": ret.episodes, "empty": ret.empty, "dfe": dfe, "rows": _rows(issues),
            "by_code": _by_code(issues)}


def _cld(quarter: str) -> dict:
    from casework.returns.cld import build_cld, quarter_period

    start, end = quarter_period(quarter)
    ret = build_cld(services.conn(), quarter, la_code=_la_code())
    return {"kind": "cld", "quarter": quarter, "start": start, "end": end, "people": ret.people, "rows_count": ret.rows,
            "by_event": sorted(ret.by_event.items()), "empty": ret.empty, "rows": _rows(ret.issues),
            "by_code": _by_code(ret.issues)}


@blueprint.get("/returns")
@requires(Permission.REPORTS)
def returns_page():  # type: ignore[no-untyped-def]
    today = date.today()
    default_year = current_collection_year(today)
    kind = request.args.get("return") or None
    year_text = (request.args.get("year") or "").strip()
    quarter_text = (request.args.get("quarter") or "").strip().upper()
    errors: dict[str, str] = {}
    result = None
    if kind not in (None, "cin", "cld"):
        errors["return"] = "Choose the Children in Need census or the Client Level Data"
    elif kind == "cin":
        if not YEAR.match(year_text) or not FIRST_YEAR <= int(year_text) <= LAST_YEAR:
            errors["year"] = (f"Enter the collection year as 4 digits between {FIRST_YEAR} and {LAST_YEAR}, "
                              f"like {default_year}")
        else:
            result = _cin(int(year_text))
    elif kind == "cld":
        if not QUARTER.match(quarter_text):
            errors["quarter"] = "Enter the quarter as a year and quarter, like 2026Q2"
        else:
            result = _cld(quarter_text)
    status = 422 if errors else 200
    return render_template("workspace/returns.html", title="Statutory returns", errors=errors, result=result,
                           kind=kind, year=year_text or str(default_year), quarter=quarter_text,
                           default_year=default_year), status


register_nav(NavEntry("Returns", "workspace.returns_page", Permission.REPORTS, order=40))
