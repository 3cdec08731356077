"""workspace: drafts of task answers

Revision ID: 0007_workspace
Revises: 0006_admin
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_workspace"
down_revision = "0006_admin"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("resume_key", sa.String(64), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("instance_version", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE",
                                name="fk_task_draft_user_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_task_draft"),
        sa.UniqueConstraint("work_item_id", "user_id", name="uq_task_draft_work_item_id"),
        sa.UniqueConstraint("resume_key", name="uq_task_draft_resume_key"),
    )
    op.create_index("ix_task_draft_user_id", "task_draft", ["user_id"])


def downgrade():
    op.drop_index("ix_task_draft_user_id", table_name="task_draft")
    op.drop_table("task_draft")
