"""Form editor: JSON Schema + UI schema, a live preview drawn by the workspace's own renderer, and "try it"
(validate sample answers). Works without JavaScript (Preview / Try it / Save buttons post the page); with
JavaScript the preview refreshes as you type through the preview endpoint."""

from __future__ import annotations

import json
import re

from flask import flash, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from admin.common import actor_name
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import bundles, drafts
from casework.errors import DomainError
from casework.web.context import db_session
from engine.errors import Invalid as EngineInvalid

FORM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,80}$")
MAX_SCHEMA_CHARS = 200_000


def _parse_json(text: str, label: str, *, allow_empty: bool = False) -> tuple[dict | None, str | None]:
    if not text.strip():
        return (None, None) if allow_empty else (None, f"Enter the {label}")
    if len(text) > MAX_SCHEMA_CHARS:
        return None, f"The {label} is too long"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"The {label} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"The {label} must be a JSON object"
    return value, None


def preview(schema_text: str, ui_text: str, sample_text: str | None = None) -> dict:
    """{"errors": {field: message}, "html": Markup | None, "answers": {field id: message} | None}"""
    errors: dict[str, str] = {}
    schema, message = _parse_json(schema_text, "JSON Schema")
    if message:
        errors["schema"] = message
    else:
        try:
            bundles.check_form_file("form.schema.json", json.dumps(schema))
        except EngineInvalid as exc:
            errors["schema"] = str(exc).replace("form.schema.json is", "The schema is")
    ui, message = _parse_json(ui_text, "UI schema", allow_empty=True)
    if message:
        errors["uischema"] = message
    html, answers = None, None
    if not errors:
        from workspace.forms import SchemaError, SchemaForm  # the workspace's own renderer

        try:
            form = SchemaForm(schema, ui)
            sample = None
            if sample_text is not None and sample_text.strip():
                sample, message = _parse_json(sample_text, "sample answers")
                if message:
                    errors["sample"] = message
                else:
                    answers = form.validate(sample)
            html = form.render(sample or {}, errors=answers or None)
        except SchemaError as exc:
            errors["schema"] = f"The form cannot be shown: {exc}"
            html = None
    return {"errors": errors, "html": html, "answers": answers}


@blueprint.route("/drafts/<int:draft_id>/form", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def form_editor(draft_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    files = drafts.files_of(draft)["forms"]
    name = (request.values.get("form") or "").strip()
    is_new = not name or f"{name}.schema.json" not in files
    schema_text = files.get(f"{name}.schema.json", "{\n  \"type\": \"object\",\n  \"properties\": {}\n}")
    ui_text = files.get(f"{name}.uischema.json", "")
    sample_text, version, status = "", draft.version, 200
    errors: dict[str, str] = {}
    result = None
    if request.method == "POST":
        schema_text = request.form.get("schema", "")
        ui_text = request.form.get("uischema", "")
        sample_text = request.form.get("sample", "")
        version = int(request.form["version"]) if request.form.get("version", "").isdigit() else None
        action = request.form.get("action", "preview")
        if not FORM_NAME.match(name):
            errors["form"] = "Enter a form name: lower-case letters, numbers, hyphens or underscores"
        result = preview(schema_text, ui_text, sample_text if action == "try" else None)
        errors.update(result["errors"])
        if action == "save" and not errors:
            changes = {f"{name}.schema.json": schema_text,
                       f"{name}.uischema.json": ui_text if ui_text.strip() else None}
            try:
                drafts.save_files(session, draft, changes={"forms": changes}, actor=actor_name(),
                                  expected_version=version, reason=request.form.get("reason"),
                                  action="form_saved")
            except DomainError as exc:
                session.rollback()
                errors["schema"] = exc.message
                status = exc.status
            else:
                session.commit()
                flash(f"Saved form {name}")
                return redirect(url_for("admin.form_editor", draft_id=draft_id, form=name))
        if errors and status == 200:
            status = 422
    else:
        result = preview(schema_text, ui_text) if not is_new else None
    return render_template("admin/form_editor.html", title=f"Form {name or '(new)'}", draft=draft, name=name,
                           is_new=is_new, schema_text=schema_text, ui_text=ui_text, sample_text=sample_text,
                           version=version, errors=errors, result=result), status


@blueprint.post("/forms/preview")
@requires(Permission.CONFIGURE)
def form_preview():  # type: ignore[no-untyped-def]
    """JSON for the live preview: {"html": "...", "errors": {...}, "answers": {...}}."""
    body = request.get_json(silent=True) or {}
    result = preview(str(body.get("schema") or ""), str(body.get("uischema") or ""),
                     str(body["sample"]) if body.get("sample") else None)
    html = result["html"]
    return jsonify(html=str(html) if isinstance(html, Markup) else html, errors=result["errors"],
                   answers=result["answers"])
