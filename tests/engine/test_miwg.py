"""Files from other modelling tools (the BPMN MIWG test suite) load and validate without crashing;
non-executable ones are reported as such, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.definitions import BPMN_NS, load_bundle, validate_bundle
from engine.problems import ERROR, Problem

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bpmn-miwg"
FILES = sorted(CORPUS.glob("*.bpmn"))


def test_corpus_is_present():
    assert len(FILES) >= 20, f"expected the MIWG corpus in {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_miwg_file_loads_and_validates(path):
    bundle = load_bundle([path])
    problems = validate_bundle(bundle, known_roles=set(), connectors=set())
    assert all(isinstance(p, Problem) and p.message for p in problems)

    root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    processes = root.findall(f"{{{BPMN_NS}}}process")
    not_executable = [p.get("id") for p in processes if p.get("isExecutable") == "false"]
    for pid in not_executable:
        reported = [p for p in problems if p.element_id == pid and p.message.startswith("not executable")]
        assert len(reported) == 1, f"{pid} not reported as not executable"
        assert 'isExecutable="false"' in reported[0].message
    if processes and len(not_executable) == len(processes):
        # nothing can run: publishing must be blocked, and nothing is parsed for running
        assert bundle.process_keys == [] and bundle.spec is None
        assert any(p.severity == ERROR and p.message.startswith("not executable") for p in problems)
    else:
        assert bundle.process_keys, "an executable process must be found"
        # never published as-is: these models were not written for this engine (no forms, roles...)
        assert any(p.severity == ERROR for p in problems)
