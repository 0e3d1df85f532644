"""Tests for spamsift.ingest.limits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from spamsift.config import MAX_MESSAGE_BYTES, ParseLimits
from spamsift.exceptions import IngestError
from spamsift.ingest import open_source
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, capped_meta, check_max_bytes, read_capped
from spamsift.parse import parse_message


@pytest.mark.parametrize(
    ("data", "cap", "expected"),
    [
        pytest.param(b"abcdef", 10, (b"abcdef", False), id="under"),
        pytest.param(b"abcdef", 6, (b"abcdef", False), id="exactly"),
        pytest.param(b"abcdef", 5, (b"abcde", True), id="over-by-one"),
        pytest.param(b"", 5, (b"", False), id="empty"),
    ],
)
def test_read_capped(data: bytes, cap: int, expected: tuple[bytes, bool]) -> None:
    assert read_capped(io.BufferedReader(io.BytesIO(data)), cap) == expected


def test_read_capped_leaves_the_rest_unread() -> None:
    stream = io.BytesIO(b"x" * 1000)
    read_capped(stream, 10)
    assert stream.tell() == 11


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True, None])
def test_check_max_bytes_refuses(bad: object) -> None:
    with pytest.raises(IngestError, match="max_bytes must be a positive number"):
        check_max_bytes(bad)  # type: ignore[arg-type]


def test_the_default_is_the_parsers_cap() -> None:
    assert check_max_bytes(DEFAULT_MAX_BYTES) == ParseLimits().max_message_bytes
    assert DEFAULT_MAX_BYTES == MAX_MESSAGE_BYTES == 10 * 1024 * 1024


def _sized(n: int) -> bytes:
    """A message of ``n`` bytes ending in a newline (an mbox's blank line then ends it)."""
    head = b"From: a@example.com\nSubject: big\n\n"
    line = b"free money, click here now\n"
    body = line * ((n - len(head)) // len(line) + 1)
    return (head + body)[: n - 1] + b"\n"


@pytest.mark.parametrize("form", ["file", "mbox"])
@pytest.mark.parametrize(("extra", "cut"), [
    pytest.param(0, False, id="at-the-cap"),
    pytest.param(1, True, id="one-byte-over"),
])
def test_a_message_near_the_cap_is_cut_where_the_parser_cuts_it(
        tmp_path: Path, form: str, extra: int, cut: bool) -> None:
    raw = _sized(ParseLimits().max_message_bytes + extra)
    path = tmp_path / ("big.eml" if form == "file" else "big.mbox")
    path.write_bytes(raw if form == "file" else b"From a@example.com Mon Jan  1 00:00:00 2024\n"
                     + raw + b"\n")
    (read,) = open_source(path, kind=form)
    parsed = parse_message(raw)
    # Both keep the same first bytes, and both say when they cut.
    assert read.data == raw[:MAX_MESSAGE_BYTES]
    assert (read.meta.get("truncated") == "1") is cut
    assert ("truncated:bytes" in parsed.flags) is cut
    again = parse_message(read.data)
    assert (again.subject, again.text_plain) == (parsed.subject, parsed.text_plain)


def test_capped_meta() -> None:
    assert capped_meta({"era": "x"}, True) == {"era": "x", "truncated": "1"}
    assert capped_meta({}, False) == {}
