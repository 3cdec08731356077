"""The `casework` command: init, serve, worker, demo, users."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask

from casework.config import ConfigError, Settings


def _app(**overrides: object) -> Flask:
    from casework.app import create_app
    from casework.db import check_connection
    from casework.extensions import database

    try:
        app = create_app(Settings.from_env(**overrides))
        assert database.engine is not None
        check_connection(database.engine)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return app


@click.group(help="casework: social care case management. Settings come from the environment; see README.")
def main() -> None:
    pass


@main.command(help="Create or upgrade the database to the latest schema and load the bundled processes and forms.")
def init() -> None:
    from casework.db import upgrade_to_head
    from casework.extensions import database
    from casework.processes import load_bundled_processes

    app = _app()
    with app.app_context():
        assert database.engine is not None
        upgrade_to_head(database.engine)
        click.echo(f"Database ready: {database.engine.url.render_as_string(hide_password=True)}")
        with database.session_scope() as session:
            report = load_bundled_processes(session, app.config["SETTINGS"], actor="casework init")
        for line in report:
            click.echo(line)


@main.command(help="Serve the web app (development server; use gunicorn 'casework.wsgi:app' in production).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Also run the timer worker in a background thread (embedded mode).")
def serve(host: str, port: int, worker: bool) -> None:
    app = _app()
    if worker:
        from casework.worker import start_background_worker

        start_background_worker(app)
    click.echo(f"casework is running on http://{host}:{port}  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@main.command(help="Fire due workflow timers (statutory timescales, escalations) in a loop. "
                   "Run one or more beside the web servers in production.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between polls when nothing is due.")
@click.option("--once", is_flag=True, help="Fire what is due now and exit.")
def worker(interval: float, once: bool) -> None:
    from casework.worker import run_once

    app = _app()
    click.echo("casework worker started" + (" (single pass)" if once else f", polling every {interval}s"))
    while True:
        fired = run_once(app)
        if fired:
            click.echo(f"fired {fired} timer(s)")
        if once:
            return
        if not fired:
            time.sleep(interval)


@main.command(help="Create demo teams and users for every role (and, with --people, a synthetic population).")
@click.option("--people", default=50, show_default=True, type=click.IntRange(0, 5_000_000),
              help="Number of synthetic people to generate.")
def demo(people: int) -> None:
    from casework.demo import DEMO_PASSWORD, run_demo
    from casework.extensions import database

    app = _app()
    with app.app_context(), database.session_scope() as session:
        rows = run_demo(session, people=people, echo=click.echo)
    click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD})")
    for username, name, roles in rows:
        click.echo(f"  {username:<18} {name:<14} {roles}")


@main.group(help="Manage user accounts.")
def users() -> None:
    pass


@users.command("create", help="Create a user. The password is asked for (or read from CASEWORK_NEW_PASSWORD_STDIN).")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--role", "roles", multiple=True, help="Role code, repeatable (e.g. practitioner, team_manager).")
@click.option("--team", "teams", multiple=True, help="Team code, repeatable.")
@click.option("--manages", multiple=True, help="Team code this user manages, repeatable.")
@click.option("--email", default=None)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(username: str, display_name: str, roles: tuple[str, ...], teams: tuple[str, ...],
                 manages: tuple[str, ...], email: str | None, password: str) -> None:
    from casework.accounts.service import create_user
    from casework.errors import DomainError
    from casework.extensions import database

    app = _app()
    try:
        with app.app_context(), database.session_scope() as session:
            user = create_user(session, username=username, display_name=display_name, password=password,
                               roles=roles, teams=teams, manages=manages, email=email)
            click.echo(f"Created user {user.username} (id {user.id})")
    except DomainError as exc:
        raise click.ClickException(_describe(exc)) from None


@users.command("list", help="List users.")
def users_list() -> None:
    from casework.accounts.service import list_users
    from casework.extensions import database

    app = _app()
    with app.app_context(), database.session_scope() as session:
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username:<20} {user.display_name:<24} {state:<9} {', '.join(sorted(user.role_codes))}")


@users.command("disable", help="Disable a user and sign them out everywhere.")
@click.argument("username")
def users_disable(username: str) -> None:
    from casework.accounts.service import disable_user
    from casework.errors import DomainError
    from casework.extensions import database

    app = _app()
    try:
        with app.app_context(), database.session_scope() as session:
            disable_user(session, username)
    except DomainError as exc:
        raise click.ClickException(_describe(exc)) from None
    click.echo(f"Disabled {username}")


@main.group(help="The tamper-evident audit trail.")
def audit() -> None:
    pass


@audit.command("verify", help="Walk the hash chain; report the first edited, deleted or reordered entry "
                              "(exit status 1). Pass --anchor SEQ:HASH values recorded earlier to detect "
                              "a chain rewritten wholesale.")
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH", help="A (sequence, hash) noted earlier.")
def audit_verify(anchors: tuple[str, ...]) -> None:
    from casework.audit import verify_chain
    from casework.extensions import database

    parsed: dict[int, str] = {}
    for anchor in anchors:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter(f"{anchor!r} is not SEQ:HASH (64 hex digits)", param_hint="--anchor")
        parsed[int(seq)] = digest.lower()
    app = _app()
    with app.app_context(), database.session_scope() as session:
        result = verify_chain(session, anchors=parsed)
    if result.problem is not None:
        click.echo(f"AUDIT CHAIN BROKEN at entry {result.problem.seq} ({result.problem.kind}): "
                   f"{result.problem.message}", err=True)
        sys.exit(1)
    click.echo(f"Audit chain intact: {result.checked} entries; last {result.last_seq}:{result.last_hash}")


@users.command("reset-2fa", help="Remove a user's two-step verification (lost device) and sign them out "
                                 "everywhere; they set it up again after signing in.")
@click.argument("username")
def users_reset_2fa(username: str) -> None:
    from casework import audit
    from casework.accounts.service import get_user
    from casework.auth.totp import reset_totp
    from casework.errors import DomainError
    from casework.extensions import database

    app = _app()
    try:
        with app.app_context(), database.session_scope() as session:
            user = get_user(session, username)
            removed = reset_totp(session, user)
            if removed:
                audit.record(session, None, "totp_change", record_type="user", record_id=user.id,
                             fields=["totp"], reason="reset by an administrator (casework users reset-2fa)")
    except DomainError as exc:
        raise click.ClickException(_describe(exc)) from None
    click.echo(f"Two-step verification removed for {username}" if removed
               else f"{username} had no two-step verification")


def _describe(exc: Exception) -> str:

    details = getattr(exc, "details", None) or {}
    extra = "; ".join(f"{k}: {v}" for k, v in details.items())
    return f"{exc}" + (f" ({extra})" if extra else "")


from casework.finance.cli import finance as _finance_group  # noqa: E402

main.add_command(_finance_group)

from casework.returns.cli import returns as _returns_group  # noqa: E402

main.add_command(_returns_group)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
