"""Header values to structured fields: addresses, the Received chain, the Date.

Every value is cut to a bounded length before any parser sees it: Python's
header parsers go slow on some long address or encoded-word headers. Encoded
words (RFC 2047) and raw 8-bit bytes are decoded here with the same charset
fallbacks as bodies, so a label Python does not know still gives text.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from spamsift.parse.charsets import ascii_compatible, decode_text
from spamsift.parse.message import ReceivedHop

__all__ = [
    "parse_address",
    "parse_addresses",
    "parse_received",
    "parse_date",
    "clean_value",
    "decode_words",
    "decode_raw_header",
]

_MAX_ADDR_HEADER = 2000
_MAX_PARENS = 20
_COMMENT = re.compile(r"\([^()]*\)")
_WS = re.compile(r"\s+")
_RCV_FROM = re.compile(r"\s*from\s+([^\s()]{1,255})", re.I)
_RCV_BY = re.compile(r"\bby\s+([^\s();]{1,255})", re.I)
_RCV_WITH = re.compile(r"\bwith\s+([A-Za-z0-9-]{1,40})", re.I)
_IP = re.compile(r"(?<![\d.])((?:\d{1,3}\.){3}\d{1,3})(?![\d.])")
_IP_BRACKETED = re.compile(r"\[((?:\d{1,3}\.){3}\d{1,3})\]")
_ADDR_OK = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,255}$")
# The last <addr-spec> in a value: what a reader takes as the address when a
# decoded display name ("Müller, Hans") has made the value unparseable.
_ANGLE_ADDR = re.compile(r"<([^<>@\s]{1,200}@[^<>@\s]{1,255})>")
# Bounded pieces, so a value of nothing but "=?" costs one scan.
_WORD = re.compile(r"=\?([^?\s*]{1,40})(?:\*[^?\s]{0,20})?\?([bBqQ])\?([^?\s]{0,1000})\?=")
_MAX_DECODE = 4000


def clean_value(value: str, limit: int) -> str:
    """Fold whitespace and cut to ``limit`` characters."""
    return _WS.sub(" ", value[: limit * 2]).strip()[:limit]


def decode_words(value: str) -> str:
    """``value`` with its RFC 2047 encoded words decoded, whatever their charset.

    Adjacent words with one charset are decoded together, so a character split
    across two words comes back whole; whitespace between words is dropped as
    the RFC says. A word that does not decode, or that is glued to an "@" as
    part of an address, stays as it was.

    >>> decode_words("=?x-foo?q?caf=C3=A9?= =?utf-8?b?IG5vdw==?=")
    'café now'
    """
    if "=?" not in value:
        return value
    value = value[:_MAX_DECODE]
    out: list[str] = []
    run: list[bytes] = []  # bytes of adjacent words that share run_charset
    run_charset = ""
    after_word = False
    pos = 0
    for m in _WORD.finditer(value):
        gap = value[pos : m.start()]
        pos = m.end()
        # Glued to an "@", the word is (illegally) part of an address, where
        # decoding would make a second "@" out of the local part.
        glued = value[m.end() : m.end() + 1] == "@" or value[m.start() - 1 : m.start()] == "@"
        raw = None if glued else _word_bytes(m.group(2), m.group(3))
        if raw is None:
            _flush(out, run, run_charset)
            out.append(gap + m.group(0))
            after_word = False
            continue
        joined = after_word and (not gap or gap.isspace())
        charset = m.group(1).lower()
        if joined and charset == run_charset:
            run.append(raw)
            continue
        _flush(out, run, run_charset)
        if not joined:
            out.append(gap)
        run, run_charset, after_word = [raw], charset, True
    _flush(out, run, run_charset)
    out.append(value[pos:])
    return "".join(out)


# Header values skip charset detection: it costs 1-4 ms a value here (measured
# on 40 B to 3 KB of cp1251 and random bytes), so a thousand hostile headers
# would take seconds, and on a few words it guesses poorly anyway.
def _flush(out: list[str], run: list[bytes], charset: str) -> None:
    if run:
        out.append(decode_text(b"".join(run), charset, detect=False)[0])
        run.clear()


def _word_bytes(enc: str, payload: str) -> bytes | None:
    try:
        data = payload.encode("ascii")
        if enc in "bB":
            raw = binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        else:
            raw = binascii.a2b_qp(data, header=True)
    except (binascii.Error, UnicodeError, ValueError):
        return None
    # Non-strict base64 skips what is not base64: nothing left means garbage.
    return raw if raw or not data else None


def decode_raw_header(raw: bytes, charset: str | None = None) -> str:
    """A raw header value as text: its 8-bit bytes, then its encoded words.

    Raw 8-bit bytes are UTF-8 when they decode as UTF-8 (a strong sign on
    anything non-ASCII), else in ``charset``, the message's declared one, as
    senders who write raw 8-bit headers write them in the body's charset, else
    latin-1 (read as windows-1252).

    >>> decode_raw_header("Скидки =?utf-8?q?50=25?=".encode("koi8-r"), "koi8-r")
    'Скидки 50%'
    """
    if raw.isascii():
        text = raw.decode("ascii")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = decode_text(raw, charset if ascii_compatible(charset) else None,
                               detect=False)[0]
    return decode_words(text)


def _defuse(value: str) -> str:
    # email.utils reads nested comments by recursion, one level per "(": a
    # From of a thousand "(" raised RecursionError. Comments hold no address,
    # so past a few parentheses they are removed here, innermost first, and
    # unmatched parentheses become spaces.
    if value.count("(") <= _MAX_PARENS:
        return value
    n = 1
    while n:
        value, n = _COMMENT.subn(" ", value)
    return value.replace("(", " ").replace(")", " ")


def parse_address(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of the first address in ``value``.

    >>> parse_address("Müller, Hans <H@Example.de>")
    ('Müller, Hans', 'h@example.de')
    """
    value = _defuse(value[:_MAX_ADDR_HEADER])
    name, addr = parseaddr(value)
    addr = addr.strip().strip("<>").lower()
    if not _ADDR_OK.match(addr):
        # Decoded display names can hold commas or quotes that end parseaddr's
        # reading early: take the bracketed address and what stands before it.
        m = _ANGLE_ADDR.search(value)
        if m is None:
            return name.strip()[:200], ""
        addr = m.group(1).lower()
        name = value[: m.start()].strip().strip('"').strip()
        if not _ADDR_OK.match(addr):
            return name[:200], ""
    return name.strip()[:200], addr


