"""engine tables: definitions, instances, work items, timers, messages, incidents, history

Revision ID: 0002_engine
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_engine"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "process_definition",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("dmn_xml", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("forms_json", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(20), nullable=False, server_default="published"),
        sa.Column("published_by", sa.String(200)),
        _ts("published_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_process_definition"),
        sa.UniqueConstraint("process_key", "version", name="uq_process_definition_key_version"),
    )
    op.create_index("ix_process_definition_content_hash", "process_definition", ["content_hash"])

    op.create_table(
        "spec_cache",
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name="pk_spec_cache"),
    )

    op.create_table(
        "process_instance",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("definition_id", PK, nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("business_key", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("parent_instance_id", PK),
        _ts("started_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("ended_at"),
        sa.Column("started_by", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_process_instance"),
        sa.ForeignKeyConstraint(["definition_id"], ["process_definition.id"],
                                name="fk_process_instance_definition_id_process_definition"),
    )
    op.create_index("ix_process_instance_definition_id", "process_instance", ["definition_id"])
    op.create_index("ix_process_instance_business_key", "process_instance", ["business_key"])

    op.create_table(
        "work_item",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("instance_id", PK, nullable=False),
        sa.Column("business_key", sa.String(200)),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("task_spec", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("form", sa.String(200)),
        sa.Column("lane", sa.String(200)),
        sa.Column("role", sa.String(200)),
        sa.Column("team", sa.String(200)),
        sa.Column("assignee", sa.String(200)),
        sa.Column("candidates", sa.Text()),
        sa.Column("delegated_by", sa.String(200)),
        _ts("due_at"),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(20), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("completed_by", sa.String(200)),
        _ts("completed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_work_item"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name="fk_work_item_instance_id_process_instance"),
    )
    op.create_index("ix_work_item_instance_id", "work_item", ["instance_id"])
    op.create_index("ix_work_item_business_key", "work_item", ["business_key"])
    op.create_index("ix_work_item_inbox", "work_item", ["assignee", "status", "due_at"])
    op.create_index("ix_work_item_team_queue", "work_item", ["team", "status", "assignee", "due_at"])
    op.create_index("ix_work_item_team_due", "work_item", ["team", "status", "due_at"])
    op.create_index("ix_work_item_role_queue", "work_item", ["role", "status", "due_at"])
    op.create_index("ix_work_item_task", "work_item", ["instance_id", "task_id"])

    op.create_table(
        "timer",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("instance_id", PK, nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("task_spec", sa.String(200), nullable=False),
        _ts("due_at", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        _ts("claimed_at"),
        _ts("fired_at"),
        sa.Column("late_ms", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_timer"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name="fk_timer_instance_id_process_instance"),
    )
    op.create_index("ix_timer_instance_id", "timer", ["instance_id"])
    op.create_index("ix_timer_status_due", "timer", ["status", "due_at"])

    op.create_table(
        "message_subscription",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("instance_id", PK, nullable=True),
        sa.Column("definition_id", PK, nullable=True),
        sa.Column("message_name", sa.String(200), nullable=False),
        sa.Column("correlation_key", sa.String(300), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="catch"),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_subscription"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name="fk_message_subscription_instance_id_process_instance"),
        sa.ForeignKeyConstraint(["definition_id"], ["process_definition.id"],
                                name="fk_message_subscription_definition_id_process_definition"),
        sa.UniqueConstraint("message_name", "correlation_key", "instance_id", "task_id",
                            name="uq_message_subscription_name_key_instance_task"),
    )
    op.create_index("ix_message_subscription_instance_id", "message_subscription", ["instance_id"])
    op.create_index("ix_message_subscription_lookup", "message_subscription",
                    ["message_name", "correlation_key"])

    op.create_table(
        "pending_message",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("message_name", sa.String(200), nullable=False),
        sa.Column("correlation_key", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _ts("received_at", nullable=False),
        _ts("delivered_at"),
        sa.Column("delivered_to", PK),
        sa.PrimaryKeyConstraint("id", name="pk_pending_message"),
    )
    op.create_index("ix_pending_message_lookup", "pending_message",
                    ["message_name", "correlation_key", "status"])

    op.create_table(
        "incident",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("instance_id", PK, nullable=False),
        sa.Column("task_id", sa.String(36)),
        sa.Column("task_spec", sa.String(200)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("auto_retry", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("next_retry_at"),
        _ts("created_at", nullable=False),
        _ts("resolved_at"),
        sa.Column("resolved_by", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_incident"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name="fk_incident_instance_id_process_instance"),
    )
    op.create_index("ix_incident_instance_id", "incident", ["instance_id"])
    op.create_index("ix_incident_status_retry", "incident", ["status", "next_retry_at"])

    op.create_table(
        "history_event",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("instance_id", PK, nullable=False),
        sa.Column("business_key", sa.String(200)),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("task_id", sa.String(36)),
        sa.Column("task_spec", sa.String(200)),
        sa.Column("task_title", sa.String(300)),
        sa.Column("actor", sa.String(200)),
        _ts("at", nullable=False),
        sa.Column("data", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_history_event"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name="fk_history_event_instance_id_process_instance"),
    )
    op.create_index("ix_history_event_instance", "history_event", ["instance_id", "id"])
    op.create_index("ix_history_event_business_key", "history_event", ["business_key", "at"])


def downgrade():
    for name in ("history_event", "incident", "pending_message", "message_subscription", "timer",
                 "work_item", "process_instance", "spec_cache", "process_definition"):
        op.drop_table(name)
