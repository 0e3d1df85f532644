"""Tests for spamsift.ingest.files: single files, stdin and directory trees."""

from __future__ import annotations

import io
import os
import sys
import tracemalloc
from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, RawMessage, read_directory, read_file, read_stdin

HAM = b"From: alice@example.org\nSubject: lunch?\n\nAre we still on for Friday?\n"
SPAM = b"From: prize@lottery.example\nSubject: YOU WON\n\nClaim your $1,000,000 now!\n"


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _fake_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))


# -- single file --------------------------------------------------------------------


def test_read_file(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(HAM)
    report = IngestReport()
    assert list(read_file(path, report=report)) == [RawMessage(path.as_posix(), HAM)]
    assert report.read == 1


def test_read_file_with_a_label(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(SPAM)
    [message] = read_file(path, label="SPAM")
    assert message.label == "spam"


def test_read_file_refuses_an_unknown_label(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(SPAM)
    with pytest.raises(IngestError, match="label must be spam, ham, 1 or 0, got 'junk'"):
        read_file(path, label="junk")


def test_read_file_missing_names_the_path_when_called(tmp_path: Path) -> None:
    missing = tmp_path / "nope.eml"
    with pytest.raises(IngestError, match=r"nope\.eml does not exist"):
        read_file(missing)  # not only when iterated


def test_read_file_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="is a directory"):
        read_file(tmp_path)


def test_read_file_truncates_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    path.write_bytes(HAM + b"x" * 5000)
    report = IngestReport()
    [message] = read_file(path, max_bytes=100, report=report)
    assert message.data == (HAM + b"x" * 5000)[:100]
    assert message.meta == {"truncated": "1"}
    assert report.truncated == 1


def test_a_file_exactly_at_the_cap_is_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "exact.eml"
    path.write_bytes(HAM)
    [message] = read_file(path, max_bytes=len(HAM))
    assert message.data == HAM
    assert "truncated" not in message.meta


def test_a_big_file_is_not_loaded_past_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "huge.eml"
    with path.open("wb") as stream:
        for _ in range(8):
            stream.write(b"x" * (1 << 20))
    tracemalloc.start()
    try:
        [message] = read_file(path, max_bytes=4096)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(message.data) == 4096
    assert peak < 1 << 20


def test_read_file_unreadable_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.eml"
    path.write_bytes(HAM)

    def refuse(path: os.PathLike[str], flags: int) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)  # works as root too, unlike chmod
    messages = read_file(path)
    with pytest.raises(IngestError, match="cannot read message file .*: unreadable"):
        list(messages)


# -- stdin --------------------------------------------------------------------------


def test_read_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = read_stdin(label="ham")
    _fake_stdin(monkeypatch, HAM)  # read when iterated, not when called
    assert list(messages) == [RawMessage("stdin", HAM, "ham")]


def test_read_stdin_truncates(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_stdin(monkeypatch, SPAM)
    [message] = read_stdin(max_bytes=10)
    assert (message.data, message.meta) == (SPAM[:10], {"truncated": "1"})


# -- directory trees ----------------------------------------------------------------


def test_read_directory_recurses_in_sorted_order(tmp_path: Path) -> None:
    _tree(tmp_path, {"b/2": SPAM, "a": HAM, "b/1": HAM, "c/d/3": SPAM})
    report = IngestReport()
    messages = list(read_directory(tmp_path, report=report))
    assert [m.source for m in messages] == ["a", "b/1", "b/2", "c/d/3"]
    assert [m.data for m in messages] == [HAM, HAM, SPAM, SPAM]
    assert all(m.label is None for m in messages)
    assert report.summary() == "read 4 messages, skipped 0"


def test_read_directory_passes_over_dotfiles(tmp_path: Path) -> None:
    _tree(tmp_path, {".hidden": HAM, ".git/objects/x": HAM, "kept": SPAM})
    report = IngestReport()
    assert [m.source for m in read_directory(tmp_path, report=report)] == ["kept"]
    assert report.skipped_count == 0


def test_read_directory_labels_every_message(tmp_path: Path) -> None:
    _tree(tmp_path, {"1": SPAM, "2": SPAM})
    assert {m.label for m in read_directory(tmp_path, label="1")} == {"spam"}


def test_read_directory_reports_what_it_cannot_read(tmp_path: Path) -> None:
    _tree(tmp_path / "top", {"ok": HAM})
    _tree(tmp_path / "elsewhere", {"loop": HAM})
    (tmp_path / "top" / "linked-dir").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "top" / "broken").symlink_to(tmp_path / "gone")
    os.mkfifo(tmp_path / "top" / "pipe")
    report = IngestReport()
    assert [m.source for m in read_directory(tmp_path / "top", report=report)] == ["ok"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("broken", "missing file"),
        ("linked-dir", "not followed"),
        ("pipe", "not a file"),
    ]


def test_read_directory_truncates_each_message(tmp_path: Path) -> None:
    _tree(tmp_path, {"small": b"x" * 10, "big": b"x" * 100})
    report = IngestReport()
    meta = {m.source: m.meta for m in read_directory(tmp_path, max_bytes=50, report=report)}
    assert meta == {"big": {"truncated": "1"}, "small": {}}
    assert report.truncated == 1


def test_read_directory_missing_root(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"expected a directory of message files, but .*nope"):
        read_directory(tmp_path / "nope")


def test_read_directory_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(HAM)
    with pytest.raises(IngestError, match="is not a directory"):
        read_directory(tmp_path / "f")
