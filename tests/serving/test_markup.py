"""Headers go in at the end of the header block, nothing else moves, and come out again."""

from __future__ import annotations

import re

import pytest
from hypothesis import given

from spamsift.models.spam_model import Verdict
from spamsift.serving.markup import (
    header_lines,
    headers_only,
    mark,
    report,
    scan_of,
    strip_markup,
    symbol,
)
from strategies import arbitrary_bytes, message_bytes

SPAM = Verdict(0.99, "spam", 6.0, [("subj:free", 1.25), ("rep:from_addr:spam_rate 0.9 seen 6+",
                                                       0.5), ("hdr:x-mailer", -0.25)],
               ["truncated:parts"])
HAM = Verdict(0.001, "ham", -7.0, [("subj:re", -0.5)], [])


def _lines(v: Verdict = SPAM) -> list[str]:
    return header_lines(scan_of(v, 0.9626, "v1"))


@pytest.mark.parametrize("raw", [
    pytest.param(b"Subject: hi\nFrom: a@b\n\nbody\n\nmore\n", id="lf"),
    pytest.param(b"Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n", id="crlf"),
    pytest.param(b"From a@b Mon Jan  1 00:00:00 2024\nSubject: hi\n\nbody", id="mbox-from"),
    pytest.param(b"Subject: only headers\n", id="no-body"),
    pytest.param(b"Subject: no newline", id="no-final-newline"),
    pytest.param(b"\nbody without headers\n", id="no-headers"),
    pytest.param(b"", id="empty"),
])
def test_mark_inserts_one_block_and_keeps_every_other_byte(raw: bytes) -> None:
    lines = _lines()
    marked, head_len = mark(raw, lines)
    nl = b"\r\n" if b"\r\n" in raw else b"\n"
    block = b"".join(line.encode() + nl for line in lines)
    at = marked.index(block)
    assert marked[:at] + marked[at + len(block):] in (raw, raw + nl, raw + nl + nl)
    head = headers_only(marked, head_len)
    assert head.endswith((b"\n\n", b"\r\n\r\n")) or (raw.startswith(b"\n") and head.endswith(
        block + b"\n"))
    assert marked.startswith(head)


def test_the_block_reads_like_spamassassins() -> None:
    text = "\n".join(_lines())
    assert "X-Spam-Flag: YES" in text
    assert "X-Spam-Level: *****" in text
    status = re.search(r"X-Spam-Status: (.*?)\nX-Spam-Score", text, re.S)
    assert status is not None
    unfolded = status.group(1).replace("\n", "")  # RFC 5322 unfolding keeps the tab
    assert unfolded.startswith("Yes, score=7.8 required=5.0 tests=subj:free,")
    tests = re.search(r"tests=(\S+(?:,\s*\S+)*) version=", unfolded)
    assert tests is not None
    assert [t.strip() for t in tests.group(1).split(",")] == [
        "subj:free", "rep:from_addr:spam_rate_0.9_seen_6+", "hdr:x-mailer"]
    assert "X-Spamsift-Verdict: spam" in text and "X-Spamsift-Flags: truncated:parts" in text
    assert all(len(line) <= 78 for line in _lines())
    ham = "\n".join(_lines(HAM))
    assert "X-Spam-Flag: NO" in ham and "X-Spam-Status: No, score=" in ham


def test_symbols_are_one_word_and_ascii() -> None:
    assert symbol("a b,c") == "a_b_c"
    assert symbol("subj:größe") == "subj:gr\\xf6\\xdfe"
    assert len(symbol("x" * 500)) == 60


@pytest.mark.parametrize("raw", [
    b"Subject: hi\nFrom: a@b\n\nbody\n",
    b"Subject: hi\r\nX-Spam-Flag: NO\r\n\r\nbody\r\n",
    b"From a@b Mon Jan  1 00:00:00 2024\nSubject: hi\n\nbody",
])
def test_strip_markup_gives_back_the_scanned_message(raw: bytes) -> None:
    marked, _ = mark(raw, _lines())
    assert strip_markup(marked) == raw
    assert strip_markup(raw) == raw


def test_strip_markup_leaves_a_block_that_is_not_ours_alone() -> None:
    marked, _ = mark(b"Subject: hi\n\nbody\n", _lines())
    moved = marked.replace(b"\n\nbody", b"\nX-Other: 1\n\nbody")  # a header added after ours
    assert strip_markup(moved) == moved


@given(message_bytes())
def test_mark_and_strip_never_lose_bytes(raw: bytes) -> None:
    marked, head_len = mark(raw, _lines())
    assert len(marked) >= len(raw) and head_len <= len(marked)
    if b"\n\n" in raw or b"\n\r\n" in raw:
        assert strip_markup(marked) == raw


@given(arbitrary_bytes)
def test_strip_markup_on_anything(raw: bytes) -> None:
    assert len(strip_markup(raw)) <= len(raw)


def test_the_report_points_add_up_to_the_score() -> None:
    scan = scan_of(SPAM, 0.9626, "v1")
    text = report(scan)
    assert "(7.8 points, 5.0 required)" in text
    pts = [float(line.split()[0]) for line in text.splitlines()
           if re.match(r"^ ?-?\d+\.\d ", line)]
    assert sum(pts) == pytest.approx(scan.score, abs=0.05 * len(pts))
    assert "spamsift:rest" in text and "Parsing flags: truncated:parts" in text
