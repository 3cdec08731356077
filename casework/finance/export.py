"""The payment file for the council's finance system (layout documented in docs/finance.md).

UTF-8 without BOM, comma-separated, CRLF line ends, RFC 4180 quoting. First row: column names. Then one
"D" (detail) row per schedule line, ordered by payee reference, agreement reference and period start.
Last row: one "T" (trailer) row carrying the run id, the number of detail rows and the total.
Text that a spreadsheet would run as a formula (starting = + - @ tab or CR) is prefixed with a single quote.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from casework.finance.models import Agreement, PaymentRun, Provider, ScheduleLine
from casework.finance.money import format_pounds

COLUMNS = [
    "record_type", "run_id", "line_id", "agreement_reference", "agreement_kind", "payee_type", "payee_reference",
    "bank_details_reference", "payee_name", "person_id", "service_type", "cost_code", "period_start", "period_end",
    "units", "unit", "unit_cost_pence", "amount_pence", "amount",
]


def file_name(run_id: int, period_end: date) -> str:
    return f"casework-payments-{period_end:%Y%m%d}-run{run_id:06d}.csv"


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value[0] in "=+-@\t\r" else value


def detail_row(run_id: int, line: Any) -> list[str]:
    """One D row from a row of :func:`line_query` (attribute access)."""
    if line.provider_reference is not None:
        payee = ("provider", line.provider_reference, line.provider_bank_reference, line.provider_name)
    else:
        payee = ("person", line.payee_reference, line.payee_reference, "")
    return [
        "D", str(run_id), str(line.id), _text(line.agreement_reference), line.kind, payee[0], _text(payee[1]),
        _text(payee[2]), _text(payee[3]), str(line.person_id), line.service_type, _text(line.cost_code),
        line.period_start.isoformat(), line.period_end.isoformat(), f"{line.units:.2f}", line.unit,
        str(line.unit_cost_pence), str(line.amount_pence), format_pounds(line.amount_pence),
    ]


def line_query(run_id: int) -> Select[Any]:
    """The run's lines with what the file needs, in file order (plain rows: fast for large runs)."""
    return (select(ScheduleLine.id, ScheduleLine.period_start, ScheduleLine.period_end, ScheduleLine.units,
                   ScheduleLine.amount_pence, Agreement.reference.label("agreement_reference"), Agreement.kind,
                   Agreement.person_id, Agreement.service_type, Agreement.cost_code, Agreement.unit,
                   Agreement.unit_cost_pence, Agreement.payee_reference,
                   Provider.reference.label("provider_reference"), Provider.name.label("provider_name"),
                   Provider.bank_details_reference.label("provider_bank_reference"))
            .join(Agreement, Agreement.id == ScheduleLine.agreement_id)
            .outerjoin(Provider, Provider.id == Agreement.provider_id)
            .where(ScheduleLine.payment_run_id == run_id)
            .order_by(Agreement.provider_id.is_(None), Agreement.provider_id, Agreement.id,
                      ScheduleLine.period_start))


def render(run: PaymentRun, lines: Iterable[Any]) -> tuple[str, int, int]:
    """(file text, number of lines, total pence)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    count = total = 0
    for line in lines:
        writer.writerow(detail_row(run.id, line))
        count += 1
        total += line.amount_pence
    trailer = [""] * len(COLUMNS)
    trailer[0], trailer[1], trailer[2] = "T", str(run.id), str(count)
    trailer[COLUMNS.index("period_end")] = run.period_end.isoformat()
    trailer[COLUMNS.index("amount_pence")] = str(total)
    trailer[COLUMNS.index("amount")] = format_pounds(total)
    writer.writerow(trailer)
    return buffer.getvalue(), count, total


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
