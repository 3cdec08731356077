"""Break-glass access to a person's record, and the alerts it raises for managers."""

from __future__ import annotations

from flask import request
from marshmallow import RAISE, Schema, fields, validate

from api import blueprint
from api.openapi import documented
from casework.auth import policy
from casework.auth.access import login_required, requires
from casework.auth.models import AccessAlert
from casework.auth.permissions import Permission
from casework.db import utcnow
from casework.errors import NotFound
from casework.web.context import current_actor, db_session


class BreakGlassSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.Str(required=True, validate=validate.Length(min=policy.MIN_REASON_LENGTH, max=2000))
    minutes = fields.Int(load_default=policy.BREAK_GLASS_DEFAULT_MINUTES,
                         validate=validate.Range(min=1, max=policy.BREAK_GLASS_MAX_MINUTES))


class GrantSchema(Schema):
    id = fields.Int()
    record_type = fields.Str()
    record_id = fields.Str()
    reason = fields.Str()
    granted_at = fields.DateTime()
    expires_at = fields.DateTime()


class AccessAlertSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    message = fields.Str()
    grant_id = fields.Int(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


@blueprint.post("/people/<int:person_id>/break-glass")
@requires(Permission.RECORDS_VIEW)
@documented("Break-glass: time-limited access to a person's record you cannot otherwise see. The reason is "
            "audited and the record's managers are alerted.", body=BreakGlassSchema, response=GrantSchema,
            status=201)
def break_glass_person(person_id: int):  # type: ignore[no-untyped-def]
    data = BreakGlassSchema().load(request.get_json(silent=True) or {})
    session = db_session()
    grant = policy.break_glass_person(session, current_actor(), person_id, data["reason"], minutes=data["minutes"])
    session.commit()
    return GrantSchema().dump(grant), 201


@blueprint.post("/cases/<int:case_id>/break-glass")
@requires(Permission.RECORDS_VIEW)
@documented("Break-glass: time-limited access to another team's case (the person must be visible). The reason "
            "is audited and the case team's managers are alerted.", body=BreakGlassSchema, response=GrantSchema,
            status=201)
def break_glass_case(case_id: int):  # type: ignore[no-untyped-def]
    from casework.records.access import break_glass_case as open_case_by_break_glass

    data = BreakGlassSchema().load(request.get_json(silent=True) or {})
    session = db_session()
    grant = open_case_by_break_glass(session, current_actor(), case_id, data["reason"], minutes=data["minutes"])
    session.commit()
    return GrantSchema().dump(grant), 201


@blueprint.get("/alerts")
@login_required
@documented("My access alerts (e.g. break-glass on my team's records), newest first",
            response=AccessAlertSchema(many=True))
def my_alerts():  # type: ignore[no-untyped-def]
    unread = request.args.get("unread") == "1"
    return {"items": AccessAlertSchema(many=True).dump(policy.alerts_for(db_session(), current_actor().user_id,
                                                                   unread_only=unread))}


@blueprint.post("/alerts/<int:alert_id>/read")
@login_required
@documented("Mark one of my alerts as read", response=AccessAlertSchema)
def read_alert(alert_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    alert = session.get(AccessAlert, alert_id)
    if alert is None or alert.recipient_user_id != current_actor().user_id:
        raise NotFound("No such alert")
    alert.read_at = alert.read_at or utcnow()
    session.commit()
    return AccessAlertSchema().dump(alert)
