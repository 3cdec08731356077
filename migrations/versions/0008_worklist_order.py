"""Work-item list indexes end with (due_at, id), the order every list uses.

Revision ID: 0008_worklist_order
Revises: 0007_workspace
"""
from alembic import op

revision = "0008_worklist_order"
down_revision = "0007_workspace"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_work_item_inbox": ["assignee", "status", "due_at"],
    "ix_work_item_team_queue": ["team", "status", "assignee", "due_at"],
    "ix_work_item_team_due": ["team", "status", "due_at"],
    "ix_work_item_role_queue": ["role", "status", "due_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="work_item")
        op.create_index(name, "work_item", [*columns, "id"], unique=False)


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="work_item")
        op.create_index(name, "work_item", columns, unique=False)
