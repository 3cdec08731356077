"""Working-day calendar on England bank holidays (dates checked against https://www.gov.uk/bank-holidays)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.calendar import WorkingDayCalendar

# GOV.UK, England and Wales
GOV_UK_2026 = [date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
               date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28)]
GOV_UK_2027 = [date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31),
               date(2027, 8, 30), date(2027, 12, 27), date(2027, 12, 28)]


@pytest.fixture(scope="module")
def cal():
    return WorkingDayCalendar()


@pytest.mark.parametrize("day", GOV_UK_2026 + GOV_UK_2027)
def test_gov_uk_bank_holidays_are_not_working_days(cal, day):
    assert day.weekday() < 5  # all weekdays (substitute days included)
    assert cal.is_bank_holiday(day)
    assert not cal.is_working_day(day)


def test_every_weekday_bank_holiday_in_2026_and_2027_is_on_the_gov_uk_list(cal):
    day, found = date(2026, 1, 1), []
    while day <= date(2027, 12, 31):
        if day.weekday() < 5 and cal.is_bank_holiday(day):
            found.append(day)
        day += timedelta(days=1)
    assert found == GOV_UK_2026 + GOV_UK_2027


def test_weekends_are_not_working_days(cal):
    assert not cal.is_working_day(date(2026, 11, 28))  # Saturday
    assert not cal.is_working_day(date(2026, 11, 29))  # Sunday
    assert cal.is_working_day(date(2026, 11, 30))


def test_start_day_does_not_count_friday_plus_one_is_monday(cal):
    assert cal.working_days_after(date(2026, 11, 27), 1) == date(2026, 11, 30)
    assert cal.working_days_after(date(2026, 11, 28), 1) == date(2026, 11, 30)  # from a Saturday too
    assert cal.working_days_after(date(2026, 11, 30), 1) == date(2026, 12, 1)


def test_christmas_and_boxing_day_2026(cal):
    # Fri 25 Dec, Sat 26 Dec, Mon 28 Dec is the substitute Boxing Day
    assert cal.working_days_after(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert cal.working_days_after(date(2026, 12, 23), 2) == date(2026, 12, 29)
    assert cal.working_days_after(date(2026, 12, 24), 5) == date(2027, 1, 5)  # 29, 30, 31 Dec, 4, 5 Jan


def test_easter_2027(cal):
    # Good Friday 26 March, Easter Monday 29 March 2027
    assert cal.working_days_after(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert cal.working_days_after(date(2027, 3, 24), 2) == date(2027, 3, 30)
    assert cal.working_days_between(date(2027, 3, 25), date(2027, 3, 30)) == 1


def test_ten_working_days_statutory_example(cal):
    # a referral on Mon 14 Dec 2026, 10 working days: 15-18 Dec (4), 21-24 Dec (8), 29 (9), 30 Dec (10)
    assert cal.working_days_after(date(2026, 12, 14), 10) == date(2026, 12, 30)


def test_zero_and_negative(cal):
    assert cal.working_days_after(date(2026, 12, 25), 0) == date(2026, 12, 25)
    assert cal.working_days_after(date(2026, 12, 29), -1) == date(2026, 12, 24)
    assert cal.working_days_after(date(2027, 3, 30), -1) == date(2027, 3, 25)


def test_council_closure_days():
    cal = WorkingDayCalendar(closure_days=[date(2026, 12, 29), "2026-12-30", date(2026, 12, 31)])
    assert not cal.is_working_day(date(2026, 12, 30))
    assert cal.working_days_after(date(2026, 12, 24), 1) == date(2027, 1, 4)  # 1 Jan 2027 is a bank holiday


def test_between_is_the_inverse_of_after(cal):
    start = date(2026, 12, 1)
    for offset in range(0, 150, 3):
        day = start + timedelta(days=offset)
        for n in (0, 1, 2, 5, 10, 20):
            assert cal.working_days_between(day, cal.working_days_after(day, n)) == n
    assert cal.working_days_between(date(2026, 12, 29), date(2026, 12, 24)) == -1


def test_months_after_clamps_to_month_end(cal):
    assert cal.months_after(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert cal.months_after(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert cal.months_after(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert cal.months_after(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert cal.months_after("2026-05-15", 12) == date(2027, 5, 15)
    assert cal.months_after(datetime(2026, 1, 31, 9, 30), 1) == datetime(2026, 2, 28, 9, 30)


def test_iso_strings_and_datetimes(cal):
    assert cal.working_days_after("2026-12-24", 1) == date(2026, 12, 29)
    assert cal.working_days_after("2026-12-24T16:00:00Z", 1) == date(2026, 12, 29)
    dt = datetime(2026, 12, 24, 16, 0, tzinfo=timezone.utc)
    assert cal.working_days_after(dt, 1) == datetime(2026, 12, 29, 16, 0, tzinfo=timezone.utc)
    assert cal.add_working_days_datetime(dt, 2) == datetime(2026, 12, 30, 16, 0, tzinfo=timezone.utc)
    assert cal.next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert cal.next_working_day(date(2026, 12, 29)) == date(2026, 12, 29)
    with pytest.raises(ValueError):
        cal.working_days_after("24/12/2026", 1)


def test_bad_counts_are_refused(cal):
    with pytest.raises(ValueError):
        cal.working_days_after(date(2026, 1, 1), 10**9)
    with pytest.raises(TypeError):
        cal.working_days_after(date(2026, 1, 1), 1.5)
    with pytest.raises(TypeError):
        cal.working_days_after(date(2026, 1, 1), "3")
    assert cal.working_days_after(date(2026, 11, 27), 1.0) == date(2026, 11, 30)
    with pytest.raises(ValueError):
        cal.months_after(date(2026, 1, 1), 5000)
