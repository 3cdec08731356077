"""Decision table editor: rules read from DMN, changed/added/removed in place, other content untouched."""

from __future__ import annotations

from lxml import etree

from casework.configuration import dmn_tables, drafts
from tests.admin.conftest import soup
from tests.admin.samples import triage_files
from tests.conftest import sign_in

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="band_defs" name="Bands" \
namespace="https://casework.test/dmn">
  <decision id="band" name="Priority band">
    <description>kept as it is</description>
    <decisionTable id="band_table" hitPolicy="FIRST">
      <input id="band_in" label="Score">
        <inputExpression id="band_in_expr" typeRef="number"><text>score</text></inputExpression>
      </input>
      <output id="band_out" label="Band" name="band" typeRef="string"/>
      <rule id="band_r1">
        <description>High</description>
        <inputEntry id="band_r1_i0"><text>&gt;= 10</text></inputEntry>
        <outputEntry id="band_r1_o0"><text>"high"</text></outputEntry>
      </rule>
      <rule id="band_r2">
        <inputEntry id="band_r2_i0"><text>-</text></inputEntry>
        <outputEntry id="band_r2_o0"><text>"low"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _c14n(xml: str) -> bytes:
    return etree.tostring(etree.fromstring(xml.encode()), method="c14n2", strip_text=True)


def test_read_and_unchanged_write_round_trip():
    table = dmn_tables.read(DMN)[0]
    assert [r.inputs + r.outputs for r in table.rules] == [[">= 10", '"high"'], ["-", '"low"']]
    same = [{"id": r.id, "description": r.description, "inputs": r.inputs, "outputs": r.outputs}
            for r in table.rules]
    assert _c14n(dmn_tables.write(DMN, "band", same)) == _c14n(DMN)


def test_editor_page_changes_adds_and_removes_rules(client, session, wf, alice):
    files = triage_files()
    files["dmn"] = {"band.dmn": DMN}
    draft = drafts.create_draft(session, process_key="triage", title="t", files=files, actor="alice", reason=None)
    token = sign_in(client, alice)
    page = soup(client.get(f"/admin/drafts/{draft.id}/decisions/band.dmn"))
    assert page.select_one("#r0_i0")["value"] == ">= 10"
    assert page.select_one('tr[data-rule="new"]') is not None
    response = client.post(f"/admin/drafts/{draft.id}/decisions/band.dmn", data={
        "csrf_token": token, "version": draft.version, "decision": "band", "rows": "3",
        "r0_id": "band_r1", "r0_i0": ">= 20", "r0_o0": '"high"', "r0_desc": "High",
        "r1_id": "band_r2", "r1_i0": "-", "r1_o0": '"low"', "r1_delete": "yes",
        "r2_i0": "-", "r2_o0": '"normal"', "r2_desc": "Everything else"})
    assert response.status_code == 302
    session.expire(draft)
    saved = drafts.files_of(draft)["dmn"]["band.dmn"]
    rules = dmn_tables.read(saved)[0].rules
    assert [(r.id, r.inputs, r.outputs, r.description) for r in rules] == [
        ("band_r1", [">= 20"], ['"high"'], "High"),
        ("band_table_rule1", ["-"], ['"normal"'], "Everything else")]
    assert "kept as it is" in saved


def test_bad_cell_is_reported_after_saving(client, session, wf, alice):
    files = triage_files()
    files["dmn"] = {"band.dmn": DMN}
    draft = drafts.create_draft(session, process_key="triage", title="t", files=files, actor="alice", reason=None)
    token = sign_in(client, alice)
    client.post(f"/admin/drafts/{draft.id}/decisions/band.dmn", data={
        "csrf_token": token, "version": draft.version, "decision": "band", "rows": "2",
        "r0_id": "band_r1", "r0_i0": ">= __import__('os')", "r0_o0": '"high"',
        "r1_id": "band_r2", "r1_i0": "-", "r1_o0": '"low"'})
    page = soup(client.get(f"/admin/drafts/{draft.id}/decisions/band.dmn"))
    assert "does not compile in the sandbox" in page.select_one("#problems").text
