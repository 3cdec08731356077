"""Money arithmetic: integer pence in, integer pence out; Decimal in between, never floats.

Rounding is half-up to the penny, applied once per figure (never to an already rounded intermediate).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

WEEKS_PER_YEAR = 52


def round_pence(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def weekly_cost_exact(unit_cost_pence: int, units_per_week: Decimal) -> Decimal:
    if isinstance(unit_cost_pence, bool) or not isinstance(unit_cost_pence, int):
        raise TypeError("unit_cost_pence must be an int")
    if isinstance(units_per_week, float):
        raise TypeError("units_per_week must be a Decimal, not a float")
    return Decimal(unit_cost_pence) * Decimal(units_per_week)


def weekly_cost_pence(unit_cost_pence: int, units_per_week: Decimal) -> int:
    """Cost of one full week (for a one-off payment: the whole payment)."""
    return round_pence(weekly_cost_exact(unit_cost_pence, units_per_week))


def annual_cost_pence(unit_cost_pence: int, units_per_week: Decimal, *, kind: str = "service") -> int:
    """Weekly cost x 52 (what the DMN thresholds read); a one-off payment costs its total once."""
    weekly = weekly_cost_pence(unit_cost_pence, units_per_week)
    return weekly if kind == "one_off" else weekly * WEEKS_PER_YEAR


def prorated_pence(unit_cost_pence: int, units_per_week: Decimal, days: int) -> int:
    """Cost of `days` days of a week: exact weekly cost x days / 7, rounded once. 7 days == the weekly cost."""
    if not 1 <= days <= 7:
        raise ValueError("days must be 1..7")
    return round_pence(weekly_cost_exact(unit_cost_pence, units_per_week) * days / 7)


def prorated_units(units_per_week: Decimal, days: int) -> Decimal:
    return (Decimal(units_per_week) * days / 7).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_pounds(pence: int) -> str:
    """12345 -> '123.45'; -5 -> '-0.05'. Exact (integer arithmetic)."""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rem:02d}"


def pounds_to_pence(value: object) -> int:
    """A pounds amount from a form (JSON number or string, at most 2 decimal places) as exact integer pence.
    Floats are read through their shortest repr (23.5 -> '23.5'), so no binary rounding error gets in."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("not an amount")
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError("not an amount") from None
    if not amount.is_finite():
        raise ValueError("not an amount")
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise ValueError("more than 2 decimal places")
    return int(pence)


def pence_to_pounds_number(pence: int) -> float:
    """For DMN comparisons only (thresholds in pounds); the pence figures stay authoritative."""
    return float(Decimal(pence) / 100)
