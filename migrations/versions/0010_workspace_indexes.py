"""Workspace indexes: open cases by team and worker (the manager dashboard's caseloads, index-only).

At 1,000,000 people (~32,000 open allocated cases) the caseload count read every open case's heap row through
ix_case_record_team_id (~60 ms); with (status, team_id, worker_id) it is an index-only scan (~3 ms). The other
workspace pages needed no new index (docs/workspace.md, Speed).

Revision ID: 0010_workspace_indexes
Revises: 0011_engine_hot_path
"""
from alembic import op

revision = "0010_workspace_indexes"
down_revision = "0011_engine_hot_path"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_record_status_team_worker", "case_record", ["status", "team_id", "worker_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_record_status_team_worker", table_name="case_record")
