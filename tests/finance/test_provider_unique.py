"""A provider reference is unique whatever its case, in the database as in the service: 'ABC1' and 'abc1' are
one supplier. PostgreSQL: unique index on lower(reference); SQLite: the migration's triggers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from casework.finance import providers
from casework.finance.models import Provider
from tests.conftest import sign_in
from tests.factories import create_user
from tests.finance.factories import create_provider


def _refused(session, change) -> None:
    nested = session.begin_nested()
    with pytest.raises(IntegrityError):
        change()
        session.flush()
    nested.rollback()


def test_a_reference_differing_only_in_case_is_refused_by_the_database(session):
    create_provider(session, reference="ABC1")
    _refused(session, lambda: session.add(Provider(name="Other", reference="abc1")))
    assert session.scalar(select(func.count()).select_from(Provider)
                          .where(func.lower(Provider.reference) == "abc1")) == 1
    create_provider(session, reference="ABC2")  # another reference is still fine


def test_changing_a_reference_to_another_providers_in_other_case_is_refused(session):
    create_provider(session, reference="XYZ9")
    second = create_provider(session, reference="QRS7")
    second_id = second.id
    _refused(session, lambda: setattr(second, "reference", "xyz9"))
    session.expire_all()
    again = session.get(Provider, second_id)
    assert again.reference == "QRS7"
    again.reference = "qrs7"  # its own reference in another case: not a clash
    session.flush()
    assert session.get(Provider, second_id).reference == "qrs7"


def test_two_people_adding_the_same_reference_at_once_get_a_409(app, client, session, monkeypatch):
    """The service's check saw no clash (the other person's provider was not yet committed when it looked):
    the database refuses the second at commit, the API answers 409 and nothing of it is saved."""
    app.config["CLOCK"] = lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    headers = {"X-CSRF-Token": sign_in(client, create_user(session, roles=["finance_officer"]))}
    create_provider(session, reference="RACE-1")
    monkeypatch.setattr(providers, "_check_reference_free", lambda *args, **kwargs: None)
    response = client.post("/api/finance/providers", headers=headers, json={
        "name": "Second Home Care", "reference": "race-1", "bank_details_reference": "FIN-BANK-9"})
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "conflict"
    assert session.scalar(select(func.count()).select_from(Provider)
                          .where(func.lower(Provider.reference) == "race-1")) == 1
