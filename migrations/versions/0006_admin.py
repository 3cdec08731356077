"""configurator workshop: process drafts, change log, regression scenarios, council settings

Revision ID: 0006_admin
Revises: 0005_security
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_admin"
down_revision = "0005_security"
branch_labels = None
depends_on = None


def _ts(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("files_json", sa.Text(), nullable=False),
        sa.Column("based_on_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        _ts("updated_at", nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=True),
        _ts("submitted_at"),
        sa.Column("approved_by", sa.String(200), nullable=True),
        _ts("approved_at"),
        sa.Column("approved_hash", sa.String(64), nullable=True),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_process_draft"),
    )
    op.create_index("ix_process_draft_process_key", "process_draft", ["process_key"])
    op.create_index("ix_process_draft_status", "process_draft", ["status", "process_key"])
    op.create_table(
        "process_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("definition_version", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        _ts("at", nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["draft_id"], ["process_draft.id"],
                                name="fk_process_change_draft_id_process_draft"),
        sa.PrimaryKeyConstraint("id", name="pk_process_change"),
    )
    op.create_index("ix_process_change_draft_id", "process_change", ["draft_id"])
    op.create_index("ix_process_change_key_at", "process_change", ["process_key", "at"])
    op.create_table(
        "process_scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("steps_json", sa.Text(), nullable=False),
        sa.Column("start_data_json", sa.Text(), nullable=False),
        sa.Column("expected_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_process_scenario"),
    )
    op.create_index("ix_process_scenario_process_key", "process_scenario", ["process_key"])
    op.create_table(
        "council_setting",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_council_setting"),
    )


def downgrade():
    op.drop_table("council_setting")
    op.drop_index("ix_process_scenario_process_key", table_name="process_scenario")
    op.drop_table("process_scenario")
    op.drop_index("ix_process_change_key_at", table_name="process_change")
    op.drop_index("ix_process_change_draft_id", table_name="process_change")
    op.drop_table("process_change")
    op.drop_index("ix_process_draft_status", table_name="process_draft")
    op.drop_index("ix_process_draft_process_key", table_name="process_draft")
    op.drop_table("process_draft")
