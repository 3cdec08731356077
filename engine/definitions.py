"""Process bundles: the BPMN, DMN and form files of one process version, read safely and parsed once.

``load_bundle`` reads the files (every XML file through :mod:`engine.xmlsafe`), computes the content hash,
finds the top-level executable process(es) and parses them with SpiffWorkflow's ``SpiffBpmnParser``.
It raises :class:`engine.errors.Invalid` only when a *file* cannot be accepted at all (hostile or broken XML,
wrong root element, a form file that is not JSON, a file too large); what is wrong with the *model* is collected
as problems and reported by :func:`engine.definitions_checks.validate_bundle` (re-exported here), so that files
from other tools always load and can be shown with the reasons they cannot run.

Validation lives in ``definitions_checks.py``; the plain-words diff in ``definitions_diff.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.errors import Invalid
from engine.problems import ERROR, Problem
from engine.xmlsafe import DEFAULT_MAX_BYTES, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
})
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
MAX_FORM_BYTES = 512 * 1024
SCHEMA_SUFFIX = ".schema.json"
UISCHEMA_SUFFIX = ".uischema.json"

# spiffworkflow:properties names (runtime names as in engine/projection.py)
PROP_FORM = "formJsonSchemaFilename"
PROP_UI_FORM = "formUiSchemaFilename"
PROP_DUE = "dueDate"
PROP_PRIORITY = "priority"
PROP_FOUR_EYES = "fourEyesExcludeTask"
PROP_ROLE = "role"
PROP_CORRELATION = "correlationKey"
PROP_CANDIDATES = "candidateUsers"


@dataclass
class Form:
    name: str
    schema: dict
    uischema: dict | None = None


@dataclass
class ProcessBundle:
    """One process version's files, parsed. ``spec``/``subprocess_specs`` are for ``process_key``."""

    bpmn: dict[str, bytes]
    dmn: dict[str, bytes]
    form_files: dict[str, bytes]
    forms: dict[str, Form]
    content_hash: str
    process_keys: list[str]
    specs: dict[str, object] = field(default_factory=dict)
    subprocess_specs: dict[str, dict] = field(default_factory=dict)
    non_executable: dict[str, str] = field(default_factory=dict)  # process id -> reason
    load_problems: list[Problem] = field(default_factory=list)
    trees: dict[str, etree._Element] = field(default_factory=dict, repr=False)
    dmn_trees: dict[str, etree._Element] = field(default_factory=dict, repr=False)
    parser: SpiffBpmnParser | None = field(default=None, repr=False)

    @property
    def process_key(self) -> str | None:
        return self.process_keys[0] if self.process_keys else None

    @property
    def spec(self):
        return self.specs.get(self.process_key) if self.process_key else None

    @property
    def main_subprocess_specs(self) -> dict:
        return self.subprocess_specs.get(self.process_key, {}) if self.process_key else {}

    @property
    def name(self) -> str | None:
        """The display name of the main process (its ``name`` attribute), if any."""
        for root in self.trees.values():
            for proc in root.iter(f"{{{BPMN_NS}}}process"):
                if proc.get("id") == self.process_key:
                    return proc.get("name") or self.process_key
        return None

    def files(self) -> dict[str, bytes]:
        """Every file by logical path (``bpmn/<name>``, ``dmn/<name>``, ``forms/<name>``): what the hash covers,
        and what :func:`load_bundle_from_files` takes back."""
        out = {f"bpmn/{n}": d for n, d in self.bpmn.items()}
        out.update({f"dmn/{n}": d for n, d in self.dmn.items()})
        out.update({f"forms/{n}": d for n, d in self.form_files.items()})
        return out

    def as_text(self) -> dict[str, dict[str, str]]:
        """The files as text (UTF-8), e.g. for JSON/Text database columns: ``{"bpmn": {file: text},
        "dmn": {...}, "forms": {...}}``; ``load_bundle(t["bpmn"], t["forms"], t["dmn"])`` rebuilds the same
        bundle (same content hash)."""
        return {
            "bpmn": {n: d.decode("utf-8") for n, d in self.bpmn.items()},
            "dmn": {n: d.decode("utf-8") for n, d in self.dmn.items()},
            "forms": {n: d.decode("utf-8") for n, d in self.form_files.items()},
        }

    def resolve_form(self, value: str | None) -> str | None:
        """Form name for a ``formJsonSchemaFilename`` value (``referral``, ``referral.schema.json`` or
        ``forms/referral.schema.json``), or None if no such form is in the bundle."""
        if not value:
            return None
        name = _form_name(value)
        return name if name in self.forms else None


