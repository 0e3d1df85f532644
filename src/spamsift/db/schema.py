"""The store's tables, as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create the same tables; a test compares
the two, so a change here without a migration (or the reverse) fails.

- ``messages``: each message once, keyed by the SHA-256 of its bytes (see
  :func:`spamsift.feedback.messages.message_id`), stored zlib-compressed.
- ``feedback_events``: the audit trail. Events are never deleted; a retraction
  sets ``retracted_at``. ``seq`` orders one message's events (1, 2, ...).
- ``labels``: each labelled message's effective label, recomputed from its events
  in the same transaction as every change to them.
- ``classifications``: verdicts given earlier, so feedback can name one, with what a
  person needs to recognise them in the dashboard's history (sender, subject, the
  clues and flags of the verdict); kept ``history_days``, then purged.
- ``api_keys``: hashed API keys and their scopes.
- ``label_changes``: every change of a message's effective label (before, after),
  numbered by an increasing ``id`` in commit order, written by the same transaction
  as the change: what every live process follows to keep its model in step.
- ``model_versions`` and ``model_active``: the shared model registry (artifact
  bytes and their checksum, one row a version; one pointer row), used when the
  store is PostgreSQL (:mod:`spamsift.models.db_registry`).

No foreign key to ``messages`` cascades: a message is deleted only by
:meth:`~spamsift.feedback.store.FeedbackStore.prune_classifications`, once
nothing refers to it, and a writer that refers to it at the same moment makes
that delete fail (and be retried) instead of losing its own row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "metadata",
    "messages",
    "feedback_events",
    "labels",
    "classifications",
    "api_keys",
    "label_changes",
    "model_versions",
    "model_active",
    "UTCDateTime",
    "VERSION_TABLE",
]

# Its own name, so a PostgreSQL database shared with another Alembic-managed
# application keeps the two schema versions apart.
VERSION_TABLE = "spamsift_schema_version"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC text, which sorts
    in time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected an aware datetime, got {value!r}")
        utc: datetime = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        got: datetime = value
        return got.replace(tzinfo=UTC) if got.tzinfo is None else got.astimezone(UTC)


metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("raw", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
)

classifications = Table(
    "classifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_id", String(64), ForeignKey("messages.id"),
           nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("verdict", String(6), nullable=False),
    Column("model_version", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    # Since 0003; null on older rows. The From address, lower case; clues and flags
    # as JSON text ([[clue, weight], ...] and [flag, ...]).
    Column("sender", String(320)),
    Column("subject", String(200)),
    Column("clues", Text),
    Column("flags", Text),
    CheckConstraint("verdict IN ('spam', 'unsure', 'ham')", name="ck_classifications_verdict"),
)

feedback_events = Table(
    "feedback_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_id", String(64), ForeignKey("messages.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("label", String(4), nullable=False),
    # "user" is reserved in PostgreSQL's SQL; the Python side calls it ``user``.
    Column("user_name", String(320)),
    Column("source", String(32), nullable=False),
    Column("key_id", String(32)),
    Column("client_event_id", String(128), unique=True),
    Column("classification_id", String(36),
           ForeignKey("classifications.id", ondelete="SET NULL")),
    Column("duplicate", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("retracted_at", UTCDateTime),
    Column("retracted_by", String(320)),
    UniqueConstraint("message_id", "seq", name="uq_feedback_events_message_seq"),
    CheckConstraint("label IN ('spam', 'ham')", name="ck_feedback_events_label"),
)

labels = Table(
    "labels",
    metadata,
    Column("message_id", String(64), ForeignKey("messages.id"),
           primary_key=True),
    Column("label", String(4)),
    Column("conflict", Boolean, nullable=False),
    Column("active_events", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_labels_updated_at", "updated_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# BIGSERIAL on PostgreSQL; on SQLite an INTEGER PRIMARY KEY (the rowid), which is
# what autoincrements there.
_SEQ = BigInteger().with_variant(Integer, "sqlite")

label_changes = Table(
    "label_changes",
    metadata,
    Column("id", _SEQ, primary_key=True, autoincrement=True),
    Column("message_id", String(64), ForeignKey("messages.id"), nullable=False),
    Column("previous_label", String(4)),
    Column("label", String(4)),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("version", String(128), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("manifest", LargeBinary, nullable=False),
    Column("arrays", LargeBinary, nullable=False),
    # sha256 of the manifest's bytes, then the arrays': checked before a byte is used.
    Column("sha256", String(64), nullable=False),
)

model_active = Table(
    "model_active",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", String(128), ForeignKey("model_versions.version"), nullable=False),
    Column("activated_at", UTCDateTime, nullable=False),
    CheckConstraint("id = 1", name="ck_model_active_one_row"),
)
