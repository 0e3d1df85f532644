"""Tests for spamsift.ingest.mbox, with the stdlib mailbox module as an oracle."""

from __future__ import annotations

import mailbox
import re
import tempfile
import tracemalloc
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, read_mbox
from spamsift.ingest import mbox as mbox_module

FIRST = b"From: alice@example.org\nSubject: one\n\nHello.\n"
SECOND = b"From: bob@example.org\nSubject: two\n\nBye.\n"
THIRD = b"From: carol@example.org\nSubject: three\n\nAgain.\n"


def _mbox(tmp_path: Path, data: bytes, name: str = "box.mbox") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _joined(*messages: bytes) -> bytes:
    # As mbox writers do: a From line, the message, a blank line.
    return b"".join(
        b"From sender@example.org Thu Aug 22 12:36:23 2002\n" + m + b"\n" for m in messages
    )


def test_several_messages(tmp_path: Path) -> None:
    path = _mbox(tmp_path, _joined(FIRST, SECOND, THIRD))
    report = IngestReport()
    messages = list(read_mbox(path, report=report))
    assert [m.data for m in messages] == [FIRST, SECOND, THIRD]
    assert [m.source for m in messages] == [f"{path.as_posix()}#{n}" for n in range(3)]
    assert messages[0].meta == {"mbox_from": "sender@example.org Thu Aug 22 12:36:23 2002"}
    assert report.summary() == "read 3 messages, skipped 0"


def test_from_quoting_is_undone(tmp_path: Path) -> None:
    body = b"Subject: q\n\n>From the desk of\n>>From here\nnot >From here\n"
    path = _mbox(tmp_path, _joined(body, SECOND))
    first, second = read_mbox(path)
    assert first.data == b"Subject: q\n\nFrom the desk of\n>From here\nnot >From here\n"
    assert second.data == SECOND


def test_quoting_is_kept_when_asked(tmp_path: Path) -> None:
    body = b"Subject: q\n\n>From the desk of\n"
    [message] = read_mbox(_mbox(tmp_path, _joined(body)), unquote=False)
    assert message.data == body


def test_an_unquoted_from_not_after_a_blank_line_stays_in_the_body(tmp_path: Path) -> None:
    body = b"Subject: q\n\nI wrote this.\nFrom now on, quote your From lines.\n"
    [message] = read_mbox(_mbox(tmp_path, _joined(body)))
    assert message.data == body


def test_crlf_mbox(tmp_path: Path) -> None:
    one, two = b"Subject: a\r\n\r\nx\r\n", b"Subject: b\r\n\r\ny\r\n"
    data = b"From a@b Mon Jan  1 00:00:00 2024\r\n" + one + b"\r\n"
    data += b"From a@b Mon Jan  1 00:00:01 2024\r\n" + two + b"\r\n"
    assert [m.data for m in read_mbox(_mbox(tmp_path, data))] == [one, two]


def test_text_before_the_first_from_line_is_reported(tmp_path: Path) -> None:
    path = _mbox(tmp_path, b"junk at the top\n" + _joined(FIRST))
    report = IngestReport()
    assert [m.data for m in read_mbox(path, report=report)] == [FIRST]
    [skipped] = report.skipped
    assert (skipped.source, skipped.reason) == (f"{path.as_posix()}#preamble", "not a message")
    assert skipped.detail == "16 bytes before the first From line"


def test_a_file_that_is_not_an_mbox_yields_nothing_but_says_so(tmp_path: Path) -> None:
    report = IngestReport()
    assert list(read_mbox(_mbox(tmp_path, FIRST), report=report)) == []
    assert report.reasons == {"not a message": 1}


@pytest.mark.parametrize("data", [b"", b"\n\n"], ids=["empty", "blank-lines"])
def test_an_empty_mbox(tmp_path: Path, data: bytes) -> None:
    report = IngestReport()
    assert list(read_mbox(_mbox(tmp_path, data), report=report)) == []
    assert report.summary() == "read 0 messages, skipped 0"


