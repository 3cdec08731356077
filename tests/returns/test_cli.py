"""`casework returns cin|cld` on a real (empty) database: valid empty returns, said so, summary printed."""

import csv

import pytest
from click.testing import CliRunner
from lxml import etree

from casework.cli import main
from tests.conftest import fresh_database_url


@pytest.fixture
def cli_env(request, tmp_path_factory, tmp_path):
    processes = tmp_path / "processes"
    processes.mkdir()
    env = {"DATABASE_URL": fresh_database_url(request.config, tmp_path_factory, "returns_cli"),
           "CASEWORK_INSTANCE_DIR": str(tmp_path / "instance"), "CASEWORK_PROCESSES_DIR": str(processes),
           "DFE_LA_CODE": "999"}
    result = CliRunner().invoke(main, ["init"], env=env)
    assert result.exit_code == 0, result.output
    return env


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_empty_year_and_quarter(cli_env, tmp_path):
    out, issues = tmp_path / "cin.xml", tmp_path / "issues.csv"
    result = run(cli_env, "returns", "cin", "--year", "2026", "--out", str(out), "--issues", str(issues))
    assert result.exit_code == 0, result.output
    assert "valid and empty" in result.output and "Children: 0" in result.output and "Issues: 0" in result.output
    root = etree.fromstring(out.read_bytes())
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2026-03-31"
    assert root.findtext("Header/Source/LEA") == "999" and len(root.find("Children")) == 0
    assert list(csv.DictReader(issues.open())) == []

    out = tmp_path / "cld.csv"
    result = run(cli_env, "returns", "cld", "--quarter", "2026Q2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2026-07-01 to 2026-09-30" in result.output and "header row only" in result.output
    assert out.read_text().startswith("LA_Code,LA_Person_Unique_Identifier,")


def test_bad_quarter_is_refused(cli_env, tmp_path):
    result = run(cli_env, "returns", "cld", "--quarter", "2026-2", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 2 and "2026Q2" in result.output


def test_dfe_validator_runs_in_its_own_interpreter(cli_env, tmp_path):
    ok, broken = tmp_path / "ok-python", tmp_path / "broken-python"
    ok.write_text("#!/bin/sh\nexit 0\n")
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: cin_validator' >&2\nexit 1\n")
    ok.chmod(0o755)
    broken.chmod(0o755)
    out = tmp_path / "cin.xml"
    result = run(cli_env, "returns", "cin", "--year", "2026", "--out", str(out), "--dfe-validator", str(ok))
    assert result.exit_code == 0 and "cin2025_26" in result.output and "Issues: 0" in result.output
    result = run(cli_env, "returns", "cin", "--year", "2026", "--out", str(out), "--dfe-validator", str(broken))
    assert result.exit_code == 1 and "ModuleNotFoundError" in result.output and "was written" in result.output
