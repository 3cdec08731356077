"""``diff_bundles``: what changed between two versions of a process, in plain words (for the admin)."""

from __future__ import annotations

import json

from lxml import etree

from engine.definitions import BPMN_NS, ProcessBundle

_WORDS = {
    "userTask": "user task", "manualTask": "manual task", "scriptTask": "script task",
    "serviceTask": "service task", "businessRuleTask": "business rule task", "sendTask": "send task",
    "receiveTask": "receive task", "task": "task", "callActivity": "call activity", "subProcess": "subprocess",
    "exclusiveGateway": "exclusive gateway", "parallelGateway": "parallel gateway",
    "inclusiveGateway": "inclusive gateway", "eventBasedGateway": "event-based gateway",
    "startEvent": "start event", "endEvent": "end event", "boundaryEvent": "boundary event",
    "intermediateCatchEvent": "intermediate catch event", "intermediateThrowEvent": "intermediate throw event",
    "sequenceFlow": "sequence flow", "lane": "lane", "process": "process", "message": "message",
    "signal": "signal", "error": "error", "escalation": "escalation", "dataObject": "data object",
}


def _signature(element: etree._Element) -> str:
    """Attributes and content of an element, leaving out child elements that have their own id (they are
    compared on their own) and whitespace differences."""
    parts = [etree.QName(element).localname, json.dumps(sorted(element.attrib.items()))]
    if element.text and element.text.strip():
        parts.append(" ".join(element.text.split()))
    for child in element:
        if not isinstance(child.tag, str) or child.get("id"):
            continue
        parts.append(_signature(child))
    return "|".join(parts)


def _elements(bundle: ProcessBundle) -> dict[str, tuple[str, str | None, str]]:
    out = {}
    for root in bundle.trees.values():
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.get("id") or etree.QName(el).namespace != BPMN_NS:
                continue
            if etree.QName(el).localname in ("definitions",):
                continue
            out[el.get("id")] = (etree.QName(el).localname, el.get("name"), _signature(el))
    return out


def _label(el_id: str, info: tuple[str, str | None, str]) -> str:
    kind, name, _ = info
    word = _WORDS.get(kind, kind)
    return f"{word} '{name}' ({el_id})" if name else f"{word} {el_id}"


def diff_bundles(old: ProcessBundle, new: ProcessBundle) -> list[str]:
    """Plain-words list of differences: added/removed/changed model elements, forms, DMN files."""
    if old.content_hash == new.content_hash:
        return []
    lines: list[str] = []
    before, after = _elements(old), _elements(new)
    for el_id in sorted(after.keys() - before.keys()):
        lines.append(f"Added {_label(el_id, after[el_id])}")
    for el_id in sorted(before.keys() - after.keys()):
        lines.append(f"Removed {_label(el_id, before[el_id])}")
    for el_id in sorted(before.keys() & after.keys()):
        b, a = before[el_id], after[el_id]
        if b == a:
            continue
        if b[0] != a[0]:
            lines.append(f"Changed {el_id} from a {_WORDS.get(b[0], b[0])} to a {_WORDS.get(a[0], a[0])}")
        elif b[1] != a[1]:
            lines.append(f"Renamed {_WORDS.get(a[0], a[0])} {el_id} from '{b[1] or ''}' to '{a[1] or ''}'")
            if b[2].replace(json.dumps(["name", b[1]]), "") != a[2].replace(json.dumps(["name", a[1]]), ""):
                lines.append(f"Changed the settings of {_label(el_id, a)}")
        else:
            lines.append(f"Changed the settings of {_label(el_id, a)}")
    for name in sorted(new.forms.keys() - old.forms.keys()):
        lines.append(f"Added form '{name}'")
    for name in sorted(old.forms.keys() - new.forms.keys()):
        lines.append(f"Removed form '{name}'")
    for name in sorted(old.forms.keys() & new.forms.keys()):
        o, n = old.forms[name], new.forms[name]
        if o.schema != n.schema:
            lines.append(f"Changed form '{name}'")
        elif o.uischema != n.uischema:
            lines.append(f"Changed the layout (UI schema) of form '{name}'")
    for name in sorted(new.dmn.keys() - old.dmn.keys()):
        lines.append(f"Added decision table file {name}")
    for name in sorted(old.dmn.keys() - new.dmn.keys()):
        lines.append(f"Removed decision table file {name}")
    for name in sorted(old.dmn.keys() & new.dmn.keys()):
        if old.dmn[name] != new.dmn[name]:
            lines.append(f"Changed decision table file {name}")
    if not lines:
        lines.append("Only the diagram layout or formatting changed")
    return lines
