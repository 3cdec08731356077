"""Workspace fixtures: the app's engine on a fixed clock, a small published process, work items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from casework.engine_host import get_engine, operation_session
from engine.definitions import load_bundle
from engine.schema import work_item

HERE = Path(__file__).parent
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.value = NOW

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **kw: float) -> None:
        self.value += timedelta(**kw)


def publish_test_process(engine, connection) -> dict:  # type: ignore[no-untyped-def]
    bundle = load_bundle([HERE / "bpmn" / "contact.bpmn"], HERE / "forms")
    return engine.publish(connection, bundle, "tester")


def start_contact(engine, connection, *, case: str = "CASE-1", team: str | None = None,  # type: ignore[no-untyped-def]
                  assignee: str | None = None, due_at: datetime | None = None, data: dict | None = None) -> int:
    """Starts the test process; returns the id of its first work item (optionally given a team/assignee)."""
    result = engine.start(connection, "ws_contact", business_key=case,
                          data=data if data is not None else {"case_ref": case}, actor="starter")
    item_id = engine.work_items_for(connection, result.instance_id)[0]["id"]
    values: dict = {"team": team, "assignee": assignee}
    if due_at is not None:
        values["due_at"] = due_at
    connection.execute(update(work_item).where(work_item.c.id == item_id).values(**values))
    return item_id


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wf(app, clock, connection, session):  # type: ignore[no-untyped-def]
    """The app's engine; operations the test itself runs see `session` as the operation's session (as a
    request or the worker would provide), so the app's hooks work."""
    app.config["CLOCK"] = clock
    engine = get_engine(app)
    with operation_session(session):
        publish_test_process(engine, connection)
        yield engine


@pytest.fixture(autouse=True)
def _fresh_filter_options() -> None:
    """Work-list filter choices are cached for a minute per list; tests share one database URL."""
    from workspace import queries

    queries._options_cache.clear()
