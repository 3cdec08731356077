"""Engine hot path: the work-item list indexes hold open items only (partial on PostgreSQL); closed items keep
an index by team and completion time.

With 2 million closed and 200,000 open items the four list indexes were ~200 MB each and every completion
added entries to all of them; as partial indexes on ``status = 'open'`` they are ~20 MB and a completion
adds none. SQLite (embedded) gets the same columns without the predicate. The single-column instance_id index
goes: ix_work_item_task (instance_id, task_id) already serves it.

Revision ID: 0011_engine_hot_path
Revises: 0009_totp_encryption
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_engine_hot_path"
down_revision = "0009_totp_encryption"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")

# name: (columns before this revision, columns after it)
INDEXES = {
    "ix_work_item_inbox": (["assignee", "status", "due_at", "id"], ["assignee", "due_at", "id"]),
    "ix_work_item_team_queue": (["team", "status", "assignee", "due_at", "id"], ["team", "assignee", "due_at", "id"]),
    "ix_work_item_team_due": (["team", "status", "due_at", "id"], ["team", "due_at", "id"]),
    "ix_work_item_role_queue": (["role", "status", "due_at", "id"], ["role", "due_at", "id"]),
}


def upgrade() -> None:
    for name, (_before, after) in INDEXES.items():
        op.drop_index(name, table_name="work_item")
        op.create_index(name, "work_item", after, unique=False, postgresql_where=OPEN)
    op.create_index("ix_work_item_team_status", "work_item", ["team", "status", "completed_at"], unique=False)
    # ix_work_item_task (instance_id, task_id) serves every lookup by instance
    op.drop_index("ix_work_item_instance_id", table_name="work_item")


def downgrade() -> None:
    op.create_index("ix_work_item_instance_id", "work_item", ["instance_id"], unique=False)
    op.drop_index("ix_work_item_team_status", table_name="work_item")
    for name, (before, _after) in INDEXES.items():
        op.drop_index(name, table_name="work_item")
        op.create_index(name, "work_item", before, unique=False)
