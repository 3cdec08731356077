"""Decision table editor: one HTML table per DMN decision table; rules can be changed, added and removed.
Works without JavaScript; the engine's validation (every cell compiles in the sandbox) runs after saving."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from admin.common import actor_name, engine, problem_rows
from admin.views import blueprint
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.configuration import bundles, dmn_tables, drafts
from casework.errors import DomainError
from casework.web.context import db_session


def _rules_from_form(form, table: dmn_tables.Table) -> list[dict]:
    rules = []
    count = int(form.get("rows", "0")) if form.get("rows", "0").isdigit() else 0
    for n in range(min(count, dmn_tables.MAX_RULES + 1)):
        if form.get(f"r{n}_delete") == "yes":
            continue
        inputs = [form.get(f"r{n}_i{k}", "") for k in range(len(table.inputs))]
        outputs = [form.get(f"r{n}_o{k}", "") for k in range(len(table.outputs))]
        rule_id = form.get(f"r{n}_id") or None
        if rule_id is None and not any(v.strip() for v in inputs + outputs):
            continue  # the blank "add a rule" row left empty
        rules.append({"id": rule_id, "description": form.get(f"r{n}_desc", ""), "inputs": inputs,
                      "outputs": outputs})
    return rules


@blueprint.route("/drafts/<int:draft_id>/decisions/<name>", methods=["GET", "POST"])
@requires(Permission.CONFIGURE)
def dmn_editor(draft_id: int, name: str):  # type: ignore[no-untyped-def]
    session = db_session()
    draft = drafts.get_draft(session, draft_id)
    files = drafts.files_of(draft)
    if name not in files["dmn"]:
        abort(404)
    xml = files["dmn"][name]
    try:
        tables = dmn_tables.read(xml)
    except DomainError as exc:
        return render_template("admin/dmn.html", title=name, draft=draft, name=name, tables=[], table=None,
                               errors={"table": exc.message}, problems=[]), 422
    if not tables:
        return render_template("admin/dmn.html", title=name, draft=draft, name=name, tables=[], table=None,
                               errors={}, problems=[])
    wanted = request.values.get("decision") or tables[0].decision_id
    table = next((t for t in tables if t.decision_id == wanted), None)
    if table is None:
        abort(404)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        version = int(request.form["version"]) if request.form.get("version", "").isdigit() else None
        try:
            new_xml = dmn_tables.write(xml, table.decision_id, _rules_from_form(request.form, table))
            drafts.save_files(session, draft, changes={"dmn": {name: new_xml}}, actor=actor_name(),
                              expected_version=version, reason=request.form.get("reason") or None)
        except DomainError as exc:
            session.rollback()
            errors, status = {"table": exc.message}, exc.status
        else:
            session.commit()
            flash(f"Saved the rules of {table.decision_name}")
            return redirect(url_for("admin.dmn_editor", draft_id=draft_id, name=name, decision=table.decision_id))
    check = bundles.check_files(drafts.files_of(draft), engine())
    problems = problem_rows(None, [p for p in check.problems if p.file == name])
    return render_template("admin/dmn.html", title=f"{table.decision_name} ({name})", draft=draft, name=name,
                           tables=tables, table=table, errors=errors, problems=problems), status
