"""Tests for spamsift.parse.headers: addresses, Received, Date, encoded words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.parse import ReceivedHop, parse_message
from spamsift.parse.headers import (
    clean_value,
    decode_raw_header,
    decode_words,
    parse_address,
    parse_addresses,
    parse_date,
    parse_received,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Alice Example <Alice@Example.ORG>", ("Alice Example", "alice@example.org"),
                     id="name-and-address"),
        pytest.param("bob@example.org", ("", "bob@example.org"), id="bare"),
        pytest.param("<bob@example.org>", ("", "bob@example.org"), id="bracketed"),
        pytest.param('"Doe, John" <j@example.org>', ("Doe, John", "j@example.org"),
                     id="quoted-comma"),
        # An encoded-word name decodes to a comma parseaddr cannot read past.
        pytest.param("Müller, Hans <h@example.de>", ("Müller, Hans", "h@example.de"),
                     id="decoded-comma"),
        pytest.param("bob@example.org (Bob)", ("Bob", "bob@example.org"), id="comment-name"),
        pytest.param("Undisclosed recipients", ("", ""), id="no-address"),
        pytest.param("a@b@c", ("", ""), id="two-ats"),
        pytest.param("<<<<<<<<", ("", ""), id="brackets"),
        pytest.param("", ("", ""), id="empty"),
    ],
)
def test_parse_address(value: str, expected: tuple[str, str]) -> None:
    assert parse_address(value) == expected


def test_parse_addresses_reads_every_value_and_skips_junk() -> None:
    values = ['A <a@x.example>, "B, b" <b@y.example>', "C@Z.EXAMPLE", "undisclosed", ""]
    assert parse_addresses(values) == ["a@x.example", "b@y.example", "c@z.example"]


def test_parse_addresses_limit() -> None:
    values = [", ".join(f"u{i}@example.org" for i in range(300))]
    assert parse_addresses(values, limit=5) == [f"u{i}@example.org" for i in range(5)]


@pytest.mark.parametrize(
    ("value", "hop"),
    [
        pytest.param("from mail.example.org (mail.example.org [192.0.2.7]) by mx.example.net "
                     "(Postfix) with ESMTPS id 4F; Mon, 1 Jan 2024 10:00:00 +0000",
                     ReceivedHop("mail.example.org", "192.0.2.7", "mx.example.net", "esmtps"),
                     id="postfix"),
        pytest.param("from [198.51.100.2] by mx.example.net with SMTP",
                     ReceivedHop("198.51.100.2", "198.51.100.2", "mx.example.net", "smtp"),
                     id="bare-ip-host"),
        pytest.param("from unknown (HELO 10.0.0.1) (203.0.113.9) by mx.example with SMTP",
                     ReceivedHop("unknown", "203.0.113.9", "mx.example", "smtp"),
                     id="qmail-forged-helo"),
        pytest.param("from x.example\n\t(x.example [192.0.2.1])\n\tby y.example",
                     ReceivedHop("x.example", "192.0.2.1", "y.example", ""), id="folded"),
        pytest.param("by localhost with LMTP", ReceivedHop("", "", "localhost", "lmtp"),
                     id="no-from"),
        pytest.param("garbage", ReceivedHop(), id="garbage"),
    ],
)
def test_parse_received(value: str, hop: ReceivedHop) -> None:
    assert parse_received(value) == hop


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Mon, 1 Jan 2024 10:00:00 +0200",
                     datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=2))), id="offset"),
        pytest.param("1 Jan 2024 10:00:00 GMT", datetime(2024, 1, 1, 10, tzinfo=UTC),
                     id="gmt"),
        pytest.param("Mon, 1 Jan 2024 10:00:00 -0000", datetime(2024, 1, 1, 10, tzinfo=UTC),
                     id="unknown-zone"),
        # No zone at all: read as UTC so every date compares with every other.
        pytest.param("Mon, 1 Jan 2024 10:00:00", datetime(2024, 1, 1, 10, tzinfo=UTC),
                     id="no-zone"),
        pytest.param("yesterday", None, id="words"),
        pytest.param("Mon, 32 Jan 2024 10:00:00 +0000", None, id="day-32"),
        pytest.param("Mon, 1 Jan 99999 10:00:00 +0000", None, id="year-99999"),
        pytest.param("Mon, 1 Jan 2024 10:00:00 +9999", None, id="offset-out-of-range"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    got = parse_date(value)
    assert got == expected
    if got is not None and expected is not None:  # the same instant and the same offset
        assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        pytest.param("plain", "plain", id="no-words"),
        pytest.param("=?utf-8?q?Gr=C3=BC=C3=9Fe_aus?= Köln", "Grüße aus Köln", id="q"),
        pytest.param("=?UTF-8?B?0J/RgNC40LLQtdGC?=", "Привет", id="b"),
        pytest.param("=?utf-8?q?a?=\n =?utf-8?q?b?=", "ab", id="folded-adjacent"),
        pytest.param("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b", id="text-between"),
        pytest.param("=?utf-8?b?0J/R?= =?utf-8?b?gNC4?=", "При", id="split-character"),
        pytest.param("=?iso-8859-1?q?caf=E9?= =?utf-8?q?_cr=C3=A8me?=", "café crème",
                     id="two-charsets"),
        pytest.param("=?utf-8*en?q?hi?=", "hi", id="rfc2231-language"),
        pytest.param("=?x-foo?q?caf=C3=A9?=", "café", id="unknown-charset"),
        pytest.param("=?utf-8?b?QUJD", "=?utf-8?b?QUJD", id="unterminated"),
        # Glued into an address (seen in Japanese spam): decoding would make a
        # second "@" out of the local part.
        pytest.param("=?iso-2022-jp?B?am9rb0Bycy5qcA==?=@example.org",
                     "=?iso-2022-jp?B?am9rb0Bycy5qcA==?=@example.org", id="glued-to-at"),
        pytest.param("=?utf-8?x?abc?=", "=?utf-8?x?abc?=", id="bad-encoding"),
    ],
)
def test_decode_words(value: str, decoded: str) -> None:
    assert decode_words(value) == decoded


@pytest.mark.parametrize(
    ("raw", "charset", "text"),
    [
        pytest.param(b"hello", None, "hello", id="ascii"),
        pytest.param("Grüße".encode(), "koi8-r", "Grüße", id="utf8-wins-over-hint"),
        pytest.param("Скидки".encode("koi8-r"), "koi8-r", "Скидки", id="hint"),
        pytest.param(b"caf\xe9", None, "café", id="latin1-fallback"),
        pytest.param(b"caf\xe9", "utf-16", "café", id="wide-hint-ignored"),
    ],
)
def test_decode_raw_header(raw: bytes, charset: str | None, text: str) -> None:
    assert decode_raw_header(raw, charset) == text


def test_clean_value_folds_and_cuts() -> None:
    assert clean_value("  a\r\n\tb   c  ", 100) == "a b c"
    assert clean_value("x" * 50, 10) == "x" * 10


MESSAGE = b"""\
Received: from relay.example (relay.example [192.0.2.1]) by mx.example with ESMTP
Received: from sender.example (sender.example [198.51.100.5]) by relay.example with SMTP
From: =?utf-8?q?M=C3=BCller=2C_Hans?= <hans@sender.example>
Reply-To: Other <other@elsewhere.example>
To: a@example.org, "B" <b@example.org>
Cc: c@example.org
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
Date: Tue, 2 Jan 2024 09:30:00 +0100
Message-ID: <abc@sender.example>

