"""Shared fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL) at Alembic head,
a rolled-back transaction per test, and the Flask app bound to it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import casework.auth.passwords as passwords
from casework.app import create_app
from casework.config import Settings
from casework.db import make_engine, upgrade_to_head
from casework.extensions import database


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> None:
    # Real argon2, cheaper parameters: the suite creates many users.
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _worker_suffix(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return f"_{workerinput['workerid']}" if workerinput else ""


_CREATED_DATABASES: list[tuple[str, str]] = []  # (admin url, name) of PostgreSQL databases this process made


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL databases this run created (CI names them per run: they would pile up on the
    machine); CASEWORK_KEEP_TEST_DB=1 keeps them for a look after a failure."""
    if os.environ.get("CASEWORK_KEEP_TEST_DB"):
        return
    for admin_url, name in _CREATED_DATABASES:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # noqa: BLE001  (cleanup must not turn a green run red)
            print(f"could not drop test database {name}: {exc}")
        finally:
            admin.dispose()


def fresh_database_url(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory, label: str) -> str:
    """A new empty database: a temp SQLite file, or a freshly (re)created PostgreSQL database."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base:
        return "sqlite:///" + str(tmp_path_factory.mktemp(label or "db") / "casework.db")
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}{label and '_' + label}{_worker_suffix(config)}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _CREATED_DATABASES.append((url.set(database="postgres").render_as_string(hide_password=False), name))
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_database_url(request.config, tmp_path_factory, "")


@pytest.fixture(scope="session")
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(db_engine: Engine) -> Iterator[Connection]:
    conn = db_engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


@pytest.fixture
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    return Settings.from_env(
        {}, env="test", database_url=db_url, instance_dir=str(instance), secret_key="test-secret-key-" + "x" * 32
    )


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Flask:
    app = create_app(settings)
    database.bind_connection(connection)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, user) -> str:  # type: ignore[no-untyped-def]
    """Put a signed-in session for `user` on the client; returns its CSRF token."""
    now = int(time.time())
    token = f"csrf-{user.id}-{now}"
    with client.session_transaction() as sess:
        sess.update(uid=user.id, epoch=user.session_epoch, issued=now, seen=now, csrf=token)
    return token
