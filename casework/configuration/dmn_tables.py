"""Decision tables (DMN) as editable tables: read the rules of each decision table, write changed, added and
removed rules back. Only ``rule`` elements are touched; inputs, outputs, descriptions of the table and any
other content stay as they were. Cell expressions are checked by the engine's validation after saving."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from casework.errors import Invalid, NotFound
from engine.errors import Invalid as EngineInvalid
from engine.xmlsafe import parse_xml

MAX_RULES = 500
MAX_CELL = 1000


@dataclass
class Rule:
    id: str
    description: str
    inputs: list[str]
    outputs: list[str]


@dataclass
class Table:
    decision_id: str
    decision_name: str
    table_id: str
    hit_policy: str
    inputs: list[dict] = field(default_factory=list)  # {"id", "label", "expression"}
    outputs: list[dict] = field(default_factory=list)  # {"id", "label", "name"}
    rules: list[Rule] = field(default_factory=list)


def _parse(xml: str) -> etree._Element:
    try:
        return parse_xml(xml.encode("utf-8"), what="the decision file")
    except EngineInvalid as exc:
        raise Invalid(str(exc)) from None


def _ns(root: etree._Element) -> str:
    return etree.QName(root).namespace or ""


def _text(el: etree._Element | None, ns: str) -> str:
    if el is None:
        return ""
    node = el.find(f"{{{ns}}}text")
    return (node.text or "") if node is not None else ""


def read(xml: str) -> list[Table]:
    root = _parse(xml)
    ns = _ns(root)
    tables = []
    for decision in root.iter(f"{{{ns}}}decision"):
        table = decision.find(f"{{{ns}}}decisionTable")
        if table is None:
            continue
        t = Table(decision.get("id") or "", decision.get("name") or decision.get("id") or "", table.get("id") or "",
                  table.get("hitPolicy") or "UNIQUE")
        for inp in table.findall(f"{{{ns}}}input"):
            t.inputs.append({"id": inp.get("id"), "label": inp.get("label") or inp.get("id"),
                             "expression": _text(inp.find(f"{{{ns}}}inputExpression"), ns)})
        for out in table.findall(f"{{{ns}}}output"):
            t.outputs.append({"id": out.get("id"), "label": out.get("label") or out.get("name") or out.get("id"),
                              "name": out.get("name") or ""})
        for rule in table.findall(f"{{{ns}}}rule"):
            desc = rule.find(f"{{{ns}}}description")
            t.rules.append(Rule(rule.get("id") or "", (desc.text or "") if desc is not None else "",
                                [_text(e, ns) for e in rule.findall(f"{{{ns}}}inputEntry")],
                                [_text(e, ns) for e in rule.findall(f"{{{ns}}}outputEntry")]))
        tables.append(t)
    return tables


def _set_entry(entry: etree._Element, ns: str, value: str) -> None:
    node = entry.find(f"{{{ns}}}text")
    if node is None:
        node = etree.SubElement(entry, f"{{{ns}}}text")
    node.text = value


def write(xml: str, decision_id: str, rules: list[dict]) -> str:
    """Replace the rules of ``decision_id``'s table: ``[{"id": str | None, "description", "inputs", "outputs"}]``
    in the wanted order (id None = a new rule; existing rules left out are removed)."""
    root = _parse(xml)
    ns = _ns(root)
    decision = next((d for d in root.iter(f"{{{ns}}}decision") if d.get("id") == decision_id), None)
    table = decision.find(f"{{{ns}}}decisionTable") if decision is not None else None
    if table is None:
        raise NotFound(f"There is no decision table {decision_id!r} in the file")
    if len(rules) > MAX_RULES:
        raise Invalid(f"A table can have at most {MAX_RULES} rules")
    n_in, n_out = len(table.findall(f"{{{ns}}}input")), len(table.findall(f"{{{ns}}}output"))
    existing = {r.get("id"): r for r in table.findall(f"{{{ns}}}rule")}
    used_ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for rule in existing.values():
        table.remove(rule)
    prefix = re.sub(r"[^A-Za-z0-9_]", "_", table.get("id") or decision_id)
    counter = 1
    indent = "\n" + " " * 8
    for n, wanted in enumerate(rules, start=1):
        inputs, outputs = list(wanted.get("inputs") or []), list(wanted.get("outputs") or [])
        if len(inputs) != n_in or len(outputs) != n_out:
            raise Invalid(f"rule {n} needs {n_in} input and {n_out} output cells")
        for cell in inputs + outputs:
            if len(str(cell)) > MAX_CELL:
                raise Invalid(f"rule {n}: a cell is longer than {MAX_CELL} characters")
        rule = existing.get(wanted.get("id")) if wanted.get("id") else None
        if rule is None:
            while f"{prefix}_rule{counter}" in used_ids:
                counter += 1
            rule_id = f"{prefix}_rule{counter}"
            used_ids.add(rule_id)
            rule = etree.Element(f"{{{ns}}}rule", id=rule_id)
            rule.text = indent + "  "
            for kind, values in (("inputEntry", inputs), ("outputEntry", outputs)):
                for k, _ in enumerate(values):
                    entry = etree.SubElement(rule, f"{{{ns}}}{kind}", id=f"{rule_id}_{kind[0]}{k}")
                    entry.tail = indent + "  "
            rule[-1].tail = indent
        for entry, value in zip(rule.findall(f"{{{ns}}}inputEntry"), inputs, strict=True):
            _set_entry(entry, ns, str(value).strip() or "-")
        for entry, value in zip(rule.findall(f"{{{ns}}}outputEntry"), outputs, strict=True):
            _set_entry(entry, ns, str(value).strip())
        description = str(wanted.get("description") or "").strip()
        desc = rule.find(f"{{{ns}}}description")
        if description:
            if desc is None:
                desc = etree.Element(f"{{{ns}}}description")
                rule.insert(0, desc)
                desc.tail = indent + "  "
            desc.text = description
        elif desc is not None:
            rule.remove(desc)
        rule.tail = indent if n < len(rules) else "\n" + " " * 6
        table.append(rule)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8").decode("utf-8")
