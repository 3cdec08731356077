"""Worklist queries: they read only the indexed work_item table, never workflow state.

The 50 rows are picked from ``work_item`` alone (index order or a top-N sort of one team's open items);
only those rows are then joined to their instance for its version (``expected_version`` for completion)."""

from __future__ import annotations

from sqlalchemy import select

from engine.schema import process_instance, work_item


def _page(conn, where, limit: int, offset: int) -> list[dict]:
    picked = (select(work_item).where(*where).order_by(work_item.c.due_at, work_item.c.id)
              .limit(limit).offset(offset).subquery("w"))
    q = (select(picked, process_instance.c.version.label("instance_version"))
         .join(process_instance, process_instance.c.id == picked.c.instance_id)
         .order_by(picked.c.due_at, picked.c.id))
    return [dict(r) for r in conn.execute(q).mappings()]


class WorklistQueries:
    def inbox(self, conn, assignee: str, *, limit: int = 50, offset: int = 0) -> list[dict]:
        """A user's open work, soonest due first (index ix_work_item_inbox)."""
        return _page(conn, [work_item.c.assignee == assignee, work_item.c.status == "open"], limit, offset)

    def team_queue(self, conn, team: str, *, unassigned_only: bool = False, limit: int = 50,
                   offset: int = 0) -> list[dict]:
        """A team's open work (index ix_work_item_team_queue)."""
        where = [work_item.c.team == team, work_item.c.status == "open"]
        if unassigned_only:
            where.append(work_item.c.assignee.is_(None))
        return _page(conn, where, limit, offset)

    def role_queue(self, conn, role: str, *, limit: int = 50, offset: int = 0) -> list[dict]:
        return _page(conn, [work_item.c.role == role, work_item.c.status == "open"], limit, offset)

    def work_item(self, conn, work_item_id: int) -> dict | None:
        rows = _page(conn, [work_item.c.id == work_item_id], 1, 0)
        return rows[0] if rows else None

    def work_items_for(self, conn, instance_id: int, *, status: str | None = "open") -> list[dict]:
        q = select(work_item).where(work_item.c.instance_id == instance_id)
        if status is not None:
            q = q.where(work_item.c.status == status)
        return [dict(r) for r in conn.execute(q.order_by(work_item.c.id)).mappings()]
