"""Worklist queries: they read only the indexed work_item table, never workflow state."""

from __future__ import annotations

from sqlalchemy import select

from engine.schema import process_instance, work_item

_COLS = (work_item, process_instance.c.version.label("instance_version"))
_JOIN = work_item.join(process_instance, process_instance.c.id == work_item.c.instance_id)


class WorklistQueries:
    def inbox(self, conn, assignee: str, *, limit: int = 50, offset: int = 0) -> list[dict]:
        """A user's open work, soonest due first (index ix_work_item_inbox)."""
        q = (select(*_COLS).select_from(_JOIN)
             .where(work_item.c.assignee == assignee, work_item.c.status == "open")
             .order_by(work_item.c.due_at, work_item.c.id).limit(limit).offset(offset))
        return [dict(r) for r in conn.execute(q).mappings()]

    def team_queue(self, conn, team: str, *, unassigned_only: bool = False, limit: int = 50,
                   offset: int = 0) -> list[dict]:
        """A team's open work (index ix_work_item_team_queue)."""
        q = select(*_COLS).select_from(_JOIN).where(work_item.c.team == team, work_item.c.status == "open")
        if unassigned_only:
            q = q.where(work_item.c.assignee.is_(None))
        q = q.order_by(work_item.c.due_at, work_item.c.id).limit(limit).offset(offset)
        return [dict(r) for r in conn.execute(q).mappings()]

    def role_queue(self, conn, role: str, *, limit: int = 50, offset: int = 0) -> list[dict]:
        q = (select(*_COLS).select_from(_JOIN).where(work_item.c.role == role, work_item.c.status == "open")
             .order_by(work_item.c.due_at, work_item.c.id).limit(limit).offset(offset))
        return [dict(r) for r in conn.execute(q).mappings()]

    def work_item(self, conn, work_item_id: int) -> dict | None:
        row = conn.execute(select(*_COLS).select_from(_JOIN).where(work_item.c.id == work_item_id)
                           ).mappings().first()
        return dict(row) if row is not None else None

    def work_items_for(self, conn, instance_id: int, *, status: str | None = "open") -> list[dict]:
        q = select(work_item).where(work_item.c.instance_id == instance_id)
        if status is not None:
            q = q.where(work_item.c.status == status)
        return [dict(r) for r in conn.execute(q.order_by(work_item.c.id)).mappings()]
