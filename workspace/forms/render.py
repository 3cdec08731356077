"""Field tree -> GOV.UK HTML (govuk-frontend-jinja macros), and answers -> GOV.UK summary lists."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from workspace.forms.model import Field, FormModel, Option

TEMPLATES = Path(__file__).parent / "templates"
WIDTHS = {"2", "3", "4", "5", "10", "20", "30"}
FLUID = {"full", "three-quarters", "two-thirds", "one-half", "one-third", "one-quarter"}
NOT_PROVIDED = "Not provided"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(str(TEMPLATES)),
            jinja2.PrefixLoader({"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}),
        ]),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=False,
    )
    return env


def get_path(data: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
        if data is None:
            return None
    return data


def format_date(value: Any) -> str:
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d.day} {d:%B %Y}"


class FieldRenderer:
    """The ``v`` the template asks about values, typed text, errors and options."""

    def __init__(self, data: dict | None, raw: dict | None, errors: dict | None):
        self.data = data or {}
        self.raw = raw or {}
        self.errors = errors or {}
        self.module = environment().get_template("forms/fields.html").make_module({"v": self})

    def field(self, f: Field) -> Markup:
        return self.module.field(f)  # macros return Markup (autoescaped)

    def fields(self, fields: list[Field]) -> Markup:
        return Markup("").join(self.field(f) for f in fields)

    # -- values ----------------------------------------------------------------------------------------
    def value(self, f: Field) -> Any:
        return get_path(self.data, f.path)

    def error(self, f: Field) -> str | None:
        return self.errors.get(f.id)

    def text(self, f: Field) -> str:
        if f.id in self.raw and isinstance(self.raw[f.id], str):
            return self.raw[f.id]
        value = self.value(f)
        if value is None:
            return ""
        if f.kind == "lines" and isinstance(value, list):
            return "\n".join(str(v) for v in value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def width_class(self, f: Field) -> str | None:
        width = str(f.ui.get("ui:options", {}).get("width", ""))
        if width in WIDTHS:
            return f"govuk-input--width-{width}"
        if width in FLUID:
            return f"govuk-!-width-{width}"
        if f.kind in ("integer", "number"):
            return "govuk-input--width-10"
        return None

    def date_items(self, f: Field) -> list[dict]:
        raw = self.raw.get(f.id)
        if isinstance(raw, dict):
            parts = {p: raw.get(p, "") for p in ("day", "month", "year")}
            bad = set(raw.get("bad", ()))
        else:
            parts = {"day": "", "month": "", "year": ""}
            value = self.value(f)
            if value:
                try:
                    d = date.fromisoformat(str(value)[:10])
                    parts = {"day": str(d.day), "month": str(d.month), "year": str(d.year)}
                except ValueError:
                    pass
            bad = set()
        if self.error(f) and not bad:
            bad = {"day", "month", "year"}
        widths = {"day": "2", "month": "2", "year": "4"}
        return [{"name": p, "value": parts[p],
                 "classes": f"govuk-input--width-{widths[p]}" + (" govuk-input--error" if p in bad else "")}
                for p in ("day", "month", "year")]

    @staticmethod
    def option_value(f: Field, o: Option) -> str:
        if isinstance(o.value, bool):
            return "true" if o.value else "false"
        return str(o.value)

    def is_chosen(self, f: Field, o: Option) -> bool:
        return self.is_chosen_value(f, self.option_value(f, o))

    def is_chosen_value(self, f: Field, option: str) -> bool:
        value = self.value(f)
        if f.kind == "checkboxes":
            return isinstance(value, list) and option in [self._str(v) for v in value]
        if value is None:
            return isinstance(self.raw.get(f.id), str) and self.raw[f.id] == option
        return self._str(value) == option

    @staticmethod
    def _str(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def choice_items(self, f: Field) -> list[dict]:
        items = []
        for o in f.options:
            value = self.option_value(f, o)
            item: dict[str, Any] = {"value": value, "text": o.text, "checked": self.is_chosen(f, o)}
            if o.hint:
                item["hint"] = {"text": o.hint}
            revealed = f.reveals.get(value)
            if revealed:
                item["conditional"] = {"html": self.fields(revealed)}
            items.append(item)
        return items

    def select_items(self, f: Field) -> list[dict]:
        placeholder = f.ui.get("ui:placeholder") or "Select an option"
        items = [{"value": "", "text": placeholder, "selected": self.value(f) is None}]
        for o in f.options:
            items.append({"value": self.option_value(f, o), "text": o.text, "selected": self.is_chosen(f, o)})
        return items

    # -- showing answers -------------------------------------------------------------------------------
    def display(self, f: Field) -> str:
        return display_text(f, self.value(f))

    def display_html(self, f: Field) -> Markup:
        value = self.value(f)
        if f.kind in ("checkboxes", "lines") and isinstance(value, list) and value:
            texts = [display_text(f, v, item=True) for v in value]
            return Markup("<br>").join(escape(t) for t in texts)
        return Markup("<br>").join(escape(line) for line in display_text(f, value).split("\n"))


def display_text(f: Field, value: Any, *, item: bool = False) -> str:
    if value is None or value == "" or value == []:
        return NOT_PROVIDED
    if isinstance(value, list) and not item:
        return ", ".join(display_text(f, v, item=True) for v in value)
    if f.options:
        for o in f.options:
            if o.value == value and type(o.value) is type(value):
                return o.text
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if f.kind == "date" or f.schema.get("format") == "date":
        return format_date(value)
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v not in (None, ""))
    return str(value)


def render_fields(model: FormModel, data: dict | None = None, *, raw: dict | None = None,
                  errors: dict | None = None) -> Markup:
    """The form's fields (no <form> element, no buttons): the page wraps them."""
    root = model.build(data)
    return FieldRenderer(data, raw, errors).fields(root.children)


