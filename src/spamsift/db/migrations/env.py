"""Alembic's entry point: migrate on the connection the store hands over.

The store opens the connection and the transaction (under its migration lock,
see :meth:`spamsift.db.database.Database.migrate`), so this file only binds them.
To add a migration, copy the newest file in ``versions/``, give it the next
revision and set ``down_revision`` to the one before; ``tests/feedback/test_db.py``
fails until ``schema.py`` and the migrations describe the same tables.
"""

from __future__ import annotations

from alembic import context

from spamsift.db.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("spamsift's migrations run through spamsift.db.database.Database")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite cannot ALTER most things: later migrations rebuild tables in batches.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