def _form_name(value: str) -> str:
    """``referral``, ``referral.schema.json``, ``forms/referral.uischema.json`` -> ``referral``."""
    name = value.strip().rsplit("/", 1)[-1]
    for suffix in (UISCHEMA_SUFFIX, SCHEMA_SUFFIX, ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _form_refs(root: etree._Element) -> list[str]:
    return [p.get("value") or "" for p in root.iter(f"{{{SPIFF_NS}}}property") if p.get("name") == PROP_FORM]


# ------------------------------------------------------------------------------------------------ reading
def _read_files(source, *, suffixes: tuple[str, ...], what: str) -> dict[str, bytes]:
    if source is None:
        return {}
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        return {p.name: p.read_bytes() for p in sorted(Path(source).iterdir())
                if p.is_file() and p.name.endswith(suffixes)}
    if isinstance(source, Mapping):
        out = {}
        for name, data in source.items():
            if isinstance(data, (dict, list)):
                data = json.dumps(data, sort_keys=True, indent=2)
            out[str(name)] = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        return out
    if isinstance(source, (str, Path)):
        source = [source]
    out = {}
    for path in source:
        path = Path(path)
        if not path.is_file():
            raise Invalid(f"{what} file {path} does not exist")
        if path.name in out:
            raise Invalid(f"two {what} files are both called {path.name}")
        out[path.name] = path.read_bytes()
    return out


def content_hash(bpmn: dict[str, bytes], dmn: dict[str, bytes], form_files: dict[str, bytes]) -> str:
    """sha256 over every file's logical path and bytes, in sorted path order."""
    digest = hashlib.sha256()
    files = {f"bpmn/{n}": d for n, d in bpmn.items()}
    files.update({f"dmn/{n}": d for n, d in dmn.items()})
    files.update({f"forms/{n}": d for n, d in form_files.items()})
    for path in sorted(files):
        data = files[path]
        digest.update(f"{path}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _load_forms(form_files: dict[str, bytes]) -> dict[str, Form]:
    forms: dict[str, Form] = {}
    uischemas: dict[str, dict] = {}
    for filename, data in sorted(form_files.items()):
        if len(data) > MAX_FORM_BYTES:
            raise Invalid(f"form file {filename} is too large ({len(data):,} bytes; limit {MAX_FORM_BYTES:,})")
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Invalid(f"form file {filename} is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise Invalid(f"form file {filename} must contain a JSON object")
        if filename.endswith(UISCHEMA_SUFFIX):
            uischemas[filename[: -len(UISCHEMA_SUFFIX)]] = document
        elif filename.endswith(SCHEMA_SUFFIX):
            forms[filename[: -len(SCHEMA_SUFFIX)]] = Form(filename[: -len(SCHEMA_SUFFIX)], document)
        else:
            raise Invalid(f"form file {filename} must be named <form>{SCHEMA_SUFFIX} or <form>{UISCHEMA_SUFFIX}")
    for name, ui in uischemas.items():
        if name not in forms:
            raise Invalid(f"UI schema {name}{UISCHEMA_SUFFIX} has no {name}{SCHEMA_SUFFIX} beside it")
        forms[name].uischema = ui
    return forms


def load_bundle(bpmn_paths, forms_dir=None, dmn_paths=None, *, max_bytes: int = DEFAULT_MAX_BYTES
                ) -> ProcessBundle:
    """Read and parse one process version.

    ``bpmn_paths``: list of paths, a directory, or ``{file name: bytes|str}``;
    ``forms_dir``: a directory or ``{file name: bytes|str|dict}`` with ``<form>.schema.json`` and optional
    ``<form>.uischema.json`` files. From a *directory* (the shared ``forms/``) only the forms named by the
    model's user tasks are taken; a dict is taken whole. ``dmn_paths`` like ``bpmn_paths``.
    """
    bpmn = _read_files(bpmn_paths, suffixes=(".bpmn", ".bpmn20.xml", ".xml"), what="BPMN")
    dmn = _read_files(dmn_paths, suffixes=(".dmn",), what="DMN")
    form_files = _read_files(forms_dir, suffixes=(SCHEMA_SUFFIX, UISCHEMA_SUFFIX), what="form")
    if not bpmn:
        raise Invalid("the bundle has no BPMN file")

    trees: dict[str, etree._Element] = {}
    for name, data in bpmn.items():
        root = parse_xml(data, max_bytes=max_bytes, what=name)
        if root.tag != f"{{{BPMN_NS}}}definitions":
            raise Invalid(f"{name} is not a BPMN 2.0 file: its root element is <{_local(root.tag)}> in namespace "
                          f"{_ns(root.tag) or '(none)'}; expected <definitions> in {BPMN_NS}")
        trees[name] = root
    dmn_trees: dict[str, etree._Element] = {}
    for name, data in dmn.items():
        root = parse_xml(data, max_bytes=max_bytes, what=name)
        if _local(root.tag) != "definitions" or _ns(root.tag) not in DMN_NAMESPACES:
            raise Invalid(f"{name} is not a DMN file: root element <{_local(root.tag)}> in namespace "
                          f"{_ns(root.tag) or '(none)'}")
        dmn_trees[name] = root

    if isinstance(forms_dir, (str, Path)):
        # a shared forms directory: take only the forms this process uses, so that editing another
        # process's form does not make a new version of this one
        wanted = {_form_name(v) for root in trees.values() for v in _form_refs(root)}
        form_files = {n: d for n, d in form_files.items() if _form_name(n) in wanted}
    forms = _load_forms(form_files)

    bundle = ProcessBundle(bpmn=bpmn, dmn=dmn, form_files=form_files, forms=forms,
                           content_hash=content_hash(bpmn, dmn, form_files), process_keys=[],
                           trees=trees, dmn_trees=dmn_trees)
    _parse(bundle)
    return bundle


def load_bundle_from_files(files: Mapping[str, bytes | str], **kw) -> ProcessBundle:
    """Inverse of :meth:`ProcessBundle.files`."""
    parts: dict[str, dict] = {"bpmn": {}, "dmn": {}, "forms": {}}
    for path, data in files.items():
        kind, _, name = path.partition("/")
        if kind not in parts or not name:
            raise Invalid(f"unexpected file {path!r} (expected bpmn/, dmn/ or forms/)")
        parts[kind][name] = data
    return load_bundle(parts["bpmn"], parts["forms"], parts["dmn"], **kw)


# ------------------------------------------------------------------------------------------------ parsing
def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _ns(tag) -> str | None:
    return etree.QName(tag).namespace if isinstance(tag, str) else None


def problem_from_exception(exc: BaseException, file: str | None = None) -> Problem:
    """Map a SpiffWorkflow parser error (or anything it let escape) to a Problem with the element id."""
    if isinstance(exc, RecursionError) or "RecursionError" in str(exc):
        return Problem(getattr(exc, "id", None) or None, getattr(exc, "name", None) or None,
                       "the model is too long for the BPMN parser (a chain of several hundred steps); split it "
                       "into subprocesses or call activities", ERROR, file)
    if isinstance(exc, ValidationException):
        message = str(exc.args[0]) if exc.args else str(exc)
        notes = getattr(exc, "notes", None) or []
        if notes:
            message = f"{message} ({'; '.join(notes)})"
        return Problem(exc.id or None, exc.name or None, message.rstrip(". ") or "invalid model", ERROR,
                       exc.file_name or file)
    return Problem(None, None, f"the BPMN parser could not read this model: {type(exc).__name__}: {exc}",
                   ERROR, file)


def _parse(bundle: ProcessBundle) -> None:
    parser = SpiffBpmnParser()
    bundle.parser = parser
    failed_files = set()
    for name, root in bundle.trees.items():
        try:
            parser.add_bpmn_xml(root, filename=name)
        except Exception as exc:  # noqa: BLE001 - third-party parser on untrusted input: report, never crash
            bundle.load_problems.append(problem_from_exception(exc, name))
            failed_files.add(name)
    for name, root in bundle.dmn_trees.items():
        try:
            parser.add_dmn_xml(root, filename=name)
        except Exception as exc:  # noqa: BLE001
            bundle.load_problems.append(problem_from_exception(exc, name))

    called = {c for c in parser.process_dependencies if c}
    unparsed = set()
    for name, root in bundle.trees.items():
        for proc in root.iter(f"{{{BPMN_NS}}}process"):
            if name in failed_files:
                unparsed.add(proc.get("id"))
            pid = proc.get("id")
            flag = proc.get("isExecutable")
            if flag is not None and flag.strip().lower() == "false":
                bundle.non_executable[pid] = (
                    f'process {pid!r} has isExecutable="false": it was drawn to document a process, not to run '
                    "one (set isExecutable to true in the modeler to make it runnable)")
            elif pid and pid not in called and pid not in bundle.process_keys:
                bundle.process_keys.append(pid)
    if not bundle.process_keys and not bundle.non_executable and not bundle.load_problems:
        bundle.load_problems.append(Problem(None, None, "not executable: the files contain no <process> "
                                            "(only collaboration, choreography or diagram elements)", ERROR))
    for key in list(bundle.process_keys):
        if key in unparsed:
            continue  # its file could not be added to the parser: that problem is already reported
        try:
            spec = parser.get_spec(key)
            subs = parser.get_subprocess_specs(key)
        except Exception as exc:  # noqa: BLE001 - see above
            bundle.load_problems.append(problem_from_exception(exc))
            continue
        bundle.specs[key] = spec
        bundle.subprocess_specs[key] = subs
        _apply_lane_roles(bundle, [spec, *[s for s in subs.values() if s is not None]])


def lane_roles(root: etree._Element) -> dict[str, str]:
    """Lane name -> role from a ``role`` property on the lane (spiffworkflow:properties)."""
    out = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        role = element_properties(lane).get(PROP_ROLE)
        if lane.get("name") and role:
            out[lane.get("name")] = role
    return out


def element_properties(element: etree._Element) -> dict[str, str]:
    props = {}
    for prop in element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                              namespaces=NS):
        if prop.get("name") is not None:
            props[prop.get("name")] = prop.get("value", prop.text or "")
    return props


def _apply_lane_roles(bundle: ProcessBundle, specs: list) -> None:
    """A lane's ``role`` property becomes the ``role`` property of each task in it (unless the task sets its
    own), so the runtime (which reads the task's ``role`` property, else the lane name) sees the lane's role."""
    roles: dict[str, str] = {}
    for root in bundle.trees.values():
        roles.update(lane_roles(root))
    if not roles:
        return
    for spec in specs:
        for task_spec in spec.task_specs.values():
            lane = getattr(task_spec, "lane", None)
            if lane not in roles:
                continue
            extensions = getattr(task_spec, "extensions", None)
            if extensions is None:
                continue
            props = extensions.setdefault("properties", {})
            props.setdefault(PROP_ROLE, roles[lane])


def validate_bundle(bundle: ProcessBundle, *, known_roles: set[str], connectors: set[str]) -> list[Problem]:
    """All problems of ``bundle`` (see :mod:`engine.definitions_checks`); publish only without errors."""
    from engine.definitions_checks import validate_bundle as _validate

    return _validate(bundle, known_roles=known_roles, connectors=connectors)


def diff_bundles(old: ProcessBundle, new: ProcessBundle) -> list[str]:
    """What changed between two versions, in plain words (see :mod:`engine.definitions_diff`)."""
    from engine.definitions_diff import diff_bundles as _diff

    return _diff(old, new)


__all__ = ["Form", "ProcessBundle", "diff_bundles", "load_bundle", "load_bundle_from_files", "validate_bundle"]
