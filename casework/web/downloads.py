"""File downloads shared by the API and the workspace: one place that reads, audits, commits and answers, so
both routes give the same bytes, headers and audit rows."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, current_app, send_file

from casework import audit
from casework.audit import AuditAction
from casework.records import service_chronology as chrono
from casework.records import service_document as docs
from casework.records.access import get_visible_person
from casework.web.context import current_actor, db_session


def document_download(document_id: int, version_no: int | None) -> Response:
    """A document version (current by default): logged in document_access and the audit trail."""
    session, actor = db_session(), current_actor()
    doc = docs.get_visible_document(session, actor, document_id)
    version, data = docs.open_version(session, actor, doc, documents_dir=current_app.config["SETTINGS"].documents_dir,
                                      version_no=version_no)
    session.commit()
    response = send_file(io.BytesIO(data), mimetype=version.content_type, as_attachment=True,
                         download_name=version.filename, etag=version.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def chronology_export(person_id: int, fmt: str, filters: dict[str, Any]) -> Response:
    """The person's chronology (``filters`` as chronology() takes them) as CSV or PDF, audited as an export."""
    session, actor = db_session(), current_actor()
    entries = chrono.chronology(session, actor, person_id, audit_action=AuditAction.EXPORT, **filters)
    person = get_visible_person(session, actor, person_id)
    body = chrono.export_csv(entries) if fmt == "csv" else chrono.export_pdf(person, entries)
    session.commit()  # the audit row of the export
    mimetype = "text/csv" if fmt == "csv" else "application/pdf"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="chronology-{person.local_id}.{fmt}"',
        "Cache-Control": "no-store"})


def payment_file(run_id: int) -> Response:
    """A payment run's CSV file again (the same bytes each time), audited."""
    from casework.finance import runs

    session = db_session()
    name, text = runs.download(session, run_id)
    audit.record(session, current_actor(), "export", record_type="finance_payment_run", record_id=run_id,
                 reason="downloaded again")
    session.commit()
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store"})
