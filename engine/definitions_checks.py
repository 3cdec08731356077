"""``validate_bundle``: every check a process version must pass before it can be published.

Checks (each problem names the element id and name; severity ``error`` blocks publishing):
XSD (BPMN 2.0 + spiffworkflow extension), SpiffWorkflow parser errors, non-executable processes (with the
reason), user task forms (exist, valid JSON Schema 2020-12), lanes/roles, every script, condition, timer,
correlation, payload, loop, due-date/priority expression and service-task parameter compiles in the sandbox,
service tasks name registered connectors, four-eyes references, DMN files and their cells.
"""

from __future__ import annotations

import copy
import re
import threading
from pathlib import Path

import jsonschema
from lxml import etree

from engine.definitions import (
    BPMN_NS,
    NS,
    PROP_CANDIDATES,
    PROP_CORRELATION,
    PROP_DUE,
    PROP_FORM,
    PROP_FOUR_EYES,
    PROP_PRIORITY,
    PROP_ROLE,
    SPIFF_NS,
    ProcessBundle,
    element_properties,
    problem_from_exception,
)
from engine.problems import ERROR, WARNING, Problem
from engine.sandbox import check_expression, check_script

XSD_DIR = Path(__file__).parent / "xsd"
MAX_XSD_PROBLEMS_PER_FILE = 25
_schema_lock = threading.Lock()
_schema: etree.XMLSchema | None = None

# a whole timer value that is an ISO 8601 date, duration or cycle written without quotes
_RAW_ISO = re.compile(r"^\s*(R\d*/\S+|P(?=[\dT])[\dTYMWDHS.,]+|\d{4}-\d{2}-\d{2}\S*)\s*$")


def bpmn_schema() -> etree.XMLSchema:
    """BPMN 2.0 XSD with the spiffworkflow extension schema imported (built once)."""
    global _schema
    with _schema_lock:
        if _schema is None:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            doc = etree.parse(str(XSD_DIR / "BPMN20.xsd"), parser=parser)
            doc.getroot().insert(0, etree.Element("{http://www.w3.org/2001/XMLSchema}import",
                                                  namespace=SPIFF_NS,
                                                  schemaLocation=str(XSD_DIR / "spiffworkflow.xsd")))
            _schema = etree.XMLSchema(doc)
    return _schema


_DMN_XSD = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "DMN.xsd",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "DMN13.xsd",
}
_dmn_schemas: dict[str, etree.XMLSchema] = {}


def dmn_schema(namespace: str) -> etree.XMLSchema | None:
    """The XSD for a DMN namespace we can validate (1.1, 1.3), else None."""
    name = _DMN_XSD.get(namespace)
    if name is None:
        return None
    with _schema_lock:
        if namespace not in _dmn_schemas:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            _dmn_schemas[namespace] = etree.XMLSchema(etree.parse(str(XSD_DIR / "dmn" / name), parser=parser))
    return _dmn_schemas[namespace]


def _p(element, message: str, severity: str = ERROR, file: str | None = None) -> Problem:
    return Problem(element.get("id"), element.get("name"), message, severity, file)


def _tidy_xsd(message: str) -> str:
    message = message.replace("{" + BPMN_NS + "}", "bpmn:").replace("{" + SPIFF_NS + "}", "spiffworkflow:")
    return re.sub(r"\{https?://www\.omg\.org/spec/DMN/[^}]*\}", "dmn:", message).rstrip(".")


def _check_xsd(name: str, root: etree._Element, schema: etree.XMLSchema | None = None) -> list[Problem]:
    tree = copy.deepcopy(root)
    if schema is None:
        schema = bpmn_schema()
        # bpmn-js writes formalExpression where the XSD wants messagePath (SpiffWorkflow's validator does too)
        for expr in tree.xpath(".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression",
                               namespaces=NS):
            expr.tag = f"{{{BPMN_NS}}}messagePath"
    if schema.validate(tree):
        return []
    by_line: dict[int, etree._Element] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") and el.sourceline not in by_line:
            by_line[el.sourceline] = el
    problems = []
    for error in list(schema.error_log)[:MAX_XSD_PROBLEMS_PER_FILE]:
        el = by_line.get(error.line)
        problems.append(Problem(el.get("id") if el is not None else None, el.get("name") if el is not None
                                else None, f"XML schema (line {error.line}): {_tidy_xsd(error.message)}",
                                ERROR, name))
    return problems


