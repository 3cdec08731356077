"""The admin settings page no longer offers timescales that nothing reads: it says the statutory timescales are
in each process's decision tables and links to those processes (the named tables exist and the processes call
them); closure days are still edited there."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from admin.settings_views import TIMESCALE_TABLES
from casework.configuration.settings import closure_days
from tests.conftest import sign_in
from tests.factories import create_user

ROOT = Path(__file__).parents[2]


def test_timescale_tables_named_on_the_page_are_the_ones_the_processes_call():
    for process_key, table, _ in TIMESCALE_TABLES:
        bpmn = (ROOT / "processes" / f"{process_key}.bpmn").read_text()
        assert re.search(rf"\b{table}\b", bpmn), (process_key, table)
        assert any(f'<decision id="{table}"' in p.read_text() for p in (ROOT / "processes").glob("*.dmn")), table


def test_settings_page_links_to_the_decision_tables_and_saves_closure_days(client, session):
    config = create_user(session, username="set.config", roles=["configurator"])
    token = sign_in(client, config)
    doc = BeautifulSoup(client.get("/admin/settings").get_data(as_text=True), "html.parser")
    assert doc.select_one("#closure_days") is not None
    assert doc.select_one("input[name='initial_child_protection_conference']") is None  # no dead inputs
    links = [a["href"] for a in doc.select("#timescale-tables a")]
    assert links == [f"/admin/processes/{key}" for key, _, _ in TIMESCALE_TABLES]
    assert "decision tables" in doc.select_one("#timescales").find_next("p").get_text()

    bad = client.post("/admin/settings", data={"csrf_token": token, "closure_days": "31/02/2026"})
    assert bad.status_code == 422
    assert "not a real date" in BeautifulSoup(bad.get_data(as_text=True), "html.parser").select_one(
        ".govuk-error-summary").get_text()
    ok = client.post("/admin/settings", data={"csrf_token": token, "closure_days": "2026-12-29"})
    assert ok.status_code == 302
    assert [d.isoformat() for d in closure_days(session)] == ["2026-12-29"]
