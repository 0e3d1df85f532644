"""Tests for spamsift.parse.mime: the MIME walk, transfer decoding, caps and fallbacks.

Every message is written here by hand. The fast parser and the standard-library
fallback are each other's oracle: a well-formed message must read the same
through both.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest

from spamsift.config import ParseLimits
from spamsift.parse import Attachment, ParsedMessage, parse_message
from spamsift.parse import mime as mime_module

PLAIN = b"""\
From: Alice Example <alice@example.org>
To: bob@example.org
Subject: lunch
Date: Mon, 1 Jan 2024 12:00:00 +0000
Message-ID: <1@example.org>

Shall we meet at noon?
"""

ALTERNATIVE = b"""\
From: shop@deals.example
Subject: Offer
Date: Mon, 1 Jan 2024 12:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Cheap watches today
--alt
Content-Type: text/html; charset=utf-8

<html><body><p>Cheap <b>watches</b> today</p></body></html>
--alt--
"""

PDF = b"%PDF-1.4 fake invoice\n" * 10
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

NESTED = b"""\
From: billing@vendor.example
Subject: Invoice
Date: Mon, 1 Jan 2024 12:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

Your invoice is attached.
--alt
Content-Type: text/html; charset=us-ascii

<p>Your invoice is <i>attached</i>.</p>
--alt--
--mixed
Content-Type: application/pdf; name="invoice.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="invoice.pdf"

""" + base64.encodebytes(PDF) + b"""\
--mixed
Content-Type: image/png; name="logo.png"
Content-Transfer-Encoding: base64
Content-ID: <logo@vendor>

""" + base64.encodebytes(PNG) + b"""\
--mixed
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

not body text
--mixed--
"""

FORWARDED = b"""\
From: Bob <bob@example.org>
To: alice@example.org
Subject: Fwd: you won
Date: Tue, 2 Jan 2024 09:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=us-ascii

Is this real?
--outer
Content-Type: message/rfc822

From: Lottery <win@prize.example>
Subject: You won
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Claim your prize <a href=3D"http://prize.example/claim">here</a>, caf=C3=A9</p>
--outer--
"""

BASE64_TEXT = b"""\
From: a@example.org
Subject: b64
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

""" + base64.encodebytes("Grüße aus Köln\n".encode())

QUOTED_PRINTABLE = b"""\
From: a@example.org
Subject: qp
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 cr=E8me, a soft=
 line break.
"""

MBOX_FROM = b"From spammer@example.com Mon Jan  1 00:00:00 2024\n" + PLAIN

# fast_mail_parser refuses base64 that does not decode; the standard library
# reads it anyway.
BROKEN_BASE64 = b"""\
From: a@example.org
Subject: broken
Date: Mon, 1 Jan 2024 12:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

readable part
--b
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

