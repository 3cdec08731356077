"""Helpers shared by the admin pages: who is acting, the engine, reasons, problems as links."""

from __future__ import annotations

from flask import render_template, request, url_for

from casework.engine_host import get_engine
from casework.errors import DomainError
from casework.web.context import current_actor, db_session
from engine.errors import EngineError


def actor_name() -> str:
    return current_actor().username


def engine():  # type: ignore[no-untyped-def]
    return get_engine()


def reason() -> str:
    return request.form.get("reason", "")


def problem_rows(draft_id: int | None, problems: list) -> list[dict]:
    """Problems (engine Problem objects or dicts) as rows with a link that selects the element in the modeler."""
    rows = []
    for p in problems:
        d = p.to_dict() if hasattr(p, "to_dict") else (p if isinstance(p, dict) else {"message": str(p)})
        link = None
        file = d.get("file") or ""
        if draft_id is not None:
            if d.get("element_id") and (not file or file.endswith((".bpmn", ".xml"))):
                link = url_for("admin.bpmn_editor", draft_id=draft_id, file=file or None, select=d["element_id"])
            elif file.endswith(".dmn"):
                link = url_for("admin.dmn_editor", draft_id=draft_id, name=file)
            elif file.endswith(".schema.json"):
                link = url_for("admin.form_editor", draft_id=draft_id, form=file[: -len(".schema.json")])
        rows.append({"element_id": d.get("element_id"), "element_name": d.get("element_name"),
                     "message": d.get("message"), "severity": d.get("severity") or "error", "file": file or None,
                     "link": link})
    return rows


def error_message(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, EngineError):
        return str(exc)
    return "Something went wrong"


def render_error_page(template: str, status: int, **context):  # type: ignore[no-untyped-def]
    return render_template(template, **context), status


__all__ = ["actor_name", "db_session", "engine", "problem_rows", "reason"]
