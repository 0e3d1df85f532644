"""Tests for spamsift.ingest.sources: open_source reads every kind through one call."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, open_source

HAM = b"Subject: hi\n\nsee you\n"
SPAM = b"Subject: $$$\n\nbuy now\n"


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(HAM))))
    [message] = open_source("-")
    assert (message.source, message.data) == ("stdin", HAM)


def test_mbox_with_options(tmp_path: Path) -> None:
    _write(tmp_path, {"box": b"From a\n" + HAM + b"\nFrom b\n" + SPAM})
    report = IngestReport()
    messages = list(open_source(tmp_path / "box", label="spam", report=report))
    assert [(m.data, m.label) for m in messages] == [(HAM, "spam"), (SPAM, "spam")]
    assert report.read == 2


def test_index_directory_reads_its_index(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "spam/1": SPAM,
            "easy_ham/1": HAM,
            "index.csv": b"path,label,split\nspam/1,spam,test\neasy_ham/1,ham,train\n",
        },
    )
    messages = open_source(tmp_path, split_column="split", only_split="train")
    assert [(m.source, m.label, m.split) for m in messages] == [("easy_ham/1", "ham", "train")]


def test_folders(tmp_path: Path) -> None:
    _write(tmp_path, {"spam/1": SPAM, "ham/1": HAM})
    assert [m.label for m in open_source(tmp_path)] == ["ham", "spam"]


def test_a_kind_can_be_forced(tmp_path: Path) -> None:
    _write(tmp_path, {"spam/1": SPAM, "ham/1": HAM})
    messages = open_source(tmp_path, kind="directory")
    assert [(m.source, m.label) for m in messages] == [("ham/1", None), ("spam/1", None)]


def test_max_bytes_reaches_the_reader(tmp_path: Path) -> None:
    _write(tmp_path, {"one.eml": HAM})
    [message] = open_source(tmp_path / "one.eml", max_bytes=4)
    assert (message.data, message.meta) == (HAM[:4], {"truncated": "1"})


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"nowhere\.mbox does not exist"):
        open_source(tmp_path / "nowhere.mbox")


def test_missing_path_with_a_forced_kind(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"expected an mbox file, but .*nowhere does not exist"):
        open_source(tmp_path / "nowhere", kind="mbox")


def test_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="expected kind 'auto' or one of stdin, file, .*'pst'"):
        open_source(tmp_path, kind="pst")