# ------------------------------------------------------------------------------------------------ expressions
def _expr(problems, element, text, what: str, file: str):
    if text is None or not text.strip():
        problems.append(_p(element, f"{what} is empty", ERROR, file))
        return
    message = check_expression(text)
    if message:
        problems.append(_p(element, f"{what} does not compile in the sandbox: {message}", ERROR, file))


def _script(problems, element, text, what: str, file: str):
    if text is None or not text.strip():
        return
    message = check_script(text)
    if message:
        problems.append(_p(element, f"{what} does not compile in the sandbox: {message}", ERROR, file))


def _owner(node):
    """The nearest ancestor-or-self with an id (the element a configurator can find in the modeler)."""
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node


def _check_expressions(root, file: str, connectors: set[str], problems: list[Problem], task_ids: set[str]):
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        cond = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        if cond is not None:
            _expr(problems, flow, cond.text, "the condition", file)
    for timer in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        owner = _owner(timer.getparent())
        for kind in ("timeDate", "timeDuration", "timeCycle"):
            node = timer.find(f"{{{BPMN_NS}}}{kind}")
            if node is None:
                continue
            if node.text and _RAW_ISO.match(node.text):
                problems.append(_p(owner, f"the timer {kind} {node.text.strip()!r} is not an expression: timer "
                                   f"values are sandboxed Python expressions, write it in quotes: "
                                   f"\"{node.text.strip()}\"", ERROR, file))
            else:
                _expr(problems, owner, node.text, f"the timer {kind} expression", file)
    for cond in root.iter(f"{{{BPMN_NS}}}conditionalEventDefinition"):
        node = cond.find(f"{{{BPMN_NS}}}condition")
        _expr(problems, _owner(cond.getparent()), node.text if node is not None else None,
              "the conditional event's condition", file)
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics", f"{{{BPMN_NS}}}"
                          "standardLoopCharacteristics"):
        owner = _owner(loop.getparent())
        for kind in ("loopCardinality", "completionCondition", "loopCondition"):
            node = loop.find(f"{{{BPMN_NS}}}{kind}")
            if node is not None:
                _expr(problems, owner, node.text, f"the {kind}", file)
    for task in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        script = task.find(f"{{{BPMN_NS}}}script")
        if script is None or not (script.text or "").strip():
            problems.append(_p(task, "the script task has no script", ERROR, file))
        else:
            _script(problems, task, script.text, "the script", file)
    for kind in ("preScript", "postScript"):
        for node in root.iter(f"{{{SPIFF_NS}}}{kind}"):
            _script(problems, _owner(node), node.text, f"the {kind}", file)
    for node in root.iter(f"{{{SPIFF_NS}}}messagePayload", f"{{{SPIFF_NS}}}payloadExpression"):
        _expr(problems, _owner(node), node.text, "the message payload", file)
    for expr in root.xpath(".//bpmn:correlationPropertyRetrievalExpression/*", namespaces=NS):
        _expr(problems, _owner(expr), expr.text, "the correlation expression", file)
    for task in root.iter(f"{{{BPMN_NS}}}serviceTask"):
        operator = task.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}serviceTaskOperator")
        if operator is None:
            problems.append(_p(task, "the service task names no connector (spiffworkflow:serviceTaskOperator)",
                               ERROR, file))
            continue
        name = operator.get("id")
        if name not in connectors:
            known = ", ".join(sorted(connectors)) or "none"
            problems.append(_p(task, f"the service task calls connector {name!r}, which is not registered "
                               f"(registered: {known})", ERROR, file))
        for param in operator.iter(f"{{{SPIFF_NS}}}parameter"):
            if param.get("value") is not None:
                _expr(problems, task, param.get("value"), f"parameter {param.get('id')!r}", file)
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        props = element_properties(element)
        if not props:
            continue
        if props.get(PROP_DUE):
            _expr(problems, element, props[PROP_DUE], f"the {PROP_DUE} expression", file)
        if props.get(PROP_CORRELATION):
            _expr(problems, element, props[PROP_CORRELATION], f"the {PROP_CORRELATION} expression", file)
        if props.get(PROP_CANDIDATES):
            _expr(problems, element, props[PROP_CANDIDATES], f"the {PROP_CANDIDATES} expression", file)
        priority = props.get(PROP_PRIORITY)
        if priority and not priority.strip().lstrip("-").isdigit():
            _expr(problems, element, priority, f"the {PROP_PRIORITY} expression", file)
        for ref in [r.strip() for r in (props.get(PROP_FOUR_EYES) or "").split(",") if r.strip()]:
            if ref not in task_ids:
                problems.append(_p(element, f"{PROP_FOUR_EYES} names {ref!r}, which is not a user or manual "
                                   "task in this process", ERROR, file))


