"""Manager dashboard: team caseloads, overdue work and timeliness against the statutory timescales.

Caseloads come from the case record (open cases by allocated team and worker). Overdue work and timeliness come
from the engine's `work_item` rows: every timed step carries the due date its process computed from the
council's timescale tables (decision 1 working day after the referral, assessment 45 working days, ICPC 15
working days after the strategy discussion), so "within timescale" is "completed on or before its due date".
Charts are server-rendered inline SVG (no script, no inline styles: the CSP stays strict).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import render_template, request
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from casework.accounts.models import Team, User
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.records.models_case import Case
from casework.web.context import db_session
from casework.web.navigation import NavEntry, register_nav
from engine.schema import work_item
from workspace.views import blueprint

# (work item form, what is measured, the statutory timescale)
MEASURES = (
    ("referral-decision", "Referral decisions", "within 1 working day of the referral"),
    ("assessment-authorisation", "Children's single assessments completed",
     "within 45 working days of the referral"),
    ("icpc-outcome", "Initial child protection conferences", "within 15 working days of the strategy discussion"),
)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Filters:
    team: str | None = None
    month: str | None = None  # YYYY-MM: timeliness of work completed in that month

    def month_range(self) -> tuple[datetime, datetime] | None:
        if not self.month:
            return None
        year, month = (int(x) for x in self.month.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return start, end


def caseloads(session, filters: Filters) -> list[dict]:  # type: ignore[no-untyped-def]
    """Open cases per team and allocated worker (unallocated cases count under 'Not allocated').

    Counted on ``case_record`` alone first, in the order of ix_case_record_status_team_worker (an index-only
    scan of the open cases), then the few (team, worker) rows get their names."""
    counted = (select(Case.team_id, Case.worker_id, func.count().label("cases"))
               .where(Case.status == "open", Case.team_id.is_not(None)).group_by(Case.team_id, Case.worker_id))
    if filters.team:
        counted = counted.where(Case.team_id == select(Team.id).where(Team.code == filters.team).scalar_subquery())
    per_worker = counted.subquery()
    stmt = (select(Team.code, Team.name, User.display_name, func.sum(per_worker.c.cases))
            .select_from(per_worker).join(Team, Team.id == per_worker.c.team_id)
            .outerjoin(User, User.id == per_worker.c.worker_id)
            .group_by(Team.code, Team.name, User.display_name).order_by(Team.name, User.display_name))
    return [{"team": code, "team_name": name, "worker": worker or "Not allocated", "cases": int(count)}
            for code, name, worker, count in session.execute(stmt)]


def overdue(conn: Connection, filters: Filters, now: datetime) -> list[dict]:
    """Open work items per team: how many, and how many are past their due date."""
    late = func.sum(case((and_(work_item.c.due_at.is_not(None), work_item.c.due_at < now), 1), else_=0))
    stmt = (select(work_item.c.team, func.count(), late).where(work_item.c.status == "open",
                                                               work_item.c.team.is_not(None))
            .group_by(work_item.c.team).order_by(work_item.c.team))
    if filters.team:
        stmt = stmt.where(work_item.c.team == filters.team)
    return [{"team": team, "open": total, "overdue": int(late_count or 0)} for team, total, late_count in
            conn.execute(stmt)]


def timeliness(conn: Connection, filters: Filters) -> list[dict]:
    """For each statutory step: completed steps, how many on or before their due date, the percentage."""
    on_time = func.sum(case((work_item.c.completed_at <= work_item.c.due_at, 1), else_=0))
    stmt = (select(work_item.c.form, func.count(), on_time)
            .where(work_item.c.status == "closed", work_item.c.form.in_([m[0] for m in MEASURES]),
                   work_item.c.due_at.is_not(None), work_item.c.completed_at.is_not(None))
            .group_by(work_item.c.form))
    if filters.team:
        stmt = stmt.where(work_item.c.team == filters.team)
    span = filters.month_range()
    if span:
        stmt = stmt.where(work_item.c.completed_at >= span[0], work_item.c.completed_at < span[1])
    found = {form: (total, int(ok or 0)) for form, total, ok in conn.execute(stmt)}
    rows = []
    for form, label, timescale in MEASURES:
        total, ok = found.get(form, (0, 0))
        rows.append({"form": form, "label": label, "timescale": timescale, "total": total, "on_time": ok,
                     "percent": round(100 * ok / total) if total else None})
    return rows


def bars(rows: list[dict], value: str, label: str) -> list[dict]:
    """Bar widths (0-100, of the largest value) for the inline SVG charts."""
    top = max((r[value] or 0 for r in rows), default=0) or 1
    return [{"label": r[label], "value": r[value] or 0, "width": round(100 * (r[value] or 0) / top)}
            for r in rows]


@blueprint.app_template_filter("casework_month")
def _month(value: str) -> list[str]:
    year, month = (int(x) for x in value.split("-"))
    return [value, date(year, month, 1).strftime("%B %Y")]


def _filters(team_codes: set[str]) -> tuple[Filters, dict[str, str]]:
    errors: dict[str, str] = {}
    team = request.args.get("team") or None
    month = request.args.get("month") or None
    if team and team not in team_codes:
        errors["team"] = "Select a team from the list"
        team = None
    if month and not MONTH.match(month):
        errors["month"] = "Enter a month as a year and month, like 2026-11"
        month = None
    return Filters(team=team, month=month), errors


@blueprint.get("/dashboard")
@requires(Permission.REPORTS)
def dashboard():  # type: ignore[no-untyped-def]
    session = db_session()
    teams = session.execute(select(Team.code, Team.name).where(Team.active.is_(True)).order_by(Team.name)).all()
    filters, errors = _filters({code for code, _ in teams})
    conn = session.connection()
    loads = caseloads(session, filters)
    late = overdue(conn, filters, utcnow())
    timely = timeliness(conn, filters)
    team_totals: dict[str, int] = {}
    for row in loads:
        team_totals[row["team_name"]] = team_totals.get(row["team_name"], 0) + row["cases"]
    charts = {
        "caseloads": bars([{"t": t, "n": n} for t, n in team_totals.items()], "n", "t"),
        "overdue": bars(late, "overdue", "team"),
        "timeliness": [{"label": r["label"], "value": r["percent"], "width": r["percent"] or 0} for r in timely],
    }
    today = date.today()
    months = [f"{today.year - (today.month - i <= 0)}-{(today.month - i - 1) % 12 + 1:02d}" for i in range(12)]
    status = 400 if errors else 200
    return render_template("workspace/dashboard.html", title="Dashboard", teams=teams, filters=filters,
                           errors=errors, caseloads=loads, overdue=late, timeliness=timely, charts=charts,
                           months=months), status


register_nav(NavEntry("Dashboard", "workspace.dashboard", Permission.REPORTS, order=30))
