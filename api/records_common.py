"""Shared pieces of the case-record API: pagination, versions (If-Match / body), person payloads."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy.orm.exc import StaleDataError

from api import blueprint
from casework.errors import Invalid

MAX_LIMIT = 100


@blueprint.errorhandler(StaleDataError)
def _stale(_exc: StaleDataError):  # type: ignore[no-untyped-def]
    """Someone saved the same record between our read and our write (the versioned UPDATE matched no row)."""
    from casework.web.errors import error_response

    return error_response(409, "stale_version", "This record was changed by someone else at the same time; "
                          "reload it and make your change again", {"version": "Changed by someone else"})


def page_args(default: int = 25) -> tuple[int, int]:
    """limit/offset query parameters; limit is capped at 100."""
    try:
        limit = int(request.args.get("limit", default))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise Invalid("limit and offset must be whole numbers", details={"limit": "Enter a number"}) from None
    if limit < 1 or offset < 0:
        raise Invalid("limit must be at least 1 and offset not negative", details={"limit": "Out of range"})
    return min(limit, MAX_LIMIT), offset


def page(items: list[Any], has_more: bool, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "limit": limit, "offset": offset,
            "next_offset": offset + limit if has_more else None}


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("Send a JSON object", details={"_body": "Expected a JSON object"})
    return body


def expected_version(data: dict[str, Any]) -> int | None:
    """The version the client is updating: `version` in the body, else an If-Match header ("3" or W/"3")."""
    if data.get("version") is not None:
        return int(data["version"])
    header = request.headers.get("If-Match", "").strip()
    if header:
        raw = header.removeprefix("W/").strip('"')
        if raw.isdigit():
            return int(raw)
        raise Invalid("If-Match must carry the record's version", details={"version": "Bad If-Match header"})
    return None


def arg_date(name: str):  # type: ignore[no-untyped-def]
    from datetime import date

    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name} is not a date", details={name: "Use YYYY-MM-DD"}) from None


class Strict(Schema):
    class Meta:
        unknown = RAISE


class VersionOnly(Strict):
    version = fields.Int(load_default=None)


class PersonAlertSchema(Schema):
    id = fields.Int()
    alert_type = fields.Str()
    description = fields.Str()
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class PersonAddressSchema(Schema):
    id = fields.Int()
    address_type = fields.Str()
    line1 = fields.Str()
    line2 = fields.Str(allow_none=True)
    town = fields.Str(allow_none=True)
    postcode = fields.Str(allow_none=True)
    uprn = fields.Str(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.Int(allow_none=True)


class PersonAddressInSchema(Strict):
    address_type = fields.Str(load_default="home")
    line1 = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))
    town = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))
    postcode = fields.Str(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$", error="Enter a real postcode, like SW1A 1AA"))
    uprn = fields.Str(load_default=None, allow_none=True, validate=validate.Regexp(r"^\d{1,12}$"))
    start_date = fields.Date(load_default=None, allow_none=True)
    end_date = fields.Date(load_default=None, allow_none=True)


class PersonBriefSchema(Schema):
    """How a person appears anywhere (lists, matches, households): always with active alerts."""

    id = fields.Int()
    local_id = fields.Str()
    display_name = fields.Str()
    forename = fields.Str()
    surname = fields.Str()
    date_of_birth = fields.Date(allow_none=True)
    dob_is_expected = fields.Bool()
    date_of_death = fields.Date(allow_none=True)
    nhs_number = fields.Str(allow_none=True)
    restricted = fields.Bool()
    alerts = fields.Function(lambda p: PersonAlertSchema(many=True).dump(p.active_alerts))