_KNOWN_SPIFF_EXTRAS = {"category", "taskMetadataValues", "taskMetadataValue", "processVariableCorrelation",
                       "propertyId", "expression"}
_known_spiff: set[str] = set()


def _known_spiff_elements() -> set[str]:
    if not _known_spiff:
        doc = etree.parse(str(XSD_DIR / "spiffworkflow.xsd"),
                          parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        names = {e.get("name") for e in doc.iter("{http://www.w3.org/2001/XMLSchema}element") if e.get("name")}
        _known_spiff.update(names | _KNOWN_SPIFF_EXTRAS)
    return _known_spiff


def _check_spiff_elements(root, file: str, problems: list[Problem]):
    """The XSD accepts any element in the extension namespace (processContents="lax"), so a misspelt
    ``spiffworkflow:postScrpt`` would silently never run: warn about names SpiffWorkflow does not know."""
    known = _known_spiff_elements()
    for el in root.iter(f"{{{SPIFF_NS}}}*"):
        if etree.QName(el).localname not in known:
            problems.append(_p(_owner(el), f"unknown extension element spiffworkflow:{etree.QName(el).localname} "
                               "is ignored by the engine (a typo?)", WARNING, file))


# ------------------------------------------------------------------------------------------------ forms / roles
def _form_problems(bundle: ProcessBundle) -> dict[str, str]:
    bad = {}
    for name, form in bundle.forms.items():
        try:
            jsonschema.Draft202012Validator.check_schema(form.schema)
        except jsonschema.SchemaError as exc:
            path = "/".join(str(p) for p in exc.path) or "(top)"
            bad[name] = f"{exc.message} (at {path})"
    return bad


def _check_user_tasks(bundle, root, file, known_roles, bad_forms, problems):
    lane_of: dict[str, etree._Element] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            if ref.text:
                lane_of[ref.text.strip()] = lane
        if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
            continue  # a parent lane: its children carry the roles
        role = element_properties(lane).get(PROP_ROLE) or lane.get("name")
        if not role:
            problems.append(_p(lane, "the lane has no name and no role property", ERROR, file))
        elif role not in known_roles:
            known = ", ".join(sorted(known_roles)) or "none"
            problems.append(_p(lane, f"the lane maps to role {role!r}, which is not a known role (known roles: "
                               f"{known})", ERROR, file))
    for task in root.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask"):
        props = element_properties(task)
        own_role = props.get(PROP_ROLE)
        if own_role and own_role not in known_roles:
            problems.append(_p(task, f"the task's role property {own_role!r} is not a known role", ERROR, file))
        elif not own_role and task.get("id") not in lane_of:
            problems.append(_p(task, "the task is in no lane and has no role property: anyone who can see the "
                               "case could do it", WARNING, file))
        if _local(task.tag) != "userTask":
            continue
        value = props.get(PROP_FORM)
        if not value:
            problems.append(_p(task, f"the user task names no form (spiffworkflow property {PROP_FORM})",
                               ERROR, file))
            continue
        form = bundle.resolve_form(value)
        if form is None:
            problems.append(_p(task, f"the form {value!r} does not exist in the bundle (forms: "
                               f"{', '.join(sorted(bundle.forms)) or 'none'})", ERROR, file))
        elif form in bad_forms:
            problems.append(_p(task, f"the form {value!r} is not a valid JSON Schema: {bad_forms[form]}",
                               ERROR, file))


def _local(tag) -> str:
    return etree.QName(tag).localname


# ------------------------------------------------------------------------------------------------ DMN
def _check_dmn(bundle: ProcessBundle, problems: list[Problem]):
    for name, root in bundle.dmn_trees.items():
        schema = dmn_schema(etree.QName(root.tag).namespace)
        if schema is not None:
            problems.extend(_check_xsd(name, root, schema))
    parser = bundle.parser
    if parser is not None:
        for dmn_parser in parser.dmn_parsers.values():
            try:
                dmn_parser.parse()
            except Exception as exc:  # noqa: BLE001 - third-party parser on untrusted input
                problems.append(problem_from_exception(exc, getattr(dmn_parser, "filename", None)))
    for name, root in bundle.dmn_trees.items():
        ns = etree.QName(root.tag).namespace
        for node in root.iter(f"{{{ns}}}inputExpression", f"{{{ns}}}inputEntry", f"{{{ns}}}outputEntry"):
            text_node = node.find(f"{{{ns}}}text")
            text = (text_node.text if text_node is not None else "") or ""
            owner = _owner(node)
            kind = _local(node.tag)
            if kind == "inputEntry":
                if not text.strip() or text.strip() == "-":
                    continue
                cell = re.sub(r"\?", "dmninputexpr", text)
                if check_expression(f"(dmninputexpr) == ({cell})") and check_expression(f"dmninputexpr {cell}") \
                        and check_expression(cell):
                    problems.append(_p(owner, f"DMN input entry {text!r} does not compile in the sandbox: "
                                       f"{check_expression(cell)}", ERROR, name))
            elif text.strip():
                message = check_expression(text)
                if message:
                    problems.append(_p(owner, f"DMN {kind} {text!r} does not compile in the sandbox: {message}",
                                       ERROR, name))


# ------------------------------------------------------------------------------------------------ entry point
def validate_bundle(bundle: ProcessBundle, *, known_roles: set[str], connectors: set[str]) -> list[Problem]:
    """All problems of ``bundle``; publish only if none has severity ``error``."""
    known_roles, connectors = set(known_roles), set(connectors)
    problems: list[Problem] = list(bundle.load_problems)
    for name, root in bundle.trees.items():
        problems.extend(_check_xsd(name, root))
        _check_spiff_elements(root, name, problems)

    has_executable = bool(bundle.process_keys)
    for name, root in bundle.trees.items():
        for proc in root.iter(f"{{{BPMN_NS}}}process"):
            pid = proc.get("id")
            if pid in bundle.non_executable:
                severity = WARNING if has_executable else ERROR
                problems.append(_p(proc, f"not executable: {bundle.non_executable[pid]}", severity, name))

    bad_forms = _form_problems(bundle)
    for form, message in bad_forms.items():
        problems.append(Problem(None, form, f"form {form!r} is not a valid JSON Schema (Draft 2020-12): {message}",
                                ERROR, f"{form}.schema.json"))
    for name, root in bundle.trees.items():
        executable = [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") not in bundle.non_executable]
        task_ids = {t.get("id") for p in executable
                    for t in p.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask")}
        for proc in executable:
            _check_user_tasks(bundle, proc, name, known_roles, bad_forms, problems)
            _check_expressions(proc, name, connectors, problems, task_ids)
        if executable:
            for expr in root.xpath("./bpmn:correlationProperty/bpmn:correlationPropertyRetrievalExpression/*",
                                   namespaces=NS):
                _expr(problems, _owner(expr), expr.text, "the correlation expression", name)
    _check_dmn(bundle, problems)

    seen, unique = set(), []
    for problem in problems:
        key = (problem.element_id, problem.message, problem.file)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique
