"""The database layer under the feedback store and the shared model registry.

One SQL database through SQLAlchemy: SQLite in WAL mode by default
(``DATA_DIR/spamsift.db``), PostgreSQL by a URL; the schema (:mod:`.schema`) is
migrated with Alembic on open (:mod:`.database`, scripts in ``migrations/``).
:mod:`spamsift.feedback` (events, labels, keys) and
:mod:`spamsift.models.db_registry` (model versions shared by replicas) both sit on it.
"""

from __future__ import annotations

from spamsift.db.database import DB_FILENAME, Database, default_url, resolve_url, url_backend

__all__ = ["Database", "DB_FILENAME", "default_url", "resolve_url", "url_backend"]
