"""A posted GOV.UK form -> JSON data with the schema's types.

Only fields the schema defines are read (anything else in the post is ignored); read-only and hidden fields
keep their value from the prefill (``base``), never from the post. Text that cannot become the field's type
(``"12a"`` for a number, a date that does not exist) is kept in ``raw`` so the page shows it again, with a
message in ``errors``; such a field is left out of ``data``, and the validator does not repeat a message for it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from workspace.forms.model import Field, FormModel

ROWS_FIELD = "_rows."  # hidden "_rows.<array name>" carries the number of rows shown
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9


@dataclass
class Submission:
    data: dict
    raw: dict[str, Any] = field(default_factory=dict)  # field id -> what was typed (for redisplay)
    errors: dict[str, str] = field(default_factory=dict)  # field id -> message (parse problems)


class _Post:
    """Read access to a Werkzeug MultiDict or a plain dict of str | list[str]."""

    def __init__(self, form: Any):
        self.form = form

    def get(self, key: str) -> str | None:
        value = self.form.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return value

    def getlist(self, key: str) -> list[str]:
        if hasattr(self.form, "getlist"):
            return list(self.form.getlist(key))
        value = self.form.get(key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def keys(self) -> list[str]:
        return list(self.form.keys())


def parse_form(model: FormModel, form: Any, base: dict | None = None) -> Submission:
    post = _Post(form)
    sub = Submission(data={})
    sub.data = _object(model, model.schema, model.ui, (), (), post, sub, base or {})
    return sub


def _key(src: tuple) -> str:
    return ".".join(str(p) for p in src)


def _id(path: tuple) -> str:
    return "-".join(str(p) for p in path)


def _object(model: FormModel, node: dict, ui: dict, path: tuple, src: tuple, post: _Post, sub: Submission,
            base: dict) -> dict:
    node = model.resolve(node)
    out: dict = {}
    probe = model.make(node, ui, path or ("_",), None) if path else model.build()
    fields = {f.path[-1]: f for f in _with_revealed(probe.children)}
    for name, prop in node.get("properties", {}).items():
        f = fields.get(name)
        if f is None:
            continue
        sub_ui = ui.get(name, {}) if isinstance(ui.get(name, {}), dict) else {}
        present, value = _value(model, prop, sub_ui, f, (*path, name), (*src, name), post, sub,
                                base.get(name) if isinstance(base, dict) else None)
        if present:
            out[name] = value
    # a revealed field counts only when its option is chosen: drop what a hidden reveal still posted
    for f in fields.values():
        if f.revealed_by is None:
            continue
        controller, option = f.revealed_by
        chosen = out.get(controller.path[-1])
        chosen_values = [str(v) for v in chosen] if isinstance(chosen, list) else [str(chosen)]
        if option not in chosen_values:
            out.pop(f.path[-1], None)
            prefix = _id((*path, f.path[-1]))
            for store in (sub.raw, sub.errors):
                for key in [k for k in store if k == prefix or k.startswith(prefix + "-")]:
                    del store[key]
    return out


def _with_revealed(fields: list[Field]) -> list[Field]:
    out = []
    for f in fields:
        out.append(f)
        for revealed in f.reveals.values():
            out.extend(revealed)
    return out


def _value(model: FormModel, node: dict, ui: dict, f: Field, path: tuple, src: tuple, post: _Post,
           sub: Submission, base: Any) -> tuple[bool, Any]:
    kind = f.kind
    key, fid = _key(src), _id(path)
    if kind in ("readonly", "hidden"):
        return base is not None, base
    if kind == "object":
        value = _object(model, node, ui, path, src, post, sub, base if isinstance(base, dict) else {})
        return bool(value) or f.required, value
    if kind == "array":
        return _array(model, node, ui, f, path, src, post, sub, base)
    if kind == "checkboxes":
        chosen = [c for c in post.getlist(key) if c != ""]
        by_text = {str(o.value): o.value for o in f.options}
        return bool(chosen), [by_text.get(c, c) for c in chosen]
    if kind == "lines":
        text = post.get(key) or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if text.strip():
            sub.raw[fid] = text
        return bool(lines), lines
    if kind == "date":
        return _date(f, key, fid, post, sub)
    text = post.get(key)
    if text is None:
        return False, None
    if kind not in ("textarea",):
        text = text.strip()
    else:
        text = text.replace("\r\n", "\n")
    if text.strip() == "":
        return False, None
    sub.raw[fid] = text
    if kind == "boolean":
        if text in ("true", "false"):
            return True, text == "true"
        return True, text  # not a choice we offered: the validator says "Select ..."
    if kind in ("radios", "select"):
        by_text = {str(o.value): o.value for o in f.options}
        return True, by_text.get(text, text)
    if kind in ("integer", "number"):
        return _number(f, text, fid, sub)
    return True, text


def _number(f: Field, text: str, fid: str, sub: Submission) -> tuple[bool, Any]:
    cleaned = re.sub(r"[,\s£]", "", text)
    try:
        number = Decimal(cleaned)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        whole = " whole" if f.kind == "integer" else ""
        sub.errors[fid] = f"{f.title} must be a{whole} number"
        return False, None
    if f.kind == "integer":
        if number != number.to_integral_value():
            sub.errors[fid] = f"{f.title} must be a whole number"
            return False, None
        return True, int(number)
    return True, int(number) if number == number.to_integral_value() and "." not in cleaned else float(number)


def _date(f: Field, key: str, fid: str, post: _Post, sub: Submission) -> tuple[bool, Any]:
    parts = {p: (post.get(f"{key}-{p}") or "").strip() for p in ("day", "month", "year")}
    if not any(parts.values()):
        return False, None
    sub.raw[fid] = dict(parts)
    missing = [p for p in ("day", "month", "year") if not parts[p]]
    if missing:
        sub.raw[fid]["bad"] = missing
        sub.errors[fid] = f"{f.title} must include a {' and '.join(missing)}"
        return False, None
    month_text = parts["month"].lower()
    month = MONTHS.get(month_text) if not month_text.isdigit() else int(month_text)
    if not parts["day"].isdigit() or month is None:
        sub.raw[fid]["bad"] = [p for p in ("day", "month") if (p == "day" and not parts["day"].isdigit())
                               or (p == "month" and month is None)]
        sub.errors[fid] = f"{f.title} must be a real date"
        return False, None
    if not parts["year"].isdigit() or len(parts["year"]) != 4:
        sub.raw[fid]["bad"] = ["year"]
        sub.errors[fid] = "Year must include 4 numbers"
        return False, None
    try:
        value = date(int(parts["year"]), month, int(parts["day"]))
    except ValueError:
        sub.raw[fid]["bad"] = ["day", "month", "year"]
        sub.errors[fid] = f"{f.title} must be a real date"
        return False, None
    return True, value.isoformat()


def _array(model: FormModel, node: dict, ui: dict, f: Field, path: tuple, src: tuple, post: _Post,
           sub: Submission, base: Any) -> tuple[bool, Any]:
    key = _key(src)
    indices: set[int] = set()
    prefix = key + "."
    for k in post.keys():
        if k.startswith(prefix):
            head = k[len(prefix):].split(".", 1)[0].split("-", 1)[0]
            if head.isdigit():
                indices.add(int(head))
    try:
        shown = int(post.get(ROWS_FIELD + key) or 0)
    except ValueError:
        shown = 0
    shown = min(shown, 500)
    items = node.get("items", {})
    item_ui = ui.get("items", {}) if isinstance(ui.get("items", {}), dict) else {}
    rows: list = []
    base_rows = base if isinstance(base, list) else []
    for index in sorted(indices | set(range(shown))):
        row_prefix = f"{key}.{index}."
        typed = any(v.strip() for k in post.keys() if k.startswith(row_prefix) for v in post.getlist(k))
        if not typed:
            continue  # an empty row is not an answer
        new_index = len(rows)
        row_base = base_rows[index] if index < len(base_rows) and isinstance(base_rows[index], dict) else {}
        rows.append(_object(model, items, item_ui, (*path, new_index), (*src, index), post, sub, row_base))
    return bool(rows) or f.required, rows


def apply_action(data: dict, action: str) -> bool:
    """Handle the no-JavaScript "add another" buttons: ``add:<name>`` appends an empty row,
    ``remove:<name>.<index>`` removes one. Returns False for an action it does not know."""
    verb, _, target = action.partition(":")
    if verb not in ("add", "remove") or not target:
        return False
    parts = target.split(".")
    if verb == "remove":
        if len(parts) < 2 or not parts[-1].isdigit():
            return False
        parts, index = parts[:-1], int(parts[-1])
    container: Any = data
    for part in parts[:-1]:
        container = container[int(part)] if part.isdigit() and isinstance(container, list) else \
            container.setdefault(part, {})
        if container is None:
            return False
    rows = container.setdefault(parts[-1], []) if isinstance(container, dict) else None
    if not isinstance(rows, list):
        return False
    if verb == "add":
        if not rows:
            rows.append({})  # the row on screen was empty: keep it, and add the new one
        rows.append({})
    elif 0 <= index < len(rows):
        rows.pop(index)
    return True
