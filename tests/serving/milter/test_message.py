"""The message rebuilt from milter callbacks is the message a mailbox stores."""

from __future__ import annotations

import pytest

from spamsift.serving.milter.message import MessageBuffer, is_markup


def _feed(buf: MessageBuffer, fields: list[tuple[str, bytes]], chunks: list[bytes]) -> bytes:
    for name, value in fields:
        buf.header(name, value)
    buf.end_of_headers()
    for c in chunks:
        buf.body(c)
    return buf.raw()


def test_headers_and_body_come_back_with_lf_line_ends() -> None:
    raw = _feed(MessageBuffer(10_000),
                [("From", b"Ann <ann@example.org>"),
                 ("Subject", b"a long\r\n\tfolded subject")],
                [b"line one\r\nline two\r\n"])
    assert raw == (b"From: Ann <ann@example.org>\nSubject: a long\n\tfolded subject\n\n"
                   b"line one\nline two\n")


@pytest.mark.parametrize("cut", range(1, 12), ids=lambda c: f"cut{c}")
def test_a_crlf_split_between_chunks_is_one_line_end(cut: int) -> None:
    body = b"one\r\ntwo\r\n\r\nx\r"
    raw = _feed(MessageBuffer(1000), [("Subject", b"s")], [body[:cut], body[cut:]])
    assert raw == b"Subject: s\n\none\ntwo\n\nx\r"  # a lone CR at the end stays


def test_no_body_and_no_eoh_still_ends_the_header_block() -> None:
    buf = MessageBuffer(1000)
    buf.header("Subject", b"only headers")
    assert buf.raw() == b"Subject: only headers\n\n"


def test_raw_bytes_in_values_are_kept_as_sent() -> None:
    raw = _feed(MessageBuffer(1000), [("Subject", b"caf\xe9 \xff")], [b"\xe9t\xe9\r\n"])
    assert raw == b"Subject: caf\xe9 \xff\n\n\xe9t\xe9\n"


def test_bytes_past_the_cap_are_dropped_and_counted() -> None:
    buf = MessageBuffer(50)
    raw = _feed(buf, [("Subject", b"big")], [b"x" * 40 + b"\r\n", b"y" * 1000])
    assert len(raw) == 50 and raw.startswith(b"Subject: big\n\nxxx")
    assert buf.truncated
    assert buf.size == len(b"Subject: big\n\n") + 41 + 1000


def test_a_message_under_the_cap_is_not_truncated() -> None:
    buf = MessageBuffer(1000)
    _feed(buf, [("Subject", b"small")], [b"hi\r\n"])
    assert not buf.truncated


def test_markup_headers_are_found_by_name_and_index() -> None:
    buf = MessageBuffer(1000)
    for name, value in [("Received", b"a"), ("X-Spam-Flag", b"YES"), ("received", b"b"),
                        ("x-spam-flag", b"NO"), ("X-Spamsift-Verdict", b"ham"),
                        ("X-Spam-Status", b"No"), ("X-Spammer", b"not ours")]:
        buf.header(name, value)
    assert buf.markup == [("X-Spam-Flag", 1), ("x-spam-flag", 2), ("X-Spamsift-Verdict", 1),
                          ("X-Spam-Status", 1)]


@pytest.mark.parametrize(("name", "ours"), [
    ("X-Spam-Flag", True), ("x-spam-level", True), ("X-Spam-Report", True),
    ("X-Spamsift-Clues", True), ("X-Spam", False), ("X-Spammer", False), ("Subject", False),
])
def test_is_markup(name: str, ours: bool) -> None:
    assert is_markup(name) is ours