!!!!====abc=d
--b--
"""


@contextmanager
def _fallback(raw: bool = False) -> Iterator[None]:
    """Force the standard-library path (or, with ``raw``, the raw split)."""

    def refuse(*args: object) -> None:
        raise ValueError("forced by the test")

    with mock.patch.object(mime_module, "_fast_tree", refuse):
        if raw:
            with mock.patch.object(mime_module, "_stdlib_tree", refuse):
                yield
        else:
            yield


def _summary(m: ParsedMessage) -> tuple[object, ...]:
    return (m.subject, m.from_name, m.from_addr, m.to_addrs, m.date, m.text_plain.strip(),
            " ".join(m.text_html.split()), sorted(m.urls), m.attachments, m.content_types,
            m.n_parts, m.max_depth, m.flags - {"parser:fallback"})


def test_single_part() -> None:
    m = parse_message(PLAIN)
    assert m.subject == "lunch"
    assert (m.from_name, m.from_addr, m.from_domain) == ("Alice Example", "alice@example.org",
                                                         "example.org")
    assert m.to_addrs == ["bob@example.org"]
    assert m.message_id == "<1@example.org>"
    assert m.text_plain == "Shall we meet at noon?\n"
    assert m.text_html == ""
    assert m.body_text == m.text_plain
    assert (m.n_parts, m.max_depth, m.content_types) == (1, 0, ["text/plain"])
    assert m.size == len(PLAIN)
    assert m.flags == set()


def test_multipart_alternative_keeps_both_bodies() -> None:
    m = parse_message(ALTERNATIVE)
    assert m.text_plain.strip() == "Cheap watches today"
    assert " ".join(m.text_html.split()) == "Cheap watches today"
    assert m.content_types == ["multipart/alternative", "text/plain", "text/html"]
    assert (m.n_parts, m.max_depth) == (3, 1)
    assert m.charsets == ["utf-8", "utf-8"]
    assert m.body_text == m.text_plain + "\n" + m.text_html
    assert m.flags == set()


def test_nested_mixed_with_attachments() -> None:
    m = parse_message(NESTED)
    assert m.text_plain.strip() == "Your invoice is attached."
    assert " ".join(m.text_html.split()) == "Your invoice is attached."
    assert m.content_types == ["multipart/mixed", "multipart/alternative", "text/plain",
                               "text/html", "application/pdf", "image/png", "text/plain"]
    assert (m.n_parts, m.max_depth) == (7, 2)
    # Sizes are decoded sizes; the name comes from Content-Type when there is
    # no Content-Disposition filename; a text part marked attachment is one.
    assert m.attachments == [
        Attachment("invoice.pdf", "application/pdf", len(PDF)),
        Attachment("logo.png", "image/png", len(PNG)),
        Attachment("notes.txt", "text/plain", len(b"not body text")),
    ]
    assert "not body text" not in m.body_text


def test_forwarded_message_is_walked_into() -> None:
    m = parse_message(FORWARDED)
    # The outer message's headers are the message's; the inner body is text.
    assert (m.subject, m.from_addr) == ("Fwd: you won", "bob@example.org")
    assert m.text_plain.strip() == "Is this real?"
    assert " ".join(m.text_html.split()) == "Claim your prize here, café"
    assert m.urls == ["http://prize.example/claim"]
    assert m.content_types == ["multipart/mixed", "text/plain", "message/rfc822", "text/html"]
    assert m.max_depth == 2
    assert m.header("subject") == ["Fwd: you won"]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param(BASE64_TEXT, "Grüße aus Köln\n", id="base64"),
        pytest.param(QUOTED_PRINTABLE, "Café crème, a soft line break.\n", id="quoted-printable"),
    ],
)
def test_transfer_encodings_are_decoded(data: bytes, text: str) -> None:
    m = parse_message(data)
    assert m.text_plain == text
    assert not m.flags & {"charset:wrong", "charset:latin1", "parser:fallback"}


@pytest.mark.parametrize(
    ("subject", "decoded"),
    [
        pytest.param(b"=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Grüße", id="q-utf8"),
        pytest.param(b"=?UTF-8?B?0J/RgNC40LLQtdGC?=", "Привет", id="b-utf8"),
        pytest.param(b"=?iso-8859-1?q?caf=E9_cr=E8me?=", "café crème", id="q-latin1"),
        pytest.param(b"Re: =?utf-8?q?a?= =?utf-8?q?b?= end", "Re: ab end", id="adjacent-words"),
        pytest.param(b"=?utf-8?b?0J/R?= =?utf-8?b?gNC4?=", "При", id="char-split-across-words"),
        pytest.param(b"=?x-foo?q?caf=C3=A9?=", "café", id="unknown-charset"),
        pytest.param(b"=?koi8-r?b?8NLJ18XU?=", "Привет", id="koi8-r"),
        pytest.param(b"=?utf-8?b?!!!?= kept", "=?utf-8?b?!!!?= kept", id="undecodable-kept"),
    ],
)
def test_rfc2047_subjects(subject: bytes, decoded: str) -> None:
    data = b"From: a@example.org\nSubject: " + subject + b"\n\nbody\n"
    assert parse_message(data).subject == decoded
    with _fallback():
        assert parse_message(data).subject == decoded


def test_iso_2022_jp_body_and_subject() -> None:
    # Seven-bit on the wire: ASCII bytes the declared charset must still read.
    body = "いつもお世話になっております。\n".encode("iso2022_jp")
    data = (b"From: a@example.jp\nSubject: =?iso-2022-jp?B?GyRCJDckOCRfGyhK?=\n"
            b"Content-Type: text/plain; charset=iso-2022-jp\n\n" + body)
    m = parse_message(data)
    assert (m.subject, m.text_plain) == ("しじみ", "いつもお世話になっております。\n")
    assert not any(f.startswith("charset:") for f in m.flags)


def test_raw_8bit_subject_is_read_in_the_body_charset() -> None:
    data = "Subject: Скидки\nFrom: a@example.org\nContent-Type: text/plain; charset=koi8-r\n\n" \
           "Только сегодня\n".encode("koi8-r")
    for path in (lambda: parse_message(data), _fallback_parse(data), _fallback_parse(data, True)):
        m = path()
        assert (m.subject, m.text_plain) == ("Скидки", "Только сегодня\n")


def _fallback_parse(data: bytes, raw: bool = False):  # type: ignore[no-untyped-def]
    def parse() -> ParsedMessage:
        with _fallback(raw):
            return parse_message(data)

    return parse


def test_mbox_from_line_is_stripped() -> None:
    m = parse_message(MBOX_FROM)
    assert _summary(m) == _summary(parse_message(PLAIN))
    assert all(not k.startswith("from ") for k, _ in m.headers)
    assert m.size == len(MBOX_FROM)


def test_a_from_header_is_not_an_mbox_line() -> None:
    assert parse_message(b"From: a@example.org\n\nhi\n").from_addr == "a@example.org"


@pytest.mark.parametrize(
    ("data", "flags"),
    [
        pytest.param(b"", {"empty", "missing:subject", "missing:from", "missing:date",
                           "missing:body"}, id="empty"),
        pytest.param(b"\r\n \n", {"empty", "missing:subject", "missing:from", "missing:date",
                                  "missing:body"}, id="whitespace"),
        pytest.param(b"From: a@example.org\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nhi\n",
                     {"missing:subject"}, id="no-subject"),
        pytest.param(b"Subject: s\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nhi\n",
                     {"missing:from"}, id="no-from"),
        pytest.param(b"From: not an address\nSubject: s\nDate: Mon, 1 Jan 2024 10:00:00 +0000"
                     b"\n\nhi\n", {"missing:from"}, id="from-without-address"),
        pytest.param(b"From: a@example.org\nSubject: s\nDate: Mon, 1 Jan 2024 10:00:00 +0000"
                     b"\n\n \n\n", {"missing:body"}, id="blank-body"),
        pytest.param(b"From: a@example.org\nSubject: s\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
                     b"Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n",
                     # a GIF header and nothing after it: no body, and no image either
                     {"missing:body", "image:unsupported"}, id="only-an-image"),
    ],
)
def test_missing_parts_become_flags(data: bytes, flags: set[str]) -> None:
    assert parse_message(data).flags == flags


def test_empty_subject_is_not_missing() -> None:
    m = parse_message(b"From: a@example.org\nSubject:\n\nhi\n")
    assert m.subject == ""
    assert "missing:subject" not in m.flags


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PLAIN, id="plain"),
        pytest.param(ALTERNATIVE, id="alternative"),
        pytest.param(NESTED, id="nested"),
        pytest.param(FORWARDED, id="forwarded"),
        pytest.param(BASE64_TEXT, id="base64"),
        pytest.param(QUOTED_PRINTABLE, id="quoted-printable"),
    ],
)
def test_fallback_parser_reads_what_the_fast_one_reads(data: bytes) -> None:
    fast = parse_message(data)
    with _fallback():
        slow = parse_message(data)
    assert "parser:fallback" in slow.flags and "parser:raw" not in slow.flags
    assert _summary(slow) == _summary(fast)


def test_raw_split_is_the_last_resort() -> None:
    with _fallback(raw=True):
        m = parse_message(PLAIN)
    assert {"parser:fallback", "parser:raw"} <= m.flags
    assert (m.subject, m.from_addr, m.text_plain) == ("lunch", "alice@example.org",
                                                      "Shall we meet at noon?\n")


def test_broken_base64_falls_back_to_the_standard_library() -> None:
    m = parse_message(BROKEN_BASE64)
    assert "parser:fallback" in m.flags and "parser:raw" not in m.flags
    assert "readable part" in m.text_plain
    assert [a.content_type for a in m.attachments] == ["application/octet-stream"]


def test_message_bytes_cap() -> None:
    data = PLAIN + b"x" * 10_000
    m = parse_message(data, ParseLimits(max_message_bytes=len(PLAIN) + 100))
    assert "truncated:bytes" in m.flags
    assert m.size == len(data)
    assert m.text_plain.startswith("Shall we meet at noon?\nxxx")
    assert len(m.text_plain) == 23 + 100


def test_text_cap() -> None:
    m = parse_message(PLAIN + b"y" * 500, ParseLimits(max_text_chars=50))
    assert len(m.text_plain) == 50
    assert "truncated:text" in m.flags


def test_text_cap_inside_a_multibyte_character_is_not_a_wrong_charset() -> None:
    body = "é" * 40  # two bytes each in UTF-8; the cut lands mid-character
    data = b"Subject: s\nContent-Type: text/plain; charset=utf-8\n\n" + body.encode()
    m = parse_message(data, ParseLimits(max_text_chars=7))
    assert m.text_plain == "é" * 7
    assert not any(f.startswith("charset:") for f in m.flags)


def _parts(n: int) -> bytes:
    head = b"Subject: many\nContent-Type: multipart/mixed; boundary=XX\n\n"
    parts = b"".join(b"--XX\nContent-Type: text/plain\n\npart %d\n" % i for i in range(n))
    return head + parts + b"--XX--\n"


def _nested(levels: int) -> bytes:
    out = b"Subject: deep\nContent-Type: multipart/mixed; boundary=b00000\n\n"
    for i in range(1, levels):
        out += b"--b%05d\nContent-Type: multipart/mixed; boundary=b%05d\n\n" % (i - 1, i)
    out += b"--b%05d\nContent-Type: text/plain\n\ndeep text\n" % (levels - 1)
    for i in reversed(range(levels)):
        out += b"--b%05d--\n" % i
    return out


@pytest.mark.parametrize("fallback", [False, True], ids=["fast", "stdlib"])
def test_parts_cap(fallback: bool) -> None:
    with _fallback() if fallback else _noop():
        m = parse_message(_parts(30), ParseLimits(max_parts=10))
    assert "truncated:parts" in m.flags
    assert m.n_parts == 11
    assert m.text_plain.splitlines() == [f"part {i}" for i in range(9)]


@pytest.mark.parametrize("fallback", [False, True], ids=["fast", "stdlib"])
def test_depth_cap(fallback: bool) -> None:
    with _fallback() if fallback else _noop():
        m = parse_message(_nested(8), ParseLimits(max_depth=3))
    assert "truncated:depth" in m.flags
    assert m.max_depth == 3
    assert "deep text" not in m.text_plain


def test_within_the_caps_nothing_is_flagged() -> None:
    m = parse_message(_nested(8))
    assert (m.max_depth, m.text_plain) == (8, "deep text")
    assert m.flags == {"missing:from", "missing:date"}


@contextmanager
def _noop() -> Iterator[None]:
    yield


def test_header_count_cap() -> None:
    head = b"".join(b"X-Filler-%d: v\n" % i for i in range(20))
    m = parse_message(head + b"Subject: late\n\nbody\n", ParseLimits(max_headers=10))
    assert "truncated:headers" in m.flags
    assert len(m.headers) == 10
    with _fallback():
        assert "truncated:headers" in parse_message(
            head + b"\nbody\n", ParseLimits(max_headers=10)).flags


def test_one_huge_header_is_cut_and_the_rest_still_read() -> None:
    data = b"X-Junk: " + b"j" * 300_000 + b"\nSubject: after\nFrom: a@example.org\n\nbody\n"
    m = parse_message(data)
    assert m.subject == "after" and m.from_addr == "a@example.org"
    assert len(m.header("x-junk")[0]) == 1000
    assert "truncated:headers" not in m.flags


def test_headers_are_lower_cased_unfolded_and_kept_in_order() -> None:
    data = (b"Received: from a by b\nReceived: from c\n by d\nX-Mailer: Foo 1.0\n"
            b"Subject: one\n  two\n\nbody\n")
    m = parse_message(data)
    assert m.header("Received") == ["from a by b", "from c by d"]
    assert m.header("subject") == ["one two"]
    assert m.mailer == "Foo 1.0"
    assert [k for k, _ in m.headers] == ["received", "received", "x-mailer", "subject"]


def test_user_agent_is_the_mailer_when_x_mailer_is_absent() -> None:
    m = parse_message(b"User-Agent: Mutt/2.0\nSubject: s\n\nhi\n")
    assert m.mailer == "Mutt/2.0"


def test_text_subtypes_without_a_name_are_read_as_text() -> None:
    data = b"Subject: s\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n"
    m = parse_message(data)
    assert m.text_plain == "BEGIN:VCALENDAR\n"
    assert m.attachments == []


def test_named_text_subtypes_are_attachments() -> None:
    data = b"Subject: s\nContent-Type: text/calendar; name=invite.ics\n\nBEGIN:VCALENDAR\n"
    m = parse_message(data)
    assert m.attachments == [Attachment("invite.ics", "text/calendar", 16)]
    assert "missing:body" in m.flags


def test_many_encoded_word_marks_go_to_the_standard_library() -> None:
    # The fast parser's time grows with the square of "=?" marks in a header.
    data = b"Subject: " + b"=?" * 20_001 + b"\nFrom: a@example.org\n\nbody\n"
    with mock.patch.object(mime_module, "_fast_tree", side_effect=AssertionError) as fast:
        m = parse_message(data)
    fast.assert_not_called()
    assert "parser:fallback" in m.flags and "parser:raw" not in m.flags
    assert (m.from_addr, m.text_plain) == ("a@example.org", "body\n")


def test_boundary_lines_past_the_cap_are_cut() -> None:
    data = _parts(20_001)
    m = parse_message(data, ParseLimits(max_parts=100_000))
    assert "truncated:parts" in m.flags
    assert m.n_parts <= 20_001
    assert "part 0" in m.text_plain
