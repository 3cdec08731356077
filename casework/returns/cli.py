"""`casework returns cin|cld`: write a statutory return, with a progress bar and a summary of counts and issues."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from casework.returns.common import Issue


class _Progress:
    """Adapts the builders' total/progress callbacks to a click progress bar (started once the total is known)."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def total(self, n: int) -> None:
        self.bar = click.progressbar(length=max(n, 1), label=self.label, file=sys.stderr)
        self.bar.__enter__()

    def step(self, n: int) -> None:
        if self.bar is not None and n:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _write_issues(path: Path | None, issues: list[Issue]) -> None:
    if path is None:
        return
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["person_id", "record", "field", "code", "message", "link"])
        writer.writeheader()
        for issue in issues:
            writer.writerow(issue.as_dict())


def _summarise_issues(issues: list[Issue], shown: int = 10) -> None:
    by_code: dict[str, int] = {}
    for issue in issues:
        by_code[issue.code] = by_code.get(issue.code, 0) + 1
    click.echo(f"Issues: {len(issues)}" + (" (none)" if not issues else ""))
    for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {code:<45} {n}")
    for issue in issues[:shown]:
        click.echo(f"  - {issue.record} {issue.field}: {issue.message} ({issue.link or '-'})")
    if len(issues) > shown:
        click.echo(f"  ... {len(issues) - shown} more (use --issues FILE for all)")


@click.group(help="Statutory returns: the Children in Need census and Adult Social Care Client Level Data.")
def returns() -> None:
    pass


@returns.command("cin", help="Write the Children in Need census XML for a collection year (YEAR = the year the "
                             "collection ends: 2026 covers 1 April 2025 to 31 March 2026).")
@click.option("--year", required=True, type=click.IntRange(2000, 2100))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--la", "la_code", envvar="DFE_LA_CODE", required=True, show_envvar=True,
              help="The council's 3-digit DfE LA code.")
@click.option("--serial", default=1, show_default=True, type=click.IntRange(1, 999999))
@click.option("--issues", "issues_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every issue (child, field, code, link) to this CSV file.")
@click.option("--dfe-validator", "dfe_python", envvar="CIN_VALIDATOR_PYTHON", show_envvar=True, default=None,
              help="Python interpreter of a separate environment with csc-validator-be-cin: also run the DfE rules.")
def cin(year: int, out: Path, la_code: str, serial: int, issues_path: Path | None, dfe_python: str | None) -> None:
    from casework.cli import _app
    from casework.extensions import database
    from casework.returns.cin import build_cin, collection_period
    from engine.calendar import WorkingDayCalendar

    app = _app()
    progress = _Progress("Children")
    try:
        with app.app_context(), database.session_scope() as session:
            calendar = WorkingDayCalendar(closure_days=app.config["SETTINGS"].closure_days)
            ret = build_cin(session.connection(), year, la_code=la_code, serial_no=serial, calendar=calendar,
                            progress=progress.step, total=progress.total)
    finally:
        progress.close()
    out.write_bytes(ret.xml)
    if dfe_python:
        from casework.returns.dfe_validator import ValidatorUnavailable, ruleset_for, run_dfe_validator

        click.echo(f"Running the DfE rules ({ruleset_for(year)}) in {dfe_python} ...", err=True)
        try:
            ret.issues.extend(run_dfe_validator(ret.xml, year, dfe_python, ret.child_people))
        except ValidatorUnavailable as exc:
            raise click.ClickException(f"{exc} (the return itself was written to {out})") from None
    _write_issues(issues_path, ret.issues)
    start, end = collection_period(year)
    click.echo(f"CIN census {year} ({start} to {end}) written to {out}")
    if ret.empty:
        click.echo("No children in need in this collection year: the return is valid and empty.")
    click.echo(f"Children: {ret.children}  CIN episodes: {ret.episodes}")
    _summarise_issues(ret.issues)


@returns.command("install-dfe-validator", help="Install the DfE's CIN rules engine (csc-validator-be-cin) in its own "
                                                "virtual environment and print its interpreter (for --dfe-validator "
                                                "or CIN_VALIDATOR_PYTHON).")
@click.option("--dir", "target", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create it (default: ~/.cache/casework/cin-validator-0.1.13).")
def install_dfe_validator(target: Path | None) -> None:
    from casework.returns.dfe_validator import ValidatorUnavailable, install_validator

    try:
        click.echo(install_validator(target))
    except ValidatorUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@returns.command("cld", help="Write the Adult Social Care Client Level Data CSV for a quarter of the financial "
                             "year (2026Q2 = 1 July to 30 September 2026).")
@click.option("--quarter", required=True, help="YYYYQn, n = 1 (April-June) to 4 (January-March).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--la", "la_code", envvar="DFE_LA_CODE", required=True, show_envvar=True,
              help="The council's LA code.")
@click.option("--issues", "issues_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every issue (person, field, code, link) to this CSV file.")
def cld(quarter: str, out: Path, la_code: str, issues_path: Path | None) -> None:
    from casework.cli import _app
    from casework.extensions import database
    from casework.returns.cld import build_cld, quarter_period

    try:
        start, end = quarter_period(quarter)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--quarter") from None
    app = _app()
    progress = _Progress("Events")
    try:
        with app.app_context(), database.session_scope() as session:
            ret = build_cld(session.connection(), quarter, la_code=la_code, progress=progress.step,
                            total=progress.total)
    finally:
        progress.close()
    out.write_text(ret.csv, newline="")
    _write_issues(issues_path, ret.issues)
    click.echo(f"Client Level Data {quarter} ({start} to {end}) written to {out}")
    if ret.empty:
        click.echo("No adult social care events in this quarter: the file holds the header row only.")
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(ret.by_event.items())) or "none"
    click.echo(f"Rows: {ret.rows}  People: {ret.people}  Events: {counts}")
    _summarise_issues(ret.issues)
