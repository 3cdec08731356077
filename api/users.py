"""User administration (administrators only)."""

from __future__ import annotations

from flask import request
from marshmallow import RAISE, Schema, fields, validate

from api import blueprint
from api.openapi import documented
from casework.accounts.service import create_user, disable_user, list_users
from casework.auth.access import requires
from casework.auth.permissions import Permission, Role
from casework.web.context import db_session


class UserSchema(Schema):
    id = fields.Int()
    username = fields.Str()
    display_name = fields.Str()
    email = fields.Str(allow_none=True)
    active = fields.Bool()
    roles = fields.Function(lambda u: sorted(u.role_codes))
    team_ids = fields.Function(lambda u: sorted(u.team_ids))
    last_login_at = fields.DateTime(allow_none=True)


class UserCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    username = fields.Str(required=True)
    display_name = fields.Str(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    password = fields.Str(required=True, load_only=True)
    roles = fields.List(fields.Str(validate=validate.OneOf([r.value for r in Role])), load_default=list)
    teams = fields.List(fields.Str(), load_default=list)
    manages = fields.List(fields.Str(), load_default=list)


@blueprint.get("/users")
@requires(Permission.USERS_MANAGE)
@documented("List users", response=UserSchema(many=True))
def users():  # type: ignore[no-untyped-def]
    return {"items": UserSchema(many=True).dump(list_users(db_session()))}


@blueprint.post("/users")
@requires(Permission.USERS_MANAGE)
@documented("Create a user", body=UserCreateSchema, response=UserSchema, status=201)
def add_user():  # type: ignore[no-untyped-def]
    data = UserCreateSchema().load(request.get_json(silent=False) or {})
    session = db_session()
    user = create_user(session, **data)
    session.commit()
    return UserSchema().dump(user), 201


@blueprint.post("/users/<username>/disable")
@requires(Permission.USERS_MANAGE)
@documented("Disable a user and end their sessions", response=UserSchema)
def disable(username: str):  # type: ignore[no-untyped-def]
    session = db_session()
    user = disable_user(session, username)
    session.commit()
    return UserSchema().dump(user)
