"""The BPMN modeller page (vendored bpmn-js) and its JSON endpoints: load, save, casework properties panel.

Saves are JSON POSTs with the X-CSRF-Token header. A stale save gets 409 and the page keeps the configurator's
diagram so nothing is lost. Every save answers with the engine's problems, each linkable to its element.
"""

from __future__ import annotations

from flask import abort, jsonify, render_template, request

from admin.common import actor_name, engine, problem_rows
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission, Role
from casework.configuration import bundles, drafts, properties
from casework.errors import DomainError, Invalid
from casework.web.context import db_session


def _bpmn_file(draft, name: str | None) -> str:
    files = drafts.files_of(draft)["bpmn"]
    if not files:
        abort(404)
    if name is None:
        return next(iter(files))
    if name not in files:
        abort(404)
    return name


def _forms(draft) -> list[str]:
    return sorted(n[: -len(".schema.json")] for n in drafts.files_of(draft)["forms"] if n.endswith(".schema.json"))


@blueprint.get("/drafts/<int:draft_id>/modeller")
@requires(Permission.CONFIGURE)
def bpmn_editor(draft_id: int):  # type: ignore[no-untyped-def]
    draft = drafts.get_draft(db_session(), draft_id)
    name = _bpmn_file(draft, request.args.get("file"))
    check = bundles.check_files(drafts.files_of(draft), engine())
    eng = engine()
    # bpmn-js 18 runs under the app's strict CSP (no inline styles or eval; checked by
    # tests/browser/test_admin_journey.py::test_modeller_editing_needs_no_csp_exception), so no exception here.
    return render_template(
        "admin/modeller.html", title=f"Modeller: {name}", draft=draft, file=name, forms=_forms(draft),
        roles=[r.value for r in Role], connectors=sorted(eng.config.connectors.names()),
        select=request.args.get("select", ""), problems=problem_rows(draft.id, check.problems))


@blueprint.get("/drafts/<int:draft_id>/bpmn")
@requires(Permission.CONFIGURE)
def bpmn_source(draft_id: int):  # type: ignore[no-untyped-def]
    draft = drafts.get_draft(db_session(), draft_id)
    name = _bpmn_file(draft, request.args.get("file"))
    return jsonify(file=name, xml=drafts.files_of(draft)["bpmn"][name], version=draft.version,
                   status=draft.status)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("Send a JSON object")
    return body


def _save(draft, name: str, xml: str, version, *, reason: str | None = None):  # type: ignore[no-untyped-def]
    session = db_session()
    if not isinstance(xml, str) or not xml.strip():
        raise Invalid("The diagram is empty")
    drafts.save_files(session, draft, changes={"bpmn": {name: xml}}, actor=actor_name(),
                      expected_version=version if isinstance(version, int) else None, reason=reason)
    session.commit()
    session.refresh(draft)
    check = bundles.check_files(drafts.files_of(draft), engine())
    return {"version": draft.version, "problems": problem_rows(draft.id, check.problems), "can_run": check.ok}


def _error(exc: DomainError):  # type: ignore[no-untyped-def]
    db_session().rollback()
    return jsonify(error={"code": exc.code, "message": exc.message, "details": exc.details}), exc.status


@blueprint.post("/drafts/<int:draft_id>/bpmn")
@requires(Permission.CONFIGURE)
def bpmn_save(draft_id: int):  # type: ignore[no-untyped-def]
    draft = drafts.get_draft(db_session(), draft_id)
    try:
        body = _json_body()
        name = _bpmn_file(draft, body.get("file"))
        return jsonify(_save(draft, name, body.get("xml"), body.get("version")))
    except DomainError as exc:
        return _error(exc)


@blueprint.post("/drafts/<int:draft_id>/element")
@requires(Permission.CONFIGURE)
def element_describe(draft_id: int):  # type: ignore[no-untyped-def]
    """What the casework panel shows for one element of the diagram as it is in the browser now."""
    draft = drafts.get_draft(db_session(), draft_id)
    try:
        body = _json_body()
        return jsonify(properties.describe(str(body.get("xml") or ""), str(body.get("element_id") or ""))
                       | {"forms": _forms(draft)})
    except DomainError as exc:
        return _error(exc)


@blueprint.post("/drafts/<int:draft_id>/element/properties")
@requires(Permission.CONFIGURE)
def element_properties(draft_id: int):  # type: ignore[no-untyped-def]
    """Write the panel's values onto the element (server side, as the engine expects them) and save."""
    draft = drafts.get_draft(db_session(), draft_id)
    eng = engine()
    try:
        body = _json_body()
        name = _bpmn_file(draft, body.get("file"))
        values = body.get("values") if isinstance(body.get("values"), dict) else {}
        element_id = str(body.get("element_id") or "")
        xml = properties.apply(str(body.get("xml") or ""), element_id, values, forms=set(_forms(draft)),
                               roles={r.value for r in Role}, connectors=eng.config.connectors.names())
        result = _save(draft, name, xml, body.get("version"), reason=f"casework properties of {element_id}")
        return jsonify(result | {"xml": xml})
    except DomainError as exc:
        return _error(exc)
