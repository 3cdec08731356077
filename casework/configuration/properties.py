"""The casework properties panel, server side: read and write our settings on one BPMN element as the engine
expects them (docs/engine-definitions.md): ``spiffworkflow:properties`` on user tasks (form, due date,
priority, four-eyes) and lanes (role), ``spiffworkflow:serviceTaskOperator`` on service tasks.

Only the property elements being changed are touched; every other element, attribute and unknown extension
stays as it was (lxml keeps attribute order, namespaces, comments and whitespace).
"""

from __future__ import annotations

from lxml import etree

from casework.errors import Invalid, NotFound
from engine.definitions import BPMN_NS, PROP_DUE, PROP_FORM, PROP_FOUR_EYES, PROP_PRIORITY, PROP_ROLE, SPIFF_NS
from engine.errors import Invalid as EngineInvalid
from engine.sandbox import check_expression
from engine.xmlsafe import parse_xml

TASK_PROPS = {"form": PROP_FORM, "due_date": PROP_DUE, "priority": PROP_PRIORITY, "four_eyes": PROP_FOUR_EYES,
              "role": PROP_ROLE}
LANE_PROPS = {"role": PROP_ROLE}
MAX_VALUE = 2000


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _find(root: etree._Element, element_id: str) -> etree._Element:
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") == element_id and etree.QName(el).namespace == BPMN_NS:
            return el
    raise NotFound(f"There is no element {element_id!r} in the model (save the diagram first)")


def _kind(el: etree._Element) -> str:
    return etree.QName(el).localname


def _properties(el: etree._Element) -> dict[str, str]:
    out = {}
    for prop in el.findall(f"{_q(BPMN_NS, 'extensionElements')}/{_q(SPIFF_NS, 'properties')}/"
                           f"{_q(SPIFF_NS, 'property')}"):
        if prop.get("name"):
            out[prop.get("name")] = prop.get("value", prop.text or "")
    return out


def _parse(xml: str) -> etree._Element:
    try:
        return parse_xml(xml.encode("utf-8"), what="the diagram")
    except EngineInvalid as exc:
        raise Invalid(str(exc)) from None


def describe(xml: str, element_id: str) -> dict:
    """What the panel shows for one element."""
    root = _parse(xml)
    el = _find(root, element_id)
    kind = _kind(el)
    props = _properties(el)
    out: dict = {"id": element_id, "kind": kind, "name": el.get("name") or "", "fields": {}}
    if kind in ("userTask", "manualTask"):
        out["fields"] = {key: props.get(name, "") for key, name in TASK_PROPS.items()}
        value = out["fields"]["form"]
        for suffix in (".schema.json",):
            if value.endswith(suffix):
                out["fields"]["form"] = value[: -len(suffix)]
    elif kind == "lane":
        out["fields"] = {"role": props.get(PROP_ROLE, "")}
    elif kind == "serviceTask":
        op = el.find(f"{_q(BPMN_NS, 'extensionElements')}/{_q(SPIFF_NS, 'serviceTaskOperator')}")
        params = {}
        if op is not None:
            for p in op.iter(_q(SPIFF_NS, "parameter")):
                if p.get("id"):
                    params[p.get("id")] = p.get("value", "")
        out["fields"] = {"connector": op.get("id", "") if op is not None else "",
                         "result_variable": op.get("resultVariable", "") if op is not None else "",
                         "parameters": "\n".join(f"{k} = {v}" for k, v in params.items())}
    return out


def _extension_elements(el: etree._Element) -> etree._Element:
    ext = el.find(_q(BPMN_NS, "extensionElements"))
    if ext is None:
        ext = etree.Element(_q(BPMN_NS, "extensionElements"))
        # extensionElements comes first after documentation (BPMN XSD order)
        position = 0
        for i, child in enumerate(el):
            if isinstance(child.tag, str) and child.tag == _q(BPMN_NS, "documentation"):
                position = i + 1
        el.insert(position, ext)
        ext.tail = el.text
    return ext


