"""Tests for spamsift.ingest.detect."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import KINDS, detect_kind

MESSAGE = b"Subject: hi\n\nhello\n"

LAYOUTS: dict[str, dict[str, bytes]] = {
    "mbox-by-content": {"archive": (b"From a@b Mon Jan  1 00:00:00 2024\n" + MESSAGE
                                    + b"\nFrom c@d Mon Jan  1 00:00:01 2024\n" + MESSAGE)},
    "file-with-from-line": {"one": b"From a@b Mon Jan  1 00:00:00 2024\n" + MESSAGE},
    "mbox-by-suffix": {"archive.mbox": b""},
    "file": {"one.eml": MESSAGE},
    "csv-dataset": {"d.csv": b"text,label,path\nhi,ham,x\n"},
    "csv-index": {"index.csv": b"path,label\n"},
    "jsonl-dataset": {"d.jsonl": b""},
    "ndjson-dataset": {"d.ndjson": b""},
    "maildir": {"box/cur/1": MESSAGE, "box/new/.keep": b""},
    "folders": {"box/spam/1": MESSAGE, "box/ham/1": MESSAGE},
    "index-dir": {"box/index.csv": b"path,label\n", "box/spam/1": MESSAGE},
    "directory": {"box/a/1": MESSAGE},
}


@pytest.mark.parametrize(
    ("layout", "target", "kind"),
    [
        pytest.param("mbox-by-content", "archive", "mbox", id="from-line"),
        pytest.param("mbox-by-suffix", "archive.mbox", "mbox", id="mbox-suffix"),
        pytest.param("file-with-from-line", "one", "file", id="single-message-with-from-line"),
        pytest.param("file", "one.eml", "file", id="file"),
        pytest.param("csv-dataset", "d.csv", "dataset", id="csv-text-column"),
        pytest.param("csv-index", "index.csv", "index", id="csv-path-column"),
        pytest.param("jsonl-dataset", "d.jsonl", "dataset", id="jsonl"),
        pytest.param("ndjson-dataset", "d.ndjson", "dataset", id="ndjson"),
        pytest.param("maildir", "box", "maildir", id="maildir"),
        pytest.param("folders", "box", "folders", id="spam-and-ham"),
        pytest.param("index-dir", "box", "index", id="dir-with-index"),
        pytest.param("directory", "box", "directory", id="plain-directory"),
    ],
)
def test_detect_kind(tmp_path: Path, layout: str, target: str, kind: str) -> None:
    for name, data in LAYOUTS[layout].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    assert detect_kind(tmp_path / target) == kind
    assert kind in KINDS


def test_dash_is_stdin() -> None:
    assert detect_kind("-") == "stdin"


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"but .*no-such-thing does not exist"):
        detect_kind(tmp_path / "no-such-thing")


def test_csv_with_neither_column(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(IngestError, match="a 'text' column .* or a 'path' column .*found a, b"):
        detect_kind(tmp_path / "x.csv")
