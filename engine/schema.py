"""Engine tables (SQLAlchemy Core). Workflow state is TEXT (JSON with key order kept), never jsonb."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Predicate of the partial work-item list indexes (PostgreSQL).
OPEN_ITEMS = text("status = 'open'")

# BigInteger primary keys that still autoincrement on SQLite.
PK = BigInteger().with_variant(Integer, "sqlite")


def _ts(name: str, nullable: bool = True) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


process_definition = Table(
    "process_definition",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("process_key", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("name", String(300)),
    Column("bpmn_xml", Text, nullable=False),  # JSON object {filename: xml}
    Column("dmn_xml", Text, nullable=False, server_default="{}"),  # JSON object {filename: xml}
    Column("forms_json", Text, nullable=False, server_default="{}"),  # JSON object {form name: schema}
    Column("status", String(20), nullable=False, server_default="published"),
    Column("published_by", String(200)),
    _ts("published_at", nullable=False),
    UniqueConstraint("process_key", "version", name="uq_process_definition_key_version"),
)

# Serialized SpiffWorkflow specs (top spec + subprocess specs), stored once per content hash.
spec_cache = Table(
    "spec_cache",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("process_key", String(200), nullable=False),
    Column("spec_json", Text, nullable=False),
    _ts("created_at", nullable=False),
)

process_instance = Table(
    "process_instance",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("definition_id", PK, ForeignKey("process_definition.id"), nullable=False, index=True),
    Column("process_key", String(200), nullable=False),
    Column("business_key", String(200), index=True),
    Column("status", String(20), nullable=False),
    Column("state", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("parent_instance_id", PK),
    _ts("started_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("ended_at"),
    Column("started_by", String(200)),
)

work_item = Table(
    "work_item",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    # indexed by ix_work_item_task (instance_id, task_id): a separate instance_id index would only cost writes
    Column("instance_id", PK, ForeignKey("process_instance.id"), nullable=False),
    Column("business_key", String(200), index=True),
    Column("task_id", String(36), nullable=False),
    Column("task_spec", String(200), nullable=False),
    Column("title", String(300), nullable=False),
    Column("form", String(200)),
    Column("lane", String(200)),
    Column("role", String(200)),
    Column("team", String(200)),
    Column("assignee", String(200)),
    Column("candidates", Text),  # JSON list of user ids
    Column("delegated_by", String(200)),
    _ts("due_at"),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("status", String(20), nullable=False),
    _ts("created_at", nullable=False),
    Column("completed_by", String(200)),
    _ts("completed_at"),
    # Lists sort by (due_at, id): ending each index with both lets PostgreSQL read the first page straight
    # from the index instead of sorting every open row of a busy team. On PostgreSQL the list indexes are
    # partial (open items only): a tenth of the size with millions of closed items, and closing an item adds
    # no entries to them. Queries match them with ``status = 'open'`` written as a literal (engine.worklist
    # OPEN), so a cached generic plan can use them too. SQLite gets the same columns without the predicate.
    Index("ix_work_item_inbox", "assignee", "due_at", "id", postgresql_where=OPEN_ITEMS),
    Index("ix_work_item_team_queue", "team", "assignee", "due_at", "id", postgresql_where=OPEN_ITEMS),
    Index("ix_work_item_team_due", "team", "due_at", "id", postgresql_where=OPEN_ITEMS),  # whole team queue
    Index("ix_work_item_role_queue", "role", "due_at", "id", postgresql_where=OPEN_ITEMS),
    # "Waiting longest" / "Newest" (forwards / backwards): read in creation order, filtered by team or assignee,
    # until a page is found, whichever teams are asked for (a manager's several teams in one IN list, which a
    # team-leading index cannot return in order); a narrow filter still gets its own index and a small sort.
    Index("ix_work_item_created", "created_at", "id", postgresql_where=OPEN_ITEMS),
    # closed items by team and completion time (e.g. timeliness reports): the list indexes no longer hold them
    Index("ix_work_item_team_status", "team", "status", "completed_at"),
    Index("ix_work_item_task", "instance_id", "task_id"),
)

timer = Table(
    "timer",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("instance_id", PK, ForeignKey("process_instance.id"), nullable=False, index=True),
    Column("task_id", String(36), nullable=False),
    Column("task_spec", String(200), nullable=False),
    _ts("due_at", nullable=False),
    Column("status", String(20), nullable=False),  # waiting, fired, cancelled
    Column("claimed_by", String(200)),
    _ts("claimed_at"),
    _ts("fired_at"),
    Column("late_ms", BigInteger),
    Index("ix_timer_status_due", "status", "due_at"),
)

message_subscription = Table(
    "message_subscription",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("instance_id", PK, ForeignKey("process_instance.id"), nullable=True, index=True),
    Column("definition_id", PK, ForeignKey("process_definition.id"), nullable=True),
    Column("message_name", String(200), nullable=False),
    Column("correlation_key", String(300), nullable=False),
    Column("task_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False, server_default="catch"),  # catch | start
    _ts("created_at", nullable=False),
    Index("ix_message_subscription_lookup", "message_name", "correlation_key"),
    UniqueConstraint("message_name", "correlation_key", "instance_id", "task_id",
                     name="uq_message_subscription_name_key_instance_task"),
)

pending_message = Table(
    "pending_message",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("message_name", String(200), nullable=False),
    Column("correlation_key", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending, delivered
    _ts("received_at", nullable=False),
    _ts("delivered_at"),
    Column("delivered_to", PK),
    Index("ix_pending_message_lookup", "message_name", "correlation_key", "status"),
)

incident = Table(
    "incident",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("instance_id", PK, ForeignKey("process_instance.id"), nullable=False, index=True),
    Column("task_id", String(36)),
    Column("task_spec", String(200)),
    Column("kind", String(40), nullable=False),  # script, connector, engine
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("status", String(20), nullable=False),  # open, resolved, skipped
    Column("auto_retry", Boolean, nullable=False, server_default=false()),
    _ts("next_retry_at"),
    _ts("created_at", nullable=False),
    _ts("resolved_at"),
    Column("resolved_by", String(200)),
    Index("ix_incident_status_retry", "status", "next_retry_at"),
)

history_event = Table(
    "history_event",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("instance_id", PK, ForeignKey("process_instance.id"), nullable=False),
    Column("business_key", String(200)),
    Column("event_type", String(40), nullable=False),
    Column("task_id", String(36)),
    Column("task_spec", String(200)),
    Column("task_title", String(300)),
    Column("actor", String(200)),
    _ts("at", nullable=False),
    Column("data", Text),  # JSON: data diff / details
    Index("ix_history_event_instance", "instance_id", "id"),
    Index("ix_history_event_business_key", "business_key", "at"),
)

ALL_TABLES = (process_definition, spec_cache, process_instance, work_item, timer, message_subscription,
              pending_message, incident, history_event)
