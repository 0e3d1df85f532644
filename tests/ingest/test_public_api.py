"""The public names of spamsift.ingest, pinned so that a change to them is deliberate."""

from __future__ import annotations

import spamsift.ingest


def test_public_names() -> None:
    assert sorted(spamsift.ingest.__all__) == sorted(
        [
            "RawMessage",
            "LABELS",
            "IngestReport",
            "Skipped",
            "DEFAULT_MAX_BYTES",
            "KINDS",
            "open_source",
            "detect_kind",
            "read_file",
            "read_stdin",
            "read_directory",
            "read_mbox",
            "read_maildir",
            "read_index",
            "read_labelled_folders",
            "read_text_dataset",
            "synthetic_message",
            "normalise_label",
        ]
    )


def test_every_public_name_exists() -> None:
    for name in spamsift.ingest.__all__:
        assert hasattr(spamsift.ingest, name), name
