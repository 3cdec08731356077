"""Money arithmetic: integer pence, Decimal units, half-up rounding once, no floats."""

from decimal import Decimal

import pytest

from casework.finance import money


def test_weekly_and_annual_cost_are_exact_integers():
    assert money.weekly_cost_pence(2350, Decimal("14")) == 32_900
    assert money.annual_cost_pence(2350, Decimal("14")) == 32_900 * 52
    assert money.weekly_cost_pence(1999, Decimal("37.5")) == 74_963  # 74962.5 rounds half up
    assert money.weekly_cost_pence(1, Decimal("0.5")) == 1  # half a penny rounds up
    assert money.weekly_cost_pence(1, Decimal("0.49")) == 0


def test_one_off_annual_cost_is_the_payment_itself():
    assert money.annual_cost_pence(45_000, Decimal("2"), kind="one_off") == 90_000


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money.weekly_cost_pence(2350, 14.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.weekly_cost_pence(23.5, Decimal("14"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.weekly_cost_pence(True, Decimal("1"))  # type: ignore[arg-type]


def test_prorating_rounds_once_from_the_exact_weekly_cost():
    # exact weekly cost 1000 x 1.01 = 1010p; 3 days = 432.857.. -> 433
    assert money.prorated_pence(1000, Decimal("1.01"), 3) == 433
    # full week equals the weekly cost; 7 one-day lines may differ by rounding, never by more than 3.5p
    assert money.prorated_pence(2350, Decimal("14"), 7) == money.weekly_cost_pence(2350, Decimal("14"))
    daily = sum(money.prorated_pence(1001, Decimal("1"), 1) for _ in range(7))
    assert abs(daily - 1001) <= 3
    with pytest.raises(ValueError):
        money.prorated_pence(100, Decimal("1"), 0)
    with pytest.raises(ValueError):
        money.prorated_pence(100, Decimal("1"), 8)


def test_large_amounts_do_not_lose_pennies():
    # GBP 100,000 per unit x 1000 items: beyond float's exact range for pence sums? still exact here
    assert money.weekly_cost_pence(10_000_000, Decimal("1000")) == 10_000_000_000
    assert money.annual_cost_pence(9_999_999, Decimal("168")) == 9_999_999 * 168 * 52


def test_prorated_units_and_pounds_formatting():
    assert money.prorated_units(Decimal("10"), 3) == Decimal("4.29")
    assert money.format_pounds(0) == "0.00"
    assert money.format_pounds(5) == "0.05"
    assert money.format_pounds(123456) == "1234.56"
    assert money.format_pounds(-5) == "-0.05"
    assert money.format_pounds(-12345) == "-123.45"
