"""The dashboard's history: each classification keeps its sender, subject, clues, flags.

Older rows get the subject their message was stored with; their sender, clues and
flags stay null (the history shows them blank), and they age out with the
retention (``history_days``) like the rest.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("sender", "subject", "clues", "flags")


def upgrade() -> None:
    with op.batch_alter_table("classifications") as batch:
        batch.add_column(sa.Column("sender", sa.String(320)))
        batch.add_column(sa.Column("subject", sa.String(200)))
        batch.add_column(sa.Column("clues", sa.Text))
        batch.add_column(sa.Column("flags", sa.Text))
    op.execute("UPDATE classifications SET subject = (SELECT messages.subject FROM messages "
               "WHERE messages.id = classifications.message_id)")


def downgrade() -> None:
    with op.batch_alter_table("classifications") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
