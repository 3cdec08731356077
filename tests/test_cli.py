"""The casework command on a real database: init, demo, users, worker, and one-line errors."""

import pytest
from click.testing import CliRunner

from casework.cli import main
from tests.conftest import fresh_database_url


@pytest.fixture
def cli_env(request, tmp_path_factory, tmp_path):
    processes = tmp_path / "processes"
    processes.mkdir()
    return {
        "DATABASE_URL": fresh_database_url(request.config, tmp_path_factory, "cli"),
        "CASEWORK_INSTANCE_DIR": str(tmp_path / "instance"),
        "CASEWORK_PROCESSES_DIR": str(processes),
    }


def run(env, *args, input=None):
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_init_demo_and_users(cli_env):
    first = run(cli_env, "init")
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output and "No BPMN files found" in first.output
    assert run(cli_env, "init").exit_code == 0  # idempotent

    demo = run(cli_env, "demo", "--people", "0")
    assert demo.exit_code == 0, demo.output
    assert "morgan.manager" in demo.output and "casework-demo-2026" in demo.output
    again = run(cli_env, "demo", "--people", "0")
    assert again.exit_code == 0  # demo is idempotent too

    created = run(cli_env, "users", "create", "new.person", "--name", "New Person", "--role", "practitioner",
                  "--team", "mash", input="a-strong-passphrase-1\na-strong-passphrase-1\n")
    assert created.exit_code == 0, created.output
    listed = run(cli_env, "users", "list")
    assert "new.person" in listed.output and "active" in listed.output
    assert run(cli_env, "users", "disable", "new.person").exit_code == 0
    assert "disabled" in run(cli_env, "users", "list").output.split("new.person")[1].splitlines()[0]


def test_user_create_errors_are_one_line(cli_env):
    run(cli_env, "init")
    weak = run(cli_env, "users", "create", "weak.person", "--name", "W", "--role", "practitioner",
               input="short\nshort\n")
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    bad_role = run(cli_env, "users", "create", "role.person", "--name", "R", "--role", "wizard",
                   input="a-strong-passphrase-1\na-strong-passphrase-1\n")
    assert bad_role.exit_code == 1 and "Unknown role 'wizard'" in bad_role.output
    missing = run(cli_env, "users", "disable", "nobody")
    assert missing.exit_code == 1 and "No user called 'nobody'" in missing.output


def test_worker_once_runs_a_pass(cli_env):
    run(cli_env, "init")
    result = run(cli_env, "worker", "--once")
    assert result.exit_code == 0 and "single pass" in result.output


def test_unreachable_postgres_is_one_actionable_line(tmp_path):
    env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing", "CASEWORK_INSTANCE_DIR": str(tmp_path)}
    result = run(env, "init")
    assert result.exit_code == 1
    assert "Cannot connect to PostgreSQL" in result.output and "DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_unwritable_sqlite_path_is_one_actionable_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {"DATABASE_URL": f"sqlite:///{blocker}/sub/casework.db", "CASEWORK_INSTANCE_DIR": str(tmp_path)}
    result = run(env, "init")
    assert result.exit_code == 1 and "Cannot create the database folder" in result.output


def test_unknown_setting_is_refused(tmp_path):
    result = run({"CASEWORK_SECRETKEY": "x", "CASEWORK_INSTANCE_DIR": str(tmp_path)}, "init")
    assert result.exit_code == 1 and "Unknown setting CASEWORK_SECRETKEY" in result.output
