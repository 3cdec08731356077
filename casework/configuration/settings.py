"""Council settings: closure days for the working-day calendar and default timescales.

Stored one row per key in ``council_setting`` (JSON text). ``closure_days(session)`` is what the engine host
reads to build its :class:`engine.calendar.WorkingDayCalendar`.
"""

from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy.orm import Session

from casework.configuration.models import CouncilSetting
from casework.db import utcnow
from casework.errors import Invalid

CLOSURE_DAYS = "closure_days"
TIMESCALES = "default_timescales"
# Default statutory timescales (working days), as in Working Together to Safeguard Children 2023 and the
# Care Act guidance; a council may set its own.
DEFAULT_TIMESCALES = {
    "referral_decision": 1,
    "strategy_discussion": 3,
    "child_and_family_assessment": 45,
    "initial_child_protection_conference": 15,
    "care_act_assessment": 28,
}
TIMESCALE_LABELS = {
    "referral_decision": "Decide what to do with a referral",
    "strategy_discussion": "Hold a strategy discussion",
    "child_and_family_assessment": "Complete a child and family assessment",
    "initial_child_protection_conference": "Hold an initial child protection conference",
    "care_act_assessment": "Complete a Care Act needs assessment",
}
MAX_TIMESCALE = 365


def _get(session: Session, key: str, default):
    row = session.get(CouncilSetting, key)
    return json.loads(row.value) if row is not None else default


def _put(session: Session, key: str, value, actor: str) -> None:
    row = session.get(CouncilSetting, key)
    text = json.dumps(value, sort_keys=True)
    if row is None:
        session.add(CouncilSetting(key=key, value=text, updated_by=actor, updated_at=utcnow()))
    else:
        row.value, row.updated_by, row.updated_at = text, actor, utcnow()
    session.flush()


def closure_days(session: Session) -> list[date]:
    """Council closure days (sorted), for ``WorkingDayCalendar(closure_days=...)``."""
    return sorted(date.fromisoformat(d) for d in _get(session, CLOSURE_DAYS, []))


def parse_closure_days(text: str) -> list[date]:
    """One date per line (or comma separated), as 2026-12-29 or 29/12/2026; a problem names the bad entry."""
    days: set[date] = set()
    for entry in [e.strip() for e in re.split(r"[\n,;]+", text or "") if e.strip()]:
        try:
            if re.match(r"^\d{1,2}/\d{1,2}/\d{4}$", entry):
                d, m, y = (int(x) for x in entry.split("/"))
                day = date(y, m, d)
            else:
                day = date.fromisoformat(entry)
        except ValueError:
            raise Invalid("Check the closure days", details={
                "closure_days": f"{entry!r} is not a real date: write dates like 2026-12-29 or 29/12/2026"}) from None
        if not 2000 <= day.year <= 2100:
            raise Invalid("Check the closure days", details={"closure_days": f"{entry} is not a plausible year"})
        days.add(day)
    if len(days) > 400:
        raise Invalid("Too many closure days", details={"closure_days": "Enter 400 dates or fewer"})
    return sorted(days)


def set_closure_days(session: Session, days: list[date], *, actor: str) -> None:
    _put(session, CLOSURE_DAYS, [d.isoformat() for d in sorted(set(days))], actor)


def timescales(session: Session) -> dict[str, int]:
    stored = _get(session, TIMESCALES, {})
    return {key: int(stored.get(key, default)) for key, default in DEFAULT_TIMESCALES.items()}


def set_timescales(session: Session, values: dict[str, str], *, actor: str) -> dict[str, int]:
    out, errors = {}, {}
    for key in DEFAULT_TIMESCALES:
        text = str(values.get(key, "")).strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_TIMESCALE:
            errors[key] = f"Enter a whole number of working days from 1 to {MAX_TIMESCALE}"
            continue
        out[key] = int(text)
    if errors:
        raise Invalid("Check the timescales", details=errors)
    _put(session, TIMESCALES, out, actor)
    return out


def setting_updated(session: Session, key: str) -> CouncilSetting | None:
    return session.get(CouncilSetting, key)
