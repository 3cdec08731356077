"""The CI dependency-audit wrapper: fails on unexplained findings, never mistakes a skipped audit for a clean one."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dependency_audit.py"


@pytest.fixture
def audit_script():
    spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake(monkeypatch, module, stdout="", stderr=""):
    monkeypatch.setattr(module.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, stdout, stderr))


def test_vulnerability_fails_the_build(monkeypatch, capsys, audit_script):
    report = {"dependencies": [{"name": "flask", "version": "0.1", "vulns": [
        {"id": "PYSEC-0000-1", "fix_versions": ["9.9"], "aliases": []}]}]}
    _fake(monkeypatch, audit_script, json.dumps(report))
    assert audit_script.main() == 1
    assert "FAIL: flask 0.1: PYSEC-0000-1" in capsys.readouterr().out


def test_explained_finding_passes(monkeypatch, capsys, tmp_path, audit_script):
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("PYSEC-0000-1  # not reachable: we never call the affected function\n")
    monkeypatch.setattr(audit_script, "IGNORE_FILE", ignore)
    monkeypatch.setattr(audit_script, "ROOT", tmp_path)
    report = {"dependencies": [{"name": "flask", "version": "0.1", "vulns": [
        {"id": "PYSEC-0000-1", "fix_versions": [], "aliases": []}]}]}
    _fake(monkeypatch, audit_script, json.dumps(report))
    assert audit_script.main() == 0
    assert "IGNORED (not reachable" in capsys.readouterr().out


def test_unreachable_service_is_reported_not_fatal(monkeypatch, capsys, audit_script):
    _fake(monkeypatch, audit_script, "", "requests.exceptions.ConnectionError: Name or service not known")
    assert audit_script.main() == 0
    assert "DEPENDENCY AUDIT INCOMPLETE" in capsys.readouterr().out


def test_skipped_packages_make_the_audit_incomplete(monkeypatch, capsys, audit_script):
    report = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be "
                                                                "audited: flask (3.1.3)"}]}
    _fake(monkeypatch, audit_script, json.dumps(report))
    assert audit_script.main() == 0
    out = capsys.readouterr().out
    assert "1 of 1 packages could not be audited" in out and "No known vulnerabilities" not in out
