"""Documents get a type (codes.DOCUMENT_TYPES: assessment report, court report, consent form, letter, ...).

Nullable: documents uploaded before this revision have no type (shown as "Not recorded"); the API and the
workspace require one for every new upload. Indexed for the person's document list filtered by type.

Revision ID: 0012_document_type
Revises: 0010_workspace_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_document_type"
down_revision = "0010_workspace_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("document_type", sa.String(length=40), nullable=True))
        batch.create_index("ix_document_document_type", ["document_type"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_index("ix_document_document_type")
        batch.drop_column("document_type")
