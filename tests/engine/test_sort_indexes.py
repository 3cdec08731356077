"""The work lists' "Waiting longest" and "Newest" sorts read ix_work_item_created in order (forwards, backwards)
for any set of teams, instead of sorting every open row of the teams; partial (open items) on PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from engine.calendar import WorkingDayCalendar
from engine.schema import work_item
from workspace.queries import SORTS, Filters, team_queue

TEAMS = ["mash", "cin-east", "cp-east"]


def _plan(connection, sort: str, where) -> str:
    query = (select(work_item.c.id, work_item.c.title).where(work_item.c.status == "open", *where)
             .order_by(*SORTS[sort]).limit(25))
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        # an empty test table: forbid the alternatives (read everything, then sort) so the plan shows whether
        # the index can deliver this order at all
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_sort = off"))
        connection.execute(text("SET LOCAL enable_incremental_sort = off"))
        return "\n".join(str(r[0]) for r in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    # SQLite (embedded, small) picks the team index by its own rules without statistics: check that the index
    # delivers the sort's exact order when named, so the order by and the index agree
    sql = sql.replace("FROM work_item", "FROM work_item INDEXED BY ix_work_item_created", 1)
    return "\n".join(str(r[3]) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


@pytest.mark.parametrize("teams", [TEAMS, TEAMS[:1]], ids=["several teams", "one team"])
@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_age_sorts_of_a_team_queue_read_the_index_in_order(connection, sort, teams):
    plan = _plan(connection, sort, [work_item.c.team.in_(teams)])
    assert "ix_work_item_created" in plan, plan
    if connection.dialect.name == "postgresql":
        assert "Sort" not in plan, plan
        assert ("Index Scan Backward" in plan) == (sort == "newest"), plan
    else:
        assert "TEMP B-TREE" not in plan, plan


def test_unassigned_queue_sorted_by_age_needs_no_sort(connection):
    plan = _plan(connection, "oldest", [work_item.c.team.in_(TEAMS), work_item.c.assignee.is_(None)])
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_the_index_holds_open_items_only_on_postgresql(connection):
    if connection.dialect.name == "postgresql":
        definition = connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_work_item_created'"
                                             )).scalar_one()
        assert "(created_at, id)" in definition and "WHERE ((status)::text = 'open'::text)" in definition
    else:
        sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_work_item_created'")).scalar_one()
        assert "(created_at, id)" in sql and "WHERE" not in sql


def test_a_managers_whole_queue_by_age_across_teams(wf_engine, connection, publish):
    publish("approval.bpmn")
    instance = wf_engine.start(connection, "approval", "age-case", {}, "ann").instance_id
    now = wf_engine.now()
    rows = [{"instance_id": instance, "business_key": "age-case", "task_id": f"age{i}", "task_spec": "x",
             "title": f"age {i}", "team": TEAMS[i % 3], "assignee": "ann" if i % 2 else None, "status": "open",
             "priority": 0, "created_at": now - timedelta(hours=i % 4, minutes=i)} for i in range(12)]
    rows.append({**rows[0], "task_id": "closed", "title": "closed", "status": "completed",
                 "created_at": now - timedelta(days=30)})
    connection.execute(insert(work_item), rows)
    expected = sorted((r for r in rows if r["status"] == "open"), key=lambda r: r["created_at"])

    def titles(sort: str) -> list[str]:
        page = team_queue(connection, TEAMS, Filters(sort=sort), now=now, calendar=WorkingDayCalendar(),
                          include_assigned=True)
        return [item["title"] for item in page.items if item["business_key"] == "age-case"]

    assert titles("oldest") == [r["title"] for r in expected]
    assert titles("newest") == [r["title"] for r in reversed(expected)]