def answer_sections(model: FormModel, data: dict, *, change_url: str | None = None) -> list[dict]:
    """Summary-list sections for a check-your-answers page or a read-only view of earlier answers."""
    r = FieldRenderer(data, None, None)
    root = model.build(data)
    sections: list[dict] = [{"heading": None, "rows": []}]

    def add(fields: list[Field], rows: list[dict]) -> None:
        for f in fields:
            if f.kind == "hidden":
                continue
            if f.kind == "object":
                add(f.children, rows)
                continue
            if f.kind == "array":
                values = r.value(f) or []
                item = f.ui.get("ui:options", {}).get("itemTitle") or (
                    f.item_template.title if f.item_template else "Item")
                if not values:
                    rows.append(_row(r, f, change_url, escape(NOT_PROVIDED)))
                for n, row in enumerate(f.rows[:len(values)]):
                    section = {"heading": f"{item} {n + 1}", "rows": []}
                    sections.append(section)
                    add(row, section["rows"])
                    sections.append({"heading": None, "rows": []})
                    rows = sections[-1]["rows"]
                continue
            rows.append(_row(r, f, change_url, r.display_html(f)))
            for option, revealed in f.reveals.items():
                if r.is_chosen_value(f, option):
                    add(revealed, rows)

    for f in root.children:
        if f.kind == "object":
            section = {"heading": f.title, "rows": []}
            sections.append(section)
            add(f.children, section["rows"])
            sections.append({"heading": None, "rows": []})
        else:
            add([f], sections[-1]["rows"])
    return [s for s in sections if s["rows"]]


def _row(r: FieldRenderer, f: Field, change_url: str | None, html: Markup) -> dict:
    row: dict[str, Any] = {"key": {"text": f.title}, "value": {"html": html}}
    if change_url is not None and f.kind != "readonly":
        row["actions"] = {"items": [{"href": f"{change_url}#{f.anchor}", "text": "Change",
                                     "visuallyHiddenText": f.title.lower()}]}
    return row


def render_answers(model: FormModel, data: dict, *, change_url: str | None = None) -> Markup:
    sections = answer_sections(model, data, change_url=change_url)
    module = environment().get_template("forms/fields.html").make_module({"v": None})
    return module.answers(sections)  # autoescaped Markup
