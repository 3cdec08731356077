"""`casework finance ...`: payment runs from the command line (logic in casework.finance.runs)."""

from __future__ import annotations

from pathlib import Path

import click


def _write(out: str, text: str) -> None:
    Path(out).write_bytes(text.encode("utf-8"))


@click.group(help="Social care finance: payment runs and their export files.")
def finance() -> None:
    pass


@finance.command("run", help="Collect payments due up to --period-end (in arrears) and write the export file. "
                             "Each payment is exported exactly once; the file is kept and can be downloaded again. "
                             "With nothing due (e.g. the same run repeated) no run is made and the exit status is 1.")
@click.option("--period-end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day of the period to pay (YYYY-MM-DD); not in the future.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the CSV file.")
def run_command(period_end, out: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from casework import audit
    from casework.cli import _app, _describe
    from casework.db import utcnow
    from casework.errors import DomainError
    from casework.extensions import database
    from casework.finance.common import local_date
    from casework.finance.money import format_pounds
    from casework.finance.runs import busy_conflict, create_run

    app = _app()
    now = utcnow()
    try:
        with app.app_context(), database.session_scope() as session:
            run = create_run(session, period_end=period_end.date(), created_by="cli", today=local_date(now), now=now)
            audit.record(session, None, "export", record_type="finance_payment_run", record_id=run.id,
                         reason="casework finance run")
            run_id, text, count, total = run.id, run.file_content or "", run.line_count, run.total_pence
    except OperationalError as exc:
        conflict = busy_conflict(exc)
        if conflict is None:
            raise
        raise click.ClickException(str(conflict)) from None
    except DomainError as exc:
        raise click.ClickException(_describe(exc)) from None
    _write(out, text)
    click.echo(f"Payment run {run_id}: {count} payment(s), total GBP {format_pounds(total)} -> {out}")


@finance.command("download", help="Write the export file of an earlier payment run again (the same bytes).")
@click.argument("run_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def download_command(run_id: int, out: str) -> None:
    from casework import audit
    from casework.cli import _app, _describe
    from casework.errors import DomainError
    from casework.extensions import database
    from casework.finance.runs import download

    app = _app()
    try:
        with app.app_context(), database.session_scope() as session:
            name, text = download(session, run_id)
            audit.record(session, None, "export", record_type="finance_payment_run", record_id=run_id,
                         reason="casework finance download")
    except DomainError as exc:
        raise click.ClickException(_describe(exc)) from None
    _write(out, text)
    click.echo(f"{name} -> {out}")

