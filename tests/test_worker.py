"""The timer worker fires due statutory timers in its own transactions, with the app's hooks working
(the escalation lands in the case team's queue, and on the chronology)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from casework.app import create_app
from casework.config import Settings
from casework.db import upgrade_to_head
from casework.demo import run_demo
from casework.engine_host import publish_directory
from casework.extensions import database
from casework.worker import run_once
from engine.schema import timer, work_item
from tests.conftest import fresh_database_url


class MovableClock:
    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now


def test_worker_fires_due_timers_once_with_hooks(request, tmp_path_factory, tmp_path):
    settings = Settings.from_env({}, env="test", instance_dir=str(tmp_path), secret_key="k" * 40,
                                 database_url=fresh_database_url(request.config, tmp_path_factory, "worker"))
    app = create_app(settings)
    clock = MovableClock()
    app.config["CLOCK"] = clock
    upgrade_to_head(database.engine)
    with app.app_context(), database.session_scope() as session:
        publish_directory(session, settings, actor="test")
        run_demo(session, people=20, echo=lambda _: None)

    assert run_once(app) == 0  # nothing due yet
    with database.engine.connect() as conn:
        waiting = conn.execute(select(timer.c.due_at).where(timer.c.status == "waiting")).scalars().all()
        before = set(conn.execute(select(work_item.c.id)).scalars())
    assert waiting
    clock.now = max(waiting).replace(tzinfo=UTC) + timedelta(minutes=1)

    fired = run_once(app)
    assert fired >= 1  # (a firing may also settle a sibling timer of the same instance)
    assert run_once(app) == 0  # each fired exactly once
    with database.engine.connect() as conn:
        assert not conn.execute(select(timer.c.id).where(timer.c.status == "waiting",
                                                         timer.c.due_at <= clock.now)).all()
        new_items = conn.execute(select(work_item.c.task_spec, work_item.c.team)
                                 .where(work_item.c.id.not_in(before))).all()
    escalations = [row for row in new_items if row.task_spec.startswith("review_overdue")]
    assert escalations and all(row.team for row in escalations)
    database.engine.dispose()
