"""Worklist queries: they read only the indexed work_item table, never workflow state.

The 50 rows are picked from ``work_item`` alone (index order or a top-N sort of one team's open items);
only those rows are then joined to their instance for its version (``expected_version`` for completion)."""

from __future__ import annotations

from sqlalchemy import bindparam, literal_column, select

from engine.hotsql import Hot
from engine.schema import process_instance, work_item

# ``status = 'open'`` with the value in the SQL text: it matches the partial list indexes (engine.schema)
# even in a cached generic plan of a prepared statement.
OPEN = work_item.c.status == literal_column("'open'")


def _listing(*where) -> Hot:
    """One page of open work: picked from ``work_item`` alone, then joined to the instances for ``version``.
    Built once; the key, limit and offset are bound per call (a prepared statement on PostgreSQL)."""
    picked = (select(work_item).where(*where).order_by(work_item.c.due_at, work_item.c.id)
              .limit(bindparam("limit")).offset(bindparam("offset")).subquery("w"))
    return Hot(select(picked, process_instance.c.version.label("instance_version"))
               .join(process_instance, process_instance.c.id == picked.c.instance_id)
               .order_by(picked.c.due_at, picked.c.id))


_INBOX = _listing(work_item.c.assignee == bindparam("key"), OPEN)
_TEAM = _listing(work_item.c.team == bindparam("key"), OPEN)
_TEAM_UNASSIGNED = _listing(work_item.c.team == bindparam("key"), OPEN, work_item.c.assignee.is_(None))
_ROLE = _listing(work_item.c.role == bindparam("key"), OPEN)
_ONE = _listing(work_item.c.id == bindparam("key"))


def _page(conn, query: Hot, key, limit: int, offset: int) -> list[dict]:
    return query.all(conn, {"key": key, "limit": limit, "offset": offset})


class WorklistQueries:
    def inbox(self, conn, assignee: str, *, limit: int = 50, offset: int = 0) -> list[dict]:
        """A user's open work, soonest due first (index ix_work_item_inbox)."""
        return _page(conn, _INBOX, assignee, limit, offset)

    def team_queue(self, conn, team: str, *, unassigned_only: bool = False, limit: int = 50,
                   offset: int = 0) -> list[dict]:
        """A team's open work (index ix_work_item_team_queue)."""
        return _page(conn, _TEAM_UNASSIGNED if unassigned_only else _TEAM, team, limit, offset)

    def role_queue(self, conn, role: str, *, limit: int = 50, offset: int = 0) -> list[dict]:
        return _page(conn, _ROLE, role, limit, offset)

    def work_item(self, conn, work_item_id: int) -> dict | None:
        rows = _page(conn, _ONE, work_item_id, 1, 0)
        return rows[0] if rows else None

    def work_items_for(self, conn, instance_id: int, *, status: str | None = "open") -> list[dict]:
        q = select(work_item).where(work_item.c.instance_id == instance_id)
        if status is not None:
            q = q.where(work_item.c.status == status)
        return [dict(r) for r in conn.execute(q.order_by(work_item.c.id)).mappings()]
