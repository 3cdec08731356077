"""A draft's files <-> engine process bundles: load, validate, compare, and the blank model for a new process.

Files are kept as text, grouped by kind: ``{"bpmn": {file: xml}, "dmn": {file: xml}, "forms": {file: json}}``
(form files are named ``<form>.schema.json`` / ``<form>.uischema.json``, as the engine expects).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from engine.definitions import ProcessBundle, load_bundle, validate_bundle
from engine.errors import Invalid as EngineInvalid
from engine.problems import ERROR, Problem
from engine.xmlsafe import parse_xml

KINDS = ("bpmn", "dmn", "forms")
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$")

Files = dict[str, dict[str, str]]


def empty_files() -> Files:
    return {kind: {} for kind in KINDS}


def normalise(files: dict) -> Files:
    out = empty_files()
    for kind in KINDS:
        out[kind] = {str(k): str(v) for k, v in sorted((files.get(kind) or {}).items())}
    return out


def dumps(files: Files) -> str:
    return json.dumps(normalise(files), sort_keys=True)


def loads(text: str) -> Files:
    return normalise(json.loads(text or "{}"))


def files_from_definition(row: dict) -> Files:
    """The files of a published ``process_definition`` row (forms rebuilt as ``.schema.json`` files)."""
    files = empty_files()
    files["bpmn"] = dict(json.loads(row["bpmn_xml"] or "{}"))
    files["dmn"] = dict(json.loads(row["dmn_xml"] or "{}"))
    for name, form in json.loads(row["forms_json"] or "{}").items():
        if isinstance(form, dict) and "schema" in form:
            files["forms"][f"{name}.schema.json"] = json.dumps(form["schema"], indent=2, sort_keys=True)
            if form.get("uischema") is not None:
                files["forms"][f"{name}.uischema.json"] = json.dumps(form["uischema"], indent=2, sort_keys=True)
        else:  # older rows stored the schema itself
            files["forms"][f"{name}.schema.json"] = json.dumps(form, indent=2, sort_keys=True)
    return normalise(files)


def bundle_from_files(files: Files) -> ProcessBundle:
    """Raises engine.errors.Invalid when a file cannot be accepted at all (hostile or broken XML...)."""
    return load_bundle(files["bpmn"], files["forms"], files["dmn"])


@dataclass
class Check:
    """What the engine says about a set of files."""

    problems: list[Problem] = field(default_factory=list)
    bundle: ProcessBundle | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def ok(self) -> bool:
        return self.bundle is not None and self.bundle.spec is not None and not self.errors


def check_files(files: Files, engine) -> Check:
    """The engine's full validation (the same as publish runs); never raises for bad content."""
    if not files["bpmn"]:
        return Check([Problem(None, None, "the draft has no BPMN file: add or import one", ERROR)])
    try:
        bundle = bundle_from_files(files)
    except EngineInvalid as exc:
        return Check([Problem(None, None, str(exc), ERROR)])
    problems = validate_bundle(bundle, known_roles=set(engine.config.known_roles),
                               connectors=engine.config.connectors.names())
    if bundle.spec is None and not any(p.severity == ERROR for p in problems):
        problems.append(Problem(None, None, "the files contain no executable process", ERROR))
    return Check(problems, bundle)


def check_xml(name: str, text: str) -> None:
    """Refuse hostile or broken XML before it is stored (raises engine.errors.Invalid)."""
    parse_xml(text.encode("utf-8") if isinstance(text, str) else text, what=name)


def check_form_file(name: str, text: str) -> dict:
    """A form file must be a JSON object; a schema file must be a valid JSON Schema (Draft 2020-12)."""
    import jsonschema

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EngineInvalid(f"{name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
                            ) from None
    if not isinstance(document, dict):
        raise EngineInvalid(f"{name} must contain a JSON object")
    if name.endswith(".schema.json"):
        try:
            jsonschema.Draft202012Validator.check_schema(document)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "the top level"
            raise EngineInvalid(f"{name} is not a valid JSON Schema: {exc.message} (at {where})") from None
    return document


def process_ids(files: Files) -> list[str]:
    """Ids of the <process> elements in the BPMN files (best effort; for naming drafts of odd files)."""
    from engine.definitions import BPMN_NS

    ids = []
    for name, text in files["bpmn"].items():
        try:
            root = parse_xml(text.encode("utf-8"), what=name)
        except EngineInvalid:
            continue
        ids.extend(p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id"))
    return ids


def blank_bpmn(process_key: str, name: str) -> str:
    """A runnable minimal model: start -> end, with a diagram so the modeler can draw it."""
    from xml.sax.saxutils import quoteattr

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_{process_key}" \
targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id={quoteattr(process_key)} name={quoteattr(name)} isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="Start">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:endEvent id="EndEvent_1" name="End">
      <bpmn:incoming>Flow_1</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="EndEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement={quoteattr(process_key)}>
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1">
        <dc:Bounds x="400" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="216" y="118" />
        <di:waypoint x="400" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
