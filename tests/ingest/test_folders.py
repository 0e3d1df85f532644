"""Tests for spamsift.ingest.folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, read_labelled_folders

HAM = b"Subject: minutes\n\nAttached are the minutes.\n"
SPAM = b"Subject: cheap meds\n\nNo prescription needed.\n"


def _write(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_labels_come_from_the_folder(tmp_path: Path) -> None:
    _write(tmp_path, {"spam/2003/1": SPAM, "ham/1": HAM, "ham/2": HAM, "spam/.seen": SPAM})
    report = IngestReport()
    messages = list(read_labelled_folders(tmp_path, report=report))
    assert [(m.source, m.label) for m in messages] == [
        ("ham/1", "ham"),
        ("ham/2", "ham"),
        ("spam/2003/1", "spam"),
    ]
    assert report.summary() == "read 3 messages, skipped 0"


def test_anything_else_at_the_top_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, {"spam/1": SPAM, "unsure/1": HAM, "README": b"notes", ".DS_Store": b""})
    report = IngestReport()
    assert [m.source for m in read_labelled_folders(tmp_path, report=report)] == ["spam/1"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("README", "not a label folder"),
        ("unsure", "not a label folder"),
    ]


def test_truncates(tmp_path: Path) -> None:
    _write(tmp_path, {"ham/1": HAM})
    [message] = read_labelled_folders(tmp_path, max_bytes=8)
    assert message.meta == {"truncated": "1"}


def test_neither_folder(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="expected spam/ and ham/ folders in .*found neither"):
        read_labelled_folders(tmp_path)