def test_label_applies_to_every_message(tmp_path: Path) -> None:
    messages = read_mbox(_mbox(tmp_path, _joined(FIRST, SECOND)), label="spam")
    assert {m.label for m in messages} == {"spam"}


def test_each_message_is_cut_at_the_cap(tmp_path: Path) -> None:
    big = b"Subject: big\n\n" + b"y" * 1000 + b"\n"
    report = IngestReport()
    first, second = read_mbox(_mbox(tmp_path, _joined(big, SECOND)), max_bytes=100, report=report)
    assert (first.data, first.meta["truncated"]) == (big[:100], "1")
    assert (second.data, "truncated" in second.meta) == (SECOND, False)
    assert report.truncated == 1


def test_lines_longer_than_a_chunk(tmp_path: Path) -> None:
    long_line = b"z" * (3 * mbox_module._CHUNK + 17) + b"\n"
    body = b"Subject: long\n\n" + long_line + b">From a long line\n"
    envelope = b"From " + b"e" * (2 * mbox_module._CHUNK) + b"\n"
    data = _joined(body) + envelope + SECOND + b"\n"
    first, second = read_mbox(_mbox(tmp_path, data))
    assert first.data == b"Subject: long\n\n" + long_line + b"From a long line\n"
    assert second.data == SECOND


def test_streams_one_message_at_a_time(tmp_path: Path) -> None:
    body = b"Subject: s\n\n" + (b"w" * 1023 + b"\n") * 1024  # 1 MiB
    path = _mbox(tmp_path, _joined(*[body] * 8))
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_mbox(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 8
    assert peak < 4 << 20  # one message and its chunks, not the 8 MiB file


def test_missing_mbox(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"expected an mbox file, but .*nope\.mbox does not"):
        read_mbox(tmp_path / "nope.mbox")


def test_agrees_with_the_stdlib(tmp_path: Path) -> None:
    # The stdlib splits on every From line and never unquotes; with From lines only
    # after blank lines and unquote=False, the two must agree byte for byte.
    body = b"Subject: q\n\n>From quoted\n\n\nend\n"
    path = _mbox(tmp_path, _joined(FIRST, body, SECOND) + b"From x\nno blank at the end\n")
    ours = [m.data for m in read_mbox(path, unquote=False)]
    box = mailbox.mbox(path, create=False)
    try:
        theirs = [box.get_bytes(key) for key in box.keys()]
    finally:
        box.close()
    assert ours == theirs


def _reference(data: bytes, unquote: bool) -> list[bytes]:
    """The same splitting rule over whole lines, with the whole file in memory."""
    messages: list[bytes] | None = None
    pending, after_blank = b"", True
    for line in re.findall(rb"[^\n]*\n|[^\n]+$", data):
        if (after_blank or messages is None) and line.startswith(b"From "):
            messages = [] if messages is None else messages
            messages.append(b"")
            pending, after_blank = b"", False
            continue
        if messages is not None:
            messages[-1] += pending
        pending = b""
        if line in (b"\n", b"\r\n"):
            pending, after_blank = line, True
            continue
        after_blank = False
        if unquote and re.match(rb">+From ", line):
            line = line[1:]
        if messages is not None:
            messages[-1] += line
    return messages or []


_LINES = st.sampled_from(
    [
        b"From a@b Mon\n",
        b"From \n",
        b"\n",
        b"\r\n",
        b">From x\n",
        b">>From y\n",
        b"body\n",
        b"a longer body line that spans chunks\n",
        b"From no newline",
        b"\r",
        b"x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_LINES, max_size=30), unquote=st.booleans())
def test_chunked_reading_matches_whole_line_splitting(lines: list[bytes], unquote: bool) -> None:
    data = b"".join(lines)
    # A tiny chunk makes most lines arrive in pieces.
    with mock.patch.object(mbox_module, "_CHUNK", 8), tempfile.TemporaryDirectory() as tmp:
        path = _mbox(Path(tmp), data)
        ours = [m.data for m in read_mbox(path, unquote=unquote, report=IngestReport())]
    assert ours == _reference(data, unquote)
