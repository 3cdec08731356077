"""JSON Schema forms rendered on the server as GOV.UK components, read back with types, validated with
jsonschema (Draft 2020-12) and reported in a GOV.UK error summary. See model.py for the UI schema keys.

    form = SchemaForm(schema, ui)
    html = form.render(data)                         # fields only; the page adds <form>, CSRF and buttons
    result = form.submit(request.form, base=prefill) # parse + validate -> FormResult(data, raw, errors, action)
    form.error_list(result)                          # [{"text", "href": "#first-control"}] for the summary
    form.answers(data, change_url=...)               # GOV.UK summary list of answers
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from workspace.forms.model import Field, FormModel, SchemaError
from workspace.forms.parse import Submission, apply_action, parse_form
from workspace.forms.render import answer_sections, render_answers, render_fields
from workspace.forms.validate import error_list, validate

ACTION_FIELD = "_action"


@dataclass
class FormResult:
    data: dict
    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "add:<array>", "remove:<array>.<n>" or a page action such as "draft"

    @property
    def valid(self) -> bool:
        return not self.errors


class SchemaForm:
    def __init__(self, schema: dict, ui: dict | None = None):
        self.model = FormModel(schema, ui)

    def render(self, data: dict | None = None, *, raw: dict | None = None,
               errors: dict[str, str] | None = None) -> Markup:
        return render_fields(self.model, data, raw=raw, errors=errors)

    def parse(self, form: Any, base: dict | None = None) -> Submission:
        return parse_form(self.model, form, base)

    def submit(self, form: Any, base: dict | None = None, *, validate_data: bool = True) -> FormResult:
        """Read the post; an add/remove row action changes the rows and skips validation."""
        sub = self.parse(form, base)
        action = form.get(ACTION_FIELD) or None
        if action and apply_action(sub.data, action):
            raw = sub.raw
            if action.startswith("remove:"):  # rows after the removed one moved up: show their data
                prefix = action[7:].rsplit(".", 1)[0].replace(".", "-") + "-"
                raw = {k: v for k, v in raw.items() if not k.startswith(prefix)}
            return FormResult(sub.data, raw, {}, action)
        errors = validate(self.model, sub) if validate_data else {}
        return FormResult(sub.data, sub.raw, errors, action)

    def validate(self, data: dict) -> dict[str, str]:
        return validate(self.model, Submission(data=data))

    def error_list(self, result: FormResult) -> list[dict[str, str]]:
        return error_list(self.model, result.data, result.errors)

    def answers(self, data: dict, *, change_url: str | None = None) -> Markup:
        return render_answers(self.model, data, change_url=change_url)

    def answer_sections(self, data: dict, *, change_url: str | None = None) -> list[dict]:
        return answer_sections(self.model, data, change_url=change_url)

    def answers_text(self, data: dict) -> str:
        """The answers as plain text ("Question: answer" lines), e.g. for the case record."""
        lines = []
        for section in answer_sections(self.model, data):
            if section["heading"]:
                lines.append(f"{section['heading']}:")
            for row in section["rows"]:
                value = "; ".join(part.striptags() for part in row["value"]["html"].split(Markup("<br>")))
                lines.append(f"{row['key']['text']}: {value}")
        return "\n".join(lines)


__all__ = ["Field", "FormModel", "FormResult", "SchemaError", "SchemaForm", "Submission", "apply_action",
           "error_list", "parse_form", "render_answers", "render_fields", "validate"]