def parse_addresses(values: list[str], limit: int = 100) -> list[str]:
    """Lower-case addresses of all ``values`` (To, Cc), at most ``limit``."""
    joined = [_defuse(v[:_MAX_ADDR_HEADER]) for v in values]
    out = []
    for _, addr in getaddresses(joined)[:limit]:
        addr = addr.strip().lower()
        if _ADDR_OK.match(addr):
            out.append(addr)
    return out


def parse_received(value: str) -> ReceivedHop:
    """The sending host, its IP, the receiving host and the protocol of one hop.

    The IP is looked for between the sending host and ``by``: the bracketed one
    (Postfix, Sendmail, Exim: ``(rdns [192.0.2.1])``) if there is one, else the
    last bare one (qmail: ``(HELO name) (192.0.2.1)``, where a forged HELO may
    itself be an IP).

    >>> parse_received("from a.example (a.example [192.0.2.1]) by mx.example with ESMTP")
    ReceivedHop(from_host='a.example', from_ip='192.0.2.1', by_host='mx.example', protocol='esmtp')
    """
    v = value[:1000]
    hop = ReceivedHop()
    sent = _RCV_FROM.match(v)
    by = _RCV_BY.search(v, sent.end() if sent else 0)
    if by:
        hop.by_host = by.group(1).lower()
    if sent:
        hop.from_host = sent.group(1).lower().strip("[]")
        detail = v[sent.end() : by.start() if by else len(v)]
        bracketed = _IP_BRACKETED.search(detail)
        if bracketed:
            hop.from_ip = bracketed.group(1)
        elif _IP.fullmatch(hop.from_host):
            hop.from_ip = hop.from_host
        elif bare := _IP.findall(detail):
            hop.from_ip = bare[-1]
    m = _RCV_WITH.search(v)
    if m:
        hop.protocol = m.group(1).lower()
    return hop


def parse_date(value: str) -> datetime | None:
    """A timezone-aware datetime, or None when the header is not a date."""
    try:
        dt = parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt
