"""Working-day calendar for statutory timescales in England.

A *working day* is Monday to Friday that is neither an England bank holiday (from the ``holidays``
package, ``country_holidays("GB", subdiv="ENG")``, which follows the GOV.UK list including substitute days)
nor a council closure day (configured, e.g. the days between Christmas and New Year).

Counting rule (the same as "within N working days of receipt" in statutory guidance):
**the start day does NOT count**. ``working_days_after(d, 1)`` is the first working day strictly after ``d``;
from a Friday that is the following Monday (or Tuesday after a bank holiday Monday). ``n = 0`` returns ``d``
unchanged, whatever kind of day it is; a negative ``n`` counts backwards the same way.
``working_days_between(a, b)`` counts the working days in ``(a, b]`` so that
``working_days_between(d, working_days_after(d, n)) == n`` for ``n >= 0``.

Dates may be given as ``date``, ``datetime`` (the time of day is kept) or ISO strings (``"2026-12-24"``),
because form data arrives as strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import holidays
from dateutil.relativedelta import relativedelta

MAX_WORKING_DAYS = 10_000  # ~40 years; refuses nonsense such as 10**9 that would spin for minutes
MAX_MONTHS = 1_200


def as_date(value) -> date:
    """A ``date`` from a ``date``, ``datetime`` or ISO string (date or date-time)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            raise ValueError(f"not an ISO date: {value!r}") from None
    raise TypeError(f"expected a date, datetime or ISO date string, got {type(value).__name__}")


class WorkingDayCalendar:
    """England bank holidays plus council closure days. Cheap to create; safe to share between threads
    once :meth:`prime` has run for the years in use (the holiday table fills itself lazily per year)."""

    def __init__(self, closure_days: Iterable[date | str] = ()):
        self.closure_days = frozenset(as_date(d) for d in closure_days)
        self._bank_holidays = holidays.country_holidays("GB", subdiv="ENG")
        this_year = date.today().year
        self.prime(this_year - 2, this_year + 10)  # fill the table now, not lazily from several threads

    def prime(self, first_year: int, last_year: int) -> None:
        for year in range(first_year, last_year + 1):
            self._bank_holidays.get(date(year, 1, 1))

    def bank_holiday_name(self, d) -> str | None:
        return self._bank_holidays.get(as_date(d))

    def is_bank_holiday(self, d) -> bool:
        return as_date(d) in self._bank_holidays

    def is_working_day(self, d) -> bool:
        day = as_date(d)
        return day.weekday() < 5 and day not in self._bank_holidays and day not in self.closure_days

    def working_days_after(self, d, n: int):
        """The date ``n`` working days after ``d`` (start day not counted). Returns a ``date``, or a
        ``datetime`` with the same time of day when given a ``datetime``."""
        if isinstance(d, datetime):
            return self.add_working_days_datetime(d, n)
        n = _check_int(n, MAX_WORKING_DAYS, "working days")
        day = as_date(d)
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def add_working_days_datetime(self, dt: datetime, n: int) -> datetime:
        """``dt`` moved by ``n`` working days, keeping its time of day and time zone."""
        target = self.working_days_after(dt.date(), n)
        return dt + timedelta(days=(target - dt.date()).days)

    def next_working_day(self, d, *, include_today: bool = True) -> date:
        """``d`` itself if it is a working day (and ``include_today``), else the next working day."""
        day = as_date(d)
        if include_today and self.is_working_day(day):
            return day
        return self.working_days_after(day, 1)

    def working_days_between(self, a, b) -> int:
        """Working days in ``(a, b]`` (negative when ``b`` is before ``a``)."""
        start, end = as_date(a), as_date(b)
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > MAX_WORKING_DAYS * 2:
            raise ValueError("the dates are too far apart")
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def months_after(self, d, n: int):
        """``d`` plus ``n`` calendar months; the day is clamped to the month's end (31 Jan + 1 month is
        28 or 29 Feb). Keeps the type (``date`` or ``datetime``) of ``d``; ISO strings give a ``date``."""
        n = _check_int(n, MAX_MONTHS, "months")
        base = d if isinstance(d, date) else as_date(d)
        return base + relativedelta(months=n)


def _check_int(n, limit: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            raise TypeError(f"the number of {what} must be a whole number, got {n!r}")
    if abs(n) > limit:
        raise ValueError(f"the number of {what} must be between -{limit} and {limit}, got {n}")
    return n
