"""The stores a server opens in its data folder: API keys and feedback, one database."""

from __future__ import annotations

from pathlib import Path

from spamsift.config import Settings
from spamsift.feedback import Database, FeedbackStore, KeyStore
from spamsift.feedback.db import resolve_url

__all__ = ["open_stores"]


def open_stores(data_dir: Path, settings: Settings) -> tuple[KeyStore, FeedbackStore]:
    """Key and feedback stores sharing one database (``settings.database_url`` or
    SQLite at ``DATA_DIR/spamsift.db``). Module-level so server workers find it by name."""
    db = Database(resolve_url(settings.database_url, data_dir))
    return KeyStore(db), FeedbackStore(db, max_message_bytes=settings.limits.max_message_bytes)