body
"""


def test_headers_through_parse_message() -> None:
    m = parse_message(MESSAGE)
    assert (m.from_name, m.from_addr, m.from_domain) == ("Müller, Hans", "hans@sender.example",
                                                         "sender.example")
    assert (m.reply_to_addr, m.reply_to_domain) == ("other@elsewhere.example",
                                                    "elsewhere.example")
    assert m.to_addrs == ["a@example.org", "b@example.org", "c@example.org"]
    assert m.subject == "Grüße"
    assert m.date == datetime(2024, 1, 2, 8, 30, tzinfo=UTC)
    assert m.date_raw == "Tue, 2 Jan 2024 09:30:00 +0100"
    assert m.message_id == "<abc@sender.example>"
    # Newest first, as they stand in the message.
    assert m.received == [
        ReceivedHop("relay.example", "192.0.2.1", "mx.example", "esmtp"),
        ReceivedHop("sender.example", "198.51.100.5", "relay.example", "smtp"),
    ]
    assert m.flags == set()


@pytest.mark.parametrize(
    "date",
    [pytest.param(b"Date: next Tuesday\n", id="bad"), pytest.param(b"", id="absent")],
)
def test_bad_or_missing_date_is_none_and_flagged(date: bytes) -> None:
    m = parse_message(b"From: a@example.org\nSubject: s\n" + date + b"\nbody\n")
    assert m.date is None
    assert m.flags == {"missing:date"}
    assert m.date_raw == date[6:].decode().strip()


def test_date_without_zone_through_parse_message() -> None:
    m = parse_message(b"Date: Mon, 1 Jan 2024 10:00:00\nSubject: s\n\nbody\n")
    assert m.date == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert "missing:date" not in m.flags


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_header_helpers_never_raise(value: str) -> None:
    parse_address(value)
    parse_addresses([value, value])
    parse_received(value)
    parse_date(value)
    decode_words(value)
    decode_raw_header(value.encode("utf-8", "surrogatepass"), "koi8-r")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("(" * 1500, ("", ""), id="open"),
        pytest.param("(" * 30 + "x" + ")" * 30 + " a@example.org", ("", "a@example.org"),
                     id="balanced-then-address"),
        pytest.param("a@example.org " + "(" * 30, ("", "a@example.org"), id="address-then-open"),
    ],
)
def test_deeply_nested_comments_do_not_recurse(value: str, expected: tuple[str, str]) -> None:
    # email.utils recurses once per nested "(": this used to raise RecursionError.
    assert parse_address(value) == expected
    assert parse_addresses([value]) == [a for a in expected[1:] if a]
