"""Tests for spamsift.ingest.maildir."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, read_maildir

ONE = b"Subject: one\n\nfirst\n"
TWO = b"Subject: two\n\nsecond\n"
THREE = b"Subject: three\n\nthird\n"


def _maildir(root: Path, files: dict[str, bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_cur_then_new_with_flags(tmp_path: Path) -> None:
    box = _maildir(
        tmp_path / "mail",
        {
            "new/1700000002.M2P2.host": TWO,
            "cur/1700000001.M1P1.host:2,RS": ONE,
            "tmp/1700000003.M3P3.host": THREE,  # still being delivered: not read
            "cur/.hidden": THREE,
        },
    )
    report = IngestReport()
    messages = list(read_maildir(box, label="ham", report=report))
    assert [(m.source, m.data, m.meta) for m in messages] == [
        ("cur/1700000001.M1P1.host:2,RS", ONE, {"flags": "RS"}),
        ("new/1700000002.M2P2.host", TWO, {}),
    ]
    assert {m.label for m in messages} == {"ham"}
    assert report.summary() == "read 2 messages, skipped 0"


def test_maildir_with_only_new(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "1").write_bytes(ONE)
    assert [m.source for m in read_maildir(tmp_path)] == ["new/1"]


def test_subfolders_only_when_asked(tmp_path: Path) -> None:
    box = _maildir(tmp_path, {"cur/1": ONE, ".Sent/cur/2:2,S": TWO, ".Lists.python/new/3": THREE})
    (box / ".not-a-maildir").mkdir()
    assert [m.source for m in read_maildir(box)] == ["cur/1"]
    messages = list(read_maildir(box, subfolders=True))
    assert [(m.source, m.meta) for m in messages] == [
        ("cur/1", {}),
        (".Lists.python/new/3", {"folder": "Lists.python"}),
        (".Sent/cur/2:2,S", {"flags": "S", "folder": "Sent"}),
    ]


def test_truncates(tmp_path: Path) -> None:
    box = _maildir(tmp_path, {"cur/1": ONE})
    [message] = read_maildir(box, max_bytes=5)
    assert (message.data, message.meta) == (ONE[:5], {"truncated": "1"})


def test_not_a_maildir(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="expected a Maildir with cur/ and new/"):
        read_maildir(tmp_path)


def test_missing_maildir(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"expected a Maildir, but .*nope does not exist"):
        read_maildir(tmp_path / "nope")
