"""Run the DfE's CIN rules engine (`csc-validator-be-cin`, PyPI) on a census file, in its OWN Python
environment and process: it pins pandas<2 / numpy<2, so it is never installed into casework's environment.

Set up once (any Python 3.10+; `casework returns install-dfe-validator --dir DIR` does the same, with a lock so
parallel callers install once), then point casework at that interpreter (`--dfe-validator` or
CIN_VALIDATOR_PYTHON):

    python3 -m venv /opt/cin-validator && /opt/cin-validator/bin/pip install csc-validator-be-cin==0.1.13 "numpy<2"
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from casework.returns.common import Issue, person_link

# Runs inside the validator's interpreter: argv = [xml path, ruleset]; prints one JSON object per issue.
SCRIPT = r"""
import importlib, json, sys, warnings, xml.etree.ElementTree as ET
warnings.simplefilter("ignore")
from cin_validator import cin_validator
root = ET.parse(sys.argv[1]).getroot()
data = cin_validator.process_data(cin_validator.convert_data(root))
registry = importlib.import_module("cin_validator.rules." + sys.argv[2]).registry
report = cin_validator.CinValidator(data, registry).user_report
for row in report.to_dict("records"):
    print(json.dumps({"child": str(row.get("LAchildID")), "rule": str(row.get("rule_code")),
                      "field": str(row.get("columns_affected")), "message": str(row.get("rule_description")),
                      "value": None if str(row.get("value_flagged")) == "nan" else str(row.get("value_flagged"))}))
"""


class ValidatorUnavailable(RuntimeError):
    pass


VALIDATOR_REQUIREMENTS = ("csc-validator-be-cin==0.1.13", "numpy<2")  # the package's wheel pulls numpy 2


def default_validator_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "casework" / "cin-validator-0.1.13"


def configured_validator() -> str | None:
    """The interpreter named by CIN_VALIDATOR_PYTHON, else the default install's if it is there."""
    python = os.environ.get("CIN_VALIDATOR_PYTHON")
    if python:
        return python
    default = default_validator_dir()
    return str(default / "bin" / "python") if (default / ".installed").exists() else None


def install_validator(target: Path | None = None, python: str = sys.executable) -> str:
    """Create the rules engine's own virtual environment at `target` (once: later calls return at once; parallel
    callers wait on a lock); returns its interpreter."""
    target = target or default_validator_dir()
    interpreter = target / "bin" / "python"
    marker = target / ".installed"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            if target.exists():
                shutil.rmtree(target)  # a half-made environment from an interrupted install
            try:
                subprocess.run([python, "-m", "venv", str(target)], check=True, capture_output=True, text=True)  # noqa: S603
                subprocess.run([str(interpreter), "-m", "pip", "install", "--quiet", *VALIDATOR_REQUIREMENTS],  # noqa: S603
                               check=True, capture_output=True, text=True)
            except subprocess.CalledProcessError as exc:
                raise ValidatorUnavailable(f"could not install the DfE validator in {target}: "
                                           f"{(exc.stderr or '').strip()[-500:]}") from exc
            marker.write_text(" ".join(VALIDATOR_REQUIREMENTS) + "\n")
    return str(interpreter)


FIRST_RULESET_YEAR, LAST_RULESET_YEAR = 2023, 2027  # the rulesets csc-validator-be-cin 0.1.13 ships


def ruleset_for(year: int) -> str:
    """Collection year 2026 (2025-26) -> cin2025_26; years outside the package's rulesets use the nearest."""
    year = min(max(year, FIRST_RULESET_YEAR), LAST_RULESET_YEAR)
    return f"cin{year - 1}_{year % 100:02d}"


def run_dfe_validator(xml: bytes, year: int, python: str, child_people: dict[str, int],
                      timeout: float = 1800) -> list[Issue]:
    """The DfE rules' issues, one per rule, child and field, linked to the record (LAchildID -> person)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cin.xml"
        path.write_bytes(xml)
        try:
            done = subprocess.run([python, "-c", SCRIPT, str(path), ruleset_for(year)], capture_output=True,  # noqa: S603 - operator-configured interpreter, fixed script
                                  text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ValidatorUnavailable(f"could not run the DfE validator with {python}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValidatorUnavailable(f"the DfE validator failed ({python}): {last}")
    issues = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        person_id = child_people.get(row["child"])
        value = f" (value: {row['value']})" if row.get("value") else ""
        issues.append(Issue(person_id, row["child"], row["field"], f"dfe_{row['rule']}", row["message"] + value,
                            person_link(person_id)))
    return issues
