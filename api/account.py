"""The caller's own account and API tokens."""

from __future__ import annotations

from flask import request
from marshmallow import RAISE, Schema, fields, validate

from api import blueprint
from api.openapi import documented
from casework.auth.access import login_required
from casework.auth.tokens import create_token, list_tokens, revoke_token
from casework.web.context import current_actor, db_session


class MeSchema(Schema):
    id = fields.Int()
    username = fields.Str()
    display_name = fields.Str()
    roles = fields.List(fields.Str())
    team_ids = fields.List(fields.Int())
    permissions = fields.List(fields.Str())


class TokenCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    expires_in_days = fields.Int(load_default=90, allow_none=True, validate=validate.Range(min=1, max=366))


class TokenSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    prefix = fields.Str()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.Str(metadata={"description": "Shown once; store it safely"})


@blueprint.get("/me")
@login_required
@documented("Who am I", response=MeSchema)
def me():  # type: ignore[no-untyped-def]
    actor = current_actor()
    return MeSchema().dump({
        "id": actor.user_id, "username": actor.username, "display_name": actor.display_name,
        "roles": sorted(actor.roles), "team_ids": sorted(actor.team_ids),
        "permissions": sorted(p.value for p in actor.permissions),
    })


@blueprint.get("/tokens")
@login_required
@documented("List my API tokens", response=TokenSchema(many=True))
def tokens():  # type: ignore[no-untyped-def]
    session = db_session()
    user = _me(session)
    return {"items": TokenSchema(many=True).dump(list_tokens(session, user))}


@blueprint.post("/tokens")
@login_required
@documented("Create an API token (the secret is returned once)", body=TokenCreateSchema, response=NewTokenSchema,
            status=201)
def new_token():  # type: ignore[no-untyped-def]
    data = TokenCreateSchema().load(request.get_json(silent=False) or {})
    session = db_session()
    token, raw = create_token(session, _me(session), name=data["name"], expires_in_days=data["expires_in_days"])
    session.commit()
    body = NewTokenSchema().dump(token)
    body["token"] = raw
    return body, 201


@blueprint.delete("/tokens/<int:token_id>")
@login_required
@documented("Revoke one of my API tokens", response=TokenSchema)
def delete_token(token_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    token = revoke_token(session, _me(session), token_id)
    session.commit()
    return TokenSchema().dump(token)


def _me(session):  # type: ignore[no-untyped-def]
    from casework.accounts.models import User

    return session.get(User, current_actor().user_id)
