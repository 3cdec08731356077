"""An empty database upgraded to head matches the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casework.db import current_revision, make_engine, upgrade_to_head
from casework.model_registry import all_metadata
from tests.conftest import fresh_database_url


@pytest.fixture(scope="module")
def migrated_engine(request, tmp_path_factory):
    engine = make_engine(fresh_database_url(request.config, tmp_path_factory, "mig"))
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def test_upgrade_reaches_head(migrated_engine):
    current, head = current_revision(migrated_engine)
    assert current == head is not None


def test_migrations_match_models(migrated_engine):
    with migrated_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, all_metadata())
    assert diff == []


def test_upgrade_is_idempotent(migrated_engine):
    upgrade_to_head(migrated_engine)
    current, head = current_revision(migrated_engine)
    assert current == head
