"""The stores a server opens in its data folder."""

from __future__ import annotations

from pathlib import Path

from spamsift.config import Settings
from spamsift.datadir import open_stores


def test_the_feedback_store_takes_the_size_cap_from_the_settings(tmp_path: Path) -> None:
    _, feedback = open_stores(tmp_path, Settings(limits={"max_message_bytes": 1000}))
    try:
        assert feedback.max_message_bytes == 1000
    finally:
        feedback.db.close()  # shared by both stores: neither closes it
