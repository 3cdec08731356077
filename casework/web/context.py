"""Per-request database session and the current actor."""

from __future__ import annotations

from flask import g
from sqlalchemy.orm import Session

from casework.auth.access import Actor
from casework.errors import Unauthorized
from casework.extensions import database


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = database.new_session()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()  # anything the service did not commit is discarded
        session.close()


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("Sign in to continue")
    return actor


def optional_actor() -> Actor | None:
    return g.get("actor")
