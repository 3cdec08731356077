"""Finance pages for providers (care providers / suppliers): list with search and paging, a provider's page with
its agreements, add a provider and change one. ``casework.finance.providers`` does the work and the checks (a
unique reference, a CQC location id's form, a bank details *reference* only, never bank details), as it does
for api/finance.py; its refusals are shown as GOV.UK error summaries and write nothing. Audited as the API."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from casework import audit
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.errors import Conflict, Invalid
from casework.finance import agreements, providers
from casework.finance.codes import SERVICE_TYPES
from casework.finance.models import Provider
from casework.web.context import current_actor, db_session
from workspace.finance_views import PER_PAGE, STATUS_LABELS, STATUS_TAGS, _page_number, _pages, _people
from workspace.views import blueprint

FIELDS = ("name", "reference", "cqc_location_id", "bank_details_reference")
LABELS = {"name": "Name", "reference": "Supplier reference", "cqc_location_id": "CQC location ID",
          "bank_details_reference": "Bank details reference", "active": "Status"}
Q_MAX = 100


@blueprint.get("/finance/providers")
@requires(Permission.FINANCE)
def finance_providers():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "").strip()[:Q_MAX]
    page = _page_number()
    rows, total = providers.list_providers(db_session(), q=q or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("workspace/finance_providers.html", title="Providers", rows=rows, total=total, q=q,
                           page=page, pages=_pages(total, PER_PAGE))


def _form_values() -> dict[str, Any]:
    """The form's text as typed (shown again on a refusal)."""
    values: dict[str, Any] = {name: (request.form.get(name) or "").strip() for name in FIELDS}
    values["active"] = request.form.get("active") or ""
    return values


def _required(values: dict[str, Any]) -> dict[str, str]:
    errors = {}
    if not values["name"]:
        errors["name"] = "Enter the provider's name"
    if not values["reference"]:
        errors["reference"] = "Enter the provider's supplier reference from the finance system"
    return errors


def _service_data(values: dict[str, Any]) -> dict[str, Any]:
    """Form text -> the service's input (empty optional fields are None)."""
    data: dict[str, Any] = {"name": values["name"], "reference": values["reference"],
                            "cqc_location_id": values["cqc_location_id"] or None,
                            "bank_details_reference": values["bank_details_reference"] or None}
    if values["active"] in ("yes", "no"):
        data["active"] = values["active"] == "yes"
    return data


def _field_errors(exc: Invalid) -> dict[str, str]:
    details = {k: v for k, v in (exc.details or {}).items() if k in LABELS}
    return details or {"name": exc.message}


def _form_page(values: dict[str, Any], *, provider: Provider | None = None, errors: dict[str, str] | None = None,
               version: int | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    errors = errors or {}
    anchors = {"version": "#provider-heading"}
    return render_template(
        "workspace/finance_provider_form.html",
        title=f"Change {provider.name}" if provider is not None else "Add a provider", provider=provider,
        values=values, errors=errors, version=version,
        error_list=[{"text": m, "href": anchors.get(k, f"#{k}")} for k, m in errors.items()]), status


@blueprint.get("/finance/providers/new")
@requires(Permission.FINANCE)
def finance_provider_new():  # type: ignore[no-untyped-def]
    return _form_page({name: "" for name in FIELDS} | {"active": "yes"})


@blueprint.post("/finance/providers")
@requires(Permission.FINANCE)
def finance_provider_create():  # type: ignore[no-untyped-def]
    session = db_session()
    actor = current_actor()
    values = _form_values()
    errors = _required(values)
    if errors:
        return _form_page(values, errors=errors, status=422)
    try:
        provider = providers.create_provider(session, _service_data(values), user_id=actor.user_id)
    except Invalid as exc:
        session.rollback()
        return _form_page(values, errors=_field_errors(exc), status=422)
    audit.record(session, actor, "create", record_type="finance_provider", record_id=provider.id)
    session.commit()
    flash(f"Provider {provider.name} added.")
    return redirect(url_for("workspace.finance_provider", provider_id=provider.id), code=303)


@blueprint.get("/finance/providers/<int:provider_id>")
@requires(Permission.FINANCE)
def finance_provider(provider_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    provider = providers.get_provider(session, provider_id)
    page = _page_number()
    rows, total = agreements.list_agreements(session, provider_id=provider.id, limit=PER_PAGE,
                                             offset=(page - 1) * PER_PAGE)
    return render_template(
        "workspace/finance_provider.html", title=provider.name, provider=provider, rows=rows, total=total,
        page=page, pages=_pages(total, PER_PAGE), people=_people({a.person_id for a in rows}),
        status_labels=STATUS_LABELS, status_tags=STATUS_TAGS, service_types=SERVICE_TYPES)


@blueprint.get("/finance/providers/<int:provider_id>/edit")
@requires(Permission.FINANCE)
def finance_provider_edit(provider_id: int):  # type: ignore[no-untyped-def]
    provider = providers.get_provider(db_session(), provider_id)
    values = {name: getattr(provider, name) or "" for name in FIELDS} | {"active": "yes" if provider.active else "no"}
    return _form_page(values, provider=provider, version=provider.version)


@blueprint.post("/finance/providers/<int:provider_id>/edit")
@requires(Permission.FINANCE)
def finance_provider_update(provider_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    actor = current_actor()
    provider = providers.get_provider(session, provider_id)
    values = _form_values()
    try:
        version = int(request.form.get("version") or "")
    except ValueError:
        version = None
    errors = _required(values)
    if values["active"] not in ("yes", "no"):
        errors["active"] = "Choose whether the provider is active"
    if version is None:
        errors["version"] = "Open the provider again and make your change"
    if errors:
        return _form_page(values, provider=provider, errors=errors, version=version, status=422)
    data = _service_data(values)
    changed = sorted(k for k, v in data.items() if getattr(provider, k) != v)
    try:
        provider = providers.update_provider(session, provider.id, data | {"version": version},
                                             user_id=actor.user_id)
    except (Invalid, Conflict) as exc:
        session.rollback()
        provider = providers.get_provider(session, provider_id)
        if isinstance(exc, Conflict):
            return _form_page(values, provider=provider, errors={"version": exc.message}, version=provider.version,
                              status=409)
        return _form_page(values, provider=provider, errors=_field_errors(exc), version=version, status=422)
    if changed:
        audit.record(session, actor, "update", record_type="finance_provider", record_id=provider.id,
                     fields=changed)
        session.commit()
        flash(f"Provider {provider.name} updated.")
    else:
        session.rollback()
        flash("Nothing was changed.")
    return redirect(url_for("workspace.finance_provider", provider_id=provider_id), code=303)
