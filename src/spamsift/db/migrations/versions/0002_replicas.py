"""Replicas on one database: the label-change log and the shared model registry.

``label_changes`` numbers every change of a message's effective label, so each
live process can follow the changes others made (``id > last seen``). Existing
labels are written into it as first changes (none -> label), in the order they
were last changed, so a process following from the start ends at today's labels.
``model_versions`` / ``model_active`` hold model artifacts and the active pointer
when the store is PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "label_changes",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("previous_label", sa.String(4)),
        sa.Column("label", sa.String(4)),
        sa.Column("created_at", _TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.execute(
        "INSERT INTO label_changes (message_id, previous_label, label, created_at) "
        "SELECT message_id, NULL, label, updated_at FROM labels WHERE label IS NOT NULL "
        "ORDER BY updated_at, message_id"
    )
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(128), primary_key=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("manifest", sa.LargeBinary, nullable=False),
        sa.Column("arrays", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "model_active",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.String(128), sa.ForeignKey("model_versions.version"),
                  nullable=False),
        sa.Column("activated_at", _TS, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_model_active_one_row"),
    )


def downgrade() -> None:
    for table in ("model_active", "model_versions", "label_changes"):
        op.drop_table(table)
