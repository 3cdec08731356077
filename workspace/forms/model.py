"""JSON Schema (+ UI schema) -> a tree of form fields, shared by the renderer, the parser and the validator.

UI schema (renderer-neutral, RJSF-style keys; nested by property name, ``items`` for array items):
- ``ui:order``: list of property names (``"*"`` stands for the rest, in schema order)
- ``ui:widget``: text | textarea | radios | select | checkboxes | date | hidden | readonly (``radio`` accepted)
- ``ui:hint`` (or ``ui:help``/``ui:description``): hint text under the label (else schema ``description``)
- ``ui:title``: label text (else schema ``title``, else the property name made readable)
- ``ui:reveal``: on a radios/checkboxes field, ``{option value: [sibling property names]}``; those siblings are
  shown inside that option (GOV.UK conditional reveal) and dropped from the data unless the option is chosen
- ``ui:options``: ``rows`` (textarea), ``width`` (GOV.UK input width: 2,3,4,5,10,20 or "one-half" ...),
  ``addLabel``/``itemTitle`` (add another), ``inline`` (radios), ``autocomplete``, ``prefix``/``suffix``
- ``ui:readonly`` (or schema ``readOnly``): shown as an answer, never read back from the post
- ``ui:errorMessages``: ``{validator keyword: message}`` e.g. ``{"required": "Enter the child's name"}``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

WIDGET_ALIASES = {"radio": "radios", "checkbox": "checkboxes", "textarea": "textarea", "text": "text",
                  "select": "select", "date": "date", "hidden": "hidden", "readonly": "readonly",
                  "radios": "radios", "checkboxes": "checkboxes", "updown": "number", "email": "email"}


@dataclass
class Option:
    value: Any
    text: str
    hint: str | None = None


@dataclass
class Field:
    """One field in the rendered form. ``path`` is the JSON path of its value (ints index array rows)."""

    path: tuple[str | int, ...]
    kind: str  # text email textarea number integer date radios select checkboxes boolean object array
    #            lines readonly hidden
    title: str
    schema: dict
    ui: dict
    hint: str | None = None
    required: bool = False
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)  # object: properties in order
    rows: list[list[Field]] = field(default_factory=list)  # array of objects: one field list per row
    item_template: Field | None = None  # array of objects: the item's object field (path with index 0)
    reveals: dict[str, list[Field]] = field(default_factory=dict)  # option value -> revealed siblings
    revealed_by: tuple[Field, str] | None = None

    @property
    def name(self) -> str:
        return ".".join(str(p) for p in self.path)

    @property
    def id(self) -> str:
        return "-".join(str(p) for p in self.path) or "form"

    @property
    def anchor(self) -> str:
        """The id an error summary link should point to (the first focusable control)."""
        if self.kind == "date":
            return f"{self.id}-day"
        if self.kind == "object":
            for child in self.children:
                if child.kind not in ("readonly", "hidden"):
                    return child.anchor
        if self.kind == "array":
            if self.rows:
                for child in self.rows[0]:
                    if child.kind not in ("readonly", "hidden"):
                        return child.anchor
            return f"{self.id}-add"
        return self.id

    @property
    def option_texts(self) -> dict[str, str]:
        return {str(o.value): o.text for o in self.options}

    def walk(self):
        """This field and every field below it (revealed fields once, where they are declared)."""
        yield self
        for child in self.children:
            yield from child.walk()
        for row in self.rows:
            for child in row:
                yield from child.walk()


def humanise(name: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name)).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else ""


class SchemaError(ValueError):
    """The form definition itself is not something this renderer can show."""


class FormModel:
    """Builds the field tree for a schema, UI schema and (for arrays) the current data."""

    def __init__(self, schema: dict, ui: dict | None = None):
        if not isinstance(schema, dict) or schema.get("type", "object") != "object":
            raise SchemaError("a form schema must be a JSON Schema object with properties")
        self.schema = schema
        self.ui = ui or {}

    # -- schema helpers -------------------------------------------------------------------------------
    def resolve(self, node: dict) -> dict:
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise SchemaError(f"only local $ref is supported, not {ref!r}")
            target: Any = self.schema
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            extra = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **extra}
            seen += 1
            if seen > 20:
                raise SchemaError("$ref loop")
        return node

    @staticmethod
    def type_of(node: dict) -> str:
        t = node.get("type")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), "string")
        if t is None:
            if "properties" in node:
                return "object"
            if "enum" in node or "const" in node or "oneOf" in node:
                return "string"
        return t or "string"

    def options_for(self, node: dict, ui: dict) -> list[Option]:
        hints = ui.get("ui:optionHints", {})
        if "oneOf" in node and all(isinstance(o, dict) and "const" in o for o in node["oneOf"]):
            return [Option(o["const"], o.get("title", str(o["const"])), hints.get(str(o["const"])))
                    for o in node["oneOf"]]
        if "anyOf" in node and all(isinstance(o, dict) and "const" in o for o in node["anyOf"]):
            return [Option(o["const"], o.get("title", str(o["const"])), hints.get(str(o["const"])))
                    for o in node["anyOf"]]
        values = node.get("enum")
        if values is None:
            return []
        names = node.get("enumNames") or ui.get("ui:enumNames") or []
        return [Option(v, names[i] if i < len(names) else str(v), hints.get(str(v)))
                for i, v in enumerate(values) if v is not None]

    # -- tree -----------------------------------------------------------------------------------------
    def build(self, data: dict | None = None) -> Field:
        root = Field(path=(), kind="object", title=self.ui.get("ui:title", self.schema.get("title", "")),
                     schema=self.schema, ui=self.ui)
        root.children = self._properties(self.schema, self.ui, (), data if isinstance(data, dict) else {})
        return root

    def _order(self, props: list[str], order: list[str] | None) -> list[str]:
        if not order:
            return props
        rest = [p for p in props if p not in order]
        out: list[str] = []
        for name in order:
            if name == "*":
                out.extend(rest)
            elif name in props:
                out.append(name)
        if "*" not in order:
            out.extend(rest)
        return out

    def _properties(self, node: dict, ui: dict, path: tuple, data: dict) -> list[Field]:
        node = self.resolve(node)
        props: dict = node.get("properties", {})
        required = set(node.get("required", []))
        fields: dict[str, Field] = {}
        for name in self._order(list(props), ui.get("ui:order")):
            sub_ui = ui.get(name, {}) if isinstance(ui.get(name, {}), dict) else {}
            fields[name] = self.make(props[name], sub_ui, (*path, name), data.get(name),
                                     required=name in required)
        # conditional reveals: move the named siblings inside the controlling field's option
        for name, f in list(fields.items()):
            reveal = f.ui.get("ui:reveal") or {}
            for value, targets in reveal.items():
                moved = []
                for target in targets:
                    child = fields.get(target)
                    if child is None or child is f:
                        raise SchemaError(f"ui:reveal of {name!r} names unknown field {target!r}")
                    child.revealed_by = (f, str(value))
                    moved.append(child)
                f.reveals[str(value)] = moved
        return [f for f in fields.values() if f.revealed_by is None]

    def make(self, node: dict, ui: dict, path: tuple, value: Any, *, required: bool = False) -> Field:
        node = self.resolve(node)
        kind = self._kind(node, ui)
        title = ui.get("ui:title") or node.get("title") or humanise(str(path[-1]) if path else "")
        hint = ui.get("ui:hint") or ui.get("ui:help") or ui.get("ui:description") or node.get("description")
        f = Field(path=path, kind=kind, title=title, schema=node, ui=ui, hint=hint, required=required)
        if kind in ("radios", "select"):
            f.options = self.options_for(node, ui)
        elif kind == "checkboxes":
            f.options = self.options_for(self.resolve(node.get("items", {})), ui)
        elif kind == "boolean":
            labels = ui.get("ui:options", {}).get("labels", ["Yes", "No"])
            f.options = [Option(True, labels[0]), Option(False, labels[1])]
        elif kind == "object":
            f.children = self._properties(node, ui, path, value if isinstance(value, dict) else {})
        elif kind == "array":
            item_ui = ui.get("items", {}) if isinstance(ui.get("items", {}), dict) else {}
            items = node.get("items", {})
            rows = value if isinstance(value, list) else []
            count = len(rows) or (1 if ui.get("ui:options", {}).get("startWithRow", True) else 0)
            f.item_template = self.make(items, item_ui, (*path, 0), {})
            for index in range(count):
                row_value = rows[index] if index < len(rows) and isinstance(rows[index], dict) else {}
                f.rows.append(self._properties(items, item_ui, (*path, index), row_value))
        return f

    def _kind(self, node: dict, ui: dict) -> str:
        widget = WIDGET_ALIASES.get(str(ui.get("ui:widget", "")).lower(), "")
        if ui.get("ui:readonly") or node.get("readOnly") or widget == "readonly":
            return "readonly"
        if widget == "hidden":
            return "hidden"
        t = self.type_of(node)
        if t == "object":
            return "object"
        if t == "array":
            items = self.resolve(node.get("items", {}))
            if self.type_of(items) == "object":
                return "array"
            if self.options_for(items, {}) or "enum" in items:
                return "checkboxes"
            return "lines"
        if t == "boolean":
            return "boolean"
        has_options = bool(self.options_for(node, ui))
        if has_options:
            if widget in ("radios", "select"):
                return widget
            return "select" if len(self.options_for(node, ui)) > 8 else "radios"
        if t in ("integer", "number"):
            return "integer" if t == "integer" else "number"
        if node.get("format") == "date" or widget == "date":
            return "date"
        if widget == "textarea":
            return "textarea"
        if node.get("format") == "email" or widget == "email":
            return "email"
        return "text"


def field_index(root: Field) -> dict[tuple, Field]:
    """Every field by its path, revealed fields included."""
    index: dict[tuple, Field] = {}

    def visit(f: Field) -> None:
        index[f.path] = f
        for child in f.children:
            visit(child)
        for row in f.rows:
            for child in row:
                visit(child)
        for revealed in f.reveals.values():
            for child in revealed:
                visit(child)

    visit(root)
    return index
