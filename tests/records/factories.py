"""Keyword-only factories for case-record tests."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from casework.auth.access import Actor
from casework.records.models_person import Person
from casework.records.service_person import create_person as _create_person
from tests.factories import create_user

_seq = itertools.count(1)


def actor_for(user) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.from_user(user)


def practitioner(session: Session, **kw: Any) -> Actor:
    return actor_for(create_user(session, roles=["practitioner"], **kw))


def create_person(session: Session, actor: Actor, *, forename: str | None = None, surname: str | None = None,
                  date_of_birth: date | None = date(2015, 3, 14), **kw: Any) -> Person:
    n = next(_seq)
    data = {"forename": forename or f"Alex{n}", "surname": surname or f"Testperson{n}",
            "date_of_birth": date_of_birth, **kw}
    return _create_person(session, actor, data, confirm_not_duplicate=True)
