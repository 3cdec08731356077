"""Alembic environment: runs on the connection casework hands over (or on sqlalchemy.url)."""

from alembic import context

from casework.db import make_engine
from casework.model_registry import all_metadata

config = context.config
target_metadata = all_metadata()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
