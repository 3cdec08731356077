"""Audit search for information governance: "who looked at this child's record?"."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields

from api import blueprint
from api.openapi import documented
from casework import audit
from casework.audit.query import event_to_dict, parse_query
from casework.auth.access import requires
from casework.auth.permissions import Permission
from casework.web.context import current_actor, db_session


class AuditEventSchema(Schema):
    seq = fields.Int()
    occurred_at = fields.Str()
    actor_user_id = fields.Int(allow_none=True)
    actor_username = fields.Str(allow_none=True)
    action = fields.Str()
    record_type = fields.Str()
    record_id = fields.Str(allow_none=True)
    person_id = fields.Str(allow_none=True)
    fields_ = fields.List(fields.Str(), data_key="fields")
    ip = fields.Str(allow_none=True)
    user_agent = fields.Str(allow_none=True)
    reason = fields.Str(allow_none=True)
    hash = fields.Str()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    next_before_seq = fields.Int(allow_none=True)


@blueprint.get("/audit")
@requires(Permission.AUDIT_VIEW)
@documented("Search the audit trail (newest first)", response=AuditPageSchema, query={
    "person_id": "events about this person", "user": "username or user id of who acted",
    "from": "ISO date or datetime (inclusive)", "to": "ISO date (inclusive) or datetime (exclusive)",
    "action": "view, create, update, delete, export, break_glass, sign_in, sign_in_failed, ...",
    "record_type": "e.g. person, case, note", "record_id": "id of the record",
    "before_seq": "paging: continue below this sequence number", "limit": "1 to 500 (default 100)"})
def audit_search():  # type: ignore[no-untyped-def]
    query = parse_query(request.args.to_dict())
    session = db_session()
    events = audit.search(session, query)
    # searching the trail is itself an access to personal data: it is audited too
    audit.record(session, current_actor(), "view", record_type="audit_search", record_id=None,
                 person_id=query.person_id, fields=sorted(k for k in request.args if k != "limit"))
    session.commit()
    items = [event_to_dict(e) for e in events]
    next_before = items[-1]["seq"] if len(items) == query.limit else None
    return {"items": items, "next_before_seq": next_before}