def _set_property(el: etree._Element, name: str, value: str) -> None:
    ext = el.find(_q(BPMN_NS, "extensionElements"))
    holder = ext.find(_q(SPIFF_NS, "properties")) if ext is not None else None
    existing = holder.find(f"{_q(SPIFF_NS, 'property')}[@name='{name}']") if holder is not None else None
    if not value:
        if existing is not None:
            holder.remove(existing)
            if len(holder) == 0:
                ext.remove(holder)
            if len(ext) == 0 and not (ext.text or "").strip():
                el.remove(ext)
        return
    if existing is not None:
        existing.set("value", value)
        return
    ext = _extension_elements(el)
    if holder is None:
        holder = etree.SubElement(ext, _q(SPIFF_NS, "properties"))
    prop = etree.SubElement(holder, _q(SPIFF_NS, "property"))
    prop.set("name", name)
    prop.set("value", value)


def _clean(values: dict, key: str) -> str:
    value = str(values.get(key) or "").strip()
    if len(value) > MAX_VALUE:
        raise Invalid(f"{key} is too long", details={key: f"Use {MAX_VALUE} characters or fewer"})
    return value


def _parse_params(text: str) -> dict[str, str]:
    params = {}
    for n, line in enumerate([ln for ln in text.splitlines() if ln.strip()], start=1):
        if "=" not in line:
            raise Invalid("Check the parameters", details={
                "parameters": f"Line {n}: write each parameter as name = expression"})
        name, expr = (part.strip() for part in line.split("=", 1))
        if not name.isidentifier():
            raise Invalid("Check the parameters", details={"parameters": f"Line {n}: {name!r} is not a name"})
        message = check_expression(expr)
        if message:
            raise Invalid("Check the parameters", details={"parameters": f"{name}: {message}"})
        params[name] = expr
    return params


def apply(xml: str, element_id: str, values: dict, *, forms: set[str] | None = None,
          roles: set[str] | None = None, connectors: set[str] | None = None) -> str:
    """Write the panel's values onto one element; returns the new XML. Empty values remove a property."""
    root = _parse(xml)
    el = _find(root, element_id)
    kind = _kind(el)
    errors = {}
    if kind in ("userTask", "manualTask"):
        cleaned = {key: _clean(values, key) for key in TASK_PROPS}
        if cleaned["form"]:
            name = cleaned["form"].removesuffix(".schema.json")
            if forms is not None and name not in forms:
                errors["form"] = f"There is no form called {name!r} in this draft"
            cleaned["form"] = f"{name}.schema.json"
        if cleaned["role"] and roles is not None and cleaned["role"] not in roles:
            errors["role"] = f"{cleaned['role']!r} is not a role"
        for key in ("due_date", "priority"):
            if cleaned[key] and not cleaned[key].lstrip("-").isdigit():
                message = check_expression(cleaned[key])
                if message:
                    errors[key] = f"The expression does not compile: {message}"
        if errors:
            raise Invalid("Check the properties", details=errors)
        for key, prop in TASK_PROPS.items():
            _set_property(el, prop, cleaned[key])
    elif kind == "lane":
        role = _clean(values, "role")
        if role and roles is not None and role not in roles:
            raise Invalid("Check the properties", details={"role": f"{role!r} is not a role"})
        _set_property(el, PROP_ROLE, role)
    elif kind == "serviceTask":
        connector = _clean(values, "connector")
        if connectors is not None and connector and connector not in connectors:
            raise Invalid("Check the properties", details={"connector": f"{connector!r} is not a registered connector"})
        result_var = _clean(values, "result_variable")
        if result_var and not result_var.isidentifier():
            raise Invalid("Check the properties", details={"result_variable": "Use a name such as pds_result"})
        params = _parse_params(str(values.get("parameters") or ""))
        ext = _extension_elements(el)
        op = ext.find(_q(SPIFF_NS, "serviceTaskOperator"))
        if not connector:
            if op is not None:
                ext.remove(op)
        else:
            if op is None:
                op = etree.SubElement(ext, _q(SPIFF_NS, "serviceTaskOperator"))
            op.set("id", connector)
            if result_var:
                op.set("resultVariable", result_var)
            elif "resultVariable" in op.attrib:
                del op.attrib["resultVariable"]
            holder = op.find(_q(SPIFF_NS, "parameters"))
            if holder is not None:
                op.remove(holder)
            if params:
                holder = etree.SubElement(op, _q(SPIFF_NS, "parameters"))
                for name, expr in params.items():
                    p = etree.SubElement(holder, _q(SPIFF_NS, "parameter"))
                    p.set("id", name)
                    p.set("type", "any")
                    p.set("value", expr)
        if len(ext) == 0 and not (ext.text or "").strip():
            el.remove(ext)
    else:
        raise Invalid(f"The casework panel has no settings for a {kind}")
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8").decode("utf-8")
