"""The first schema: messages, feedback events, effective labels, classifications, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("first_seen", _TS, nullable=False),
    )
    op.create_table(
        "classifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("message_id", sa.String(64),
                  sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(6), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("verdict IN ('spam', 'unsure', 'ham')",
                           name="ck_classifications_verdict"),
    )
    op.create_index("ix_classifications_message_id", "classifications", ["message_id"])
    op.create_index("ix_classifications_created_at", "classifications", ["created_at"])
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("message_id", sa.String(64), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("label", sa.String(4), nullable=False),
        sa.Column("user_name", sa.String(320)),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(32)),
        sa.Column("client_event_id", sa.String(128), unique=True),
        sa.Column("classification_id", sa.String(36),
                  sa.ForeignKey("classifications.id", ondelete="SET NULL")),
        sa.Column("duplicate", sa.Boolean, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("retracted_at", _TS),
        sa.Column("retracted_by", sa.String(320)),
        sa.UniqueConstraint("message_id", "seq", name="uq_feedback_events_message_seq"),
        sa.CheckConstraint("label IN ('spam', 'ham')", name="ck_feedback_events_label"),
    )
    op.create_index("ix_feedback_events_created_at", "feedback_events", ["created_at"])
    op.create_table(
        "labels",
        sa.Column("message_id", sa.String(64),
                  sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("label", sa.String(4)),
        sa.Column("conflict", sa.Boolean, nullable=False),
        sa.Column("active_events", sa.Integer, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index("ix_labels_updated_at", "labels", ["updated_at"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS),
    )


def downgrade() -> None:
    for table in ("api_keys", "labels", "feedback_events", "classifications", "messages"):
        op.drop_table(table)
