"""Work lists sorted by age read an index; provider references are unique whatever their case.

* ``ix_work_item_created (created_at, id)``, partial on ``status = 'open'`` on PostgreSQL like the other list
  indexes (plain on SQLite): "Waiting longest" reads it forwards and "Newest" backwards, filtering by team or
  assignee, and stops at the page's last row. At 100,000 open items a manager's whole-team queue (three teams,
  ``team IN (...)``) sorted every open row of the teams instead (~120 ms); a team-leading index cannot return
  rows of several teams in creation order.
* ``finance_provider.reference``: the service treats 'ABC1' and 'abc1' as the same reference, so the database
  does too: a unique index on ``lower(reference)`` (it also serves the service's case-insensitive look-ups).
  Existing rows that differ only in case stop the upgrade with an integrity error: rename one of them first.
  The plain unique constraint stays (a few hundred rows; dropping it on SQLite means rebuilding the table,
  which foreign keys from agreements refuse inside the migration's transaction). SQLite (embedded) enforces
  the rule with two triggers instead of the index: SQLAlchemy cannot reflect an expression index there, so the
  model comparison (tests/test_migrations.py, warnings as errors) would fail on it; triggers are invisible to
  it, and SQLite has one writer at a time, so the check before the write cannot race.

Revision ID: 0013_work_item_sort_indexes
Revises: 0012_document_type
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_work_item_sort_indexes"
down_revision = "0012_document_type"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
PROVIDER_REFERENCE = "uq_finance_provider_reference_lower"


def upgrade() -> None:
    op.create_index("ix_work_item_created", "work_item", ["created_at", "id"], unique=False,
                    postgresql_where=OPEN)
    if op.get_bind().dialect.name == "sqlite":
        for sql in _sqlite_triggers().values():
            op.execute(sql)
    else:
        op.create_index(PROVIDER_REFERENCE, "finance_provider", [sa.text("lower(reference)")], unique=True)


def _sqlite_triggers() -> dict[str, str]:
    clash = ("WHEN EXISTS (SELECT 1 FROM finance_provider p WHERE lower(p.reference) = lower(NEW.reference)"
             "{other}) BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: lower(finance_provider.reference)'); END")
    return {
        f"{PROVIDER_REFERENCE}_insert": f"CREATE TRIGGER {PROVIDER_REFERENCE}_insert BEFORE INSERT ON "
                                        f"finance_provider FOR EACH ROW " + clash.format(other=""),
        f"{PROVIDER_REFERENCE}_update": f"CREATE TRIGGER {PROVIDER_REFERENCE}_update BEFORE UPDATE OF reference ON "
                                        f"finance_provider FOR EACH ROW " + clash.format(other=" AND p.id <> NEW.id"),
    }


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _sqlite_triggers():
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.drop_index(PROVIDER_REFERENCE, table_name="finance_provider")
    op.drop_index("ix_work_item_created", table_name="work_item")
