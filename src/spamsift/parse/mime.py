"""Raw bytes to :class:`ParsedMessage`: the MIME walk, with limits.

The fast path is ``fast_mail_parser`` (Rust; ~38k messages/s on the SpamAssassin
corpus here against ~8.9k/s for the standard library's ``compat32`` parser, one
core). Its leaves come transfer-decoded; the charset is ours to apply. What it
rejects (broken base64: 11 of 6,046 corpus messages; nesting past 256 levels)
or would be slow on (tens of thousands of encoded-word marks) goes to the
standard library's ``compat32`` parser; what that cannot take either (nesting
past ~1,000 levels raises ``RecursionError``) is read as one header block and
one text body. The top-level headers are read from the
raw bytes here, whichever path reads the body, so all three decode them alike.
Every message gets a ParsedMessage; the path taken and every cap hit are
recorded in ``flags``.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import re
import time
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import fast_mail_parser as fmp

from spamsift.config import ParseLimits
from spamsift.parse.charsets import ascii_compatible, decode_text
from spamsift.parse.extract import extract_attachments
from spamsift.parse.headers import (
    clean_value,
    decode_raw_header,
    decode_words,
    parse_address,
    parse_addresses,
    parse_date,
    parse_received,
)
from spamsift.parse.html import MAX_MISMATCHED_HOSTS, html_to_text
from spamsift.parse.identity import strip_mbox_from
from spamsift.parse.marks import cap_mark_runs
from spamsift.parse.message import HEAD_BYTES, Attachment, HtmlSignals, ParsedMessage
from spamsift.parse.urls import find_urls

__all__ = ["parse_message"]

_CHARSET = re.compile(r"charset\s*=\s*\"?'?([A-Za-z0-9_.:+-]{1,40})", re.I)
_NAME = re.compile(r"\bname\s*=\s*\"?([^\";]{1,255})", re.I)
# One header field with its continuation lines. Each piece is a single
# character class, so a match is one linear scan (in C) however hostile the line.
_FIELD = re.compile(rb"([!-9;-~]{1,200})[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)\n?")
_MAX_HEADER_VALUE = 1000
# Encoded-word marks ("=?" and "?=") past which the fast parser is not tried.
# At 20,000 its worst case (all in one header) is ~0.1 s here; the most in any
# message of the SpamAssassin corpus is 100.
_MAX_WORD_MARKS = 20_000
# Lines starting "--" (possible boundaries) past which the message is cut.
# 20,000 cost the fast parser ~0.02 s and compat32 ~0.5 s here; the most in any
# corpus message is 29.
_MAX_DELIMITERS = 20_000
# compat32 parses header parameters (boundary, charset, filename) in quadratic
# time: a Content-Type of 64,000 escaped quotes and semicolons took it 9 s here.
# No real parameter list comes near this length.
_MAX_PARAM_HEADER = 1000
# Wall-clock budget for the walk of one message; the caps below keep normal mail
# far under it, it only stops a pathological combination of them.
_WALK_SECONDS = 2.0


@dataclass(slots=True)
class _Node:
    """One MIME part as either parser gives it."""

    content_type: str
    headers: dict[str, list[str]]
    filename: str
    disposition: str
    content: bytes | None
    children: list[Any] = field(default_factory=list)


def _read_fields(data: bytes, limits: ParseLimits) -> tuple[list[tuple[str, bytes]], int]:
    """The top-level header fields as raw (name, value) bytes, and where the body starts.

    Read here rather than taken from either parser, so that all three paths
    decode them alike: the fast parser reads 8-bit header bytes as latin-1 and
    replaces a character split across encoded words; compat32 replaces 8-bit
    bytes. The block ends at the first blank line, or, as compat32 has it, at
    the first line that is not a header. One more field than the cap is read so
    that the cap is seen and flagged.
    """
    fields: list[tuple[str, bytes]] = []
    pos, end = 0, len(data)
    while pos < end and len(fields) <= limits.max_headers:
        if data.startswith((b"\n", b"\r\n"), pos):
            return fields, data.index(b"\n", pos) + 1
        m = _FIELD.match(data, pos)
        if m is None:
            break
        start, stop = m.span(2)
        value = data[start : min(stop, start + 4 * _MAX_HEADER_VALUE)]
        fields.append((m.group(1).decode("ascii"), value.strip()))
        pos = m.end()
    return fields, pos


def _fast_tree(data: bytes) -> Any:
    return fmp.parse_email_tree(data)


def _latin1(value: Any) -> str:
    # compat32 keeps a header's 8-bit bytes as surrogate escapes, which no later
    # stage could encode; as latin-1 code points they are text, as the fast
    # parser gives them.
    return str(value).encode("utf-8", "surrogateescape").decode("latin-1")


class _BoundedCompat32(email.policy.Compat32):
    """compat32, with every header value it reads cut to ``_MAX_PARAM_HEADER``.

    The email package reads header values through ``header_fetch_parse``, the
    parameter parser included, so the cut bounds its quadratic time. Our own
    code reads raw values (``raw_items``) and is unaffected.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        return super().header_fetch_parse(name, value[:_MAX_PARAM_HEADER])


_COMPAT32 = _BoundedCompat32()


def _stdlib_tree(data: bytes, limits: ParseLimits, flags: set[str]) -> _Node:
    msg = email.message_from_bytes(data, policy=_COMPAT32)
    budget = limits.max_parts + 1  # one over, so the walk sees and flags the excess

    def headers_of(m: email.message.Message) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k, v in islice(m.raw_items(), limits.max_headers):
            out.setdefault(_latin1(k), []).append(_latin1(v))
        return out

    def convert(m: email.message.Message, depth: int) -> _Node:
        nonlocal budget
        budget -= 1
        node = _Node(_latin1(m.get_content_type()), headers_of(m), _latin1(m.get_filename("")),
                     m.get_content_disposition() or "", None)
        if m.is_multipart():
            payload = m.get_payload()
            if not isinstance(payload, list):
                payload = []
            if depth >= limits.max_depth and payload:
                flags.add("truncated:depth")
                payload = []
            for p in payload:
                if budget <= 0:
                    flags.add("truncated:parts")
                    break
                node.children.append(convert(p, depth + 1))
        else:
            raw = m.get_payload(decode=True)
            node.content = raw if isinstance(raw, bytes) else b""
        return node

    return convert(msg, 0)


def _raw_tree(data: bytes, limits: ParseLimits) -> _Node:
    """Last resort: one header block, one body, no MIME."""
    fields, body_start = _read_fields(data, limits)
    headers: dict[str, list[str]] = {}
    for name, value in fields:
        headers.setdefault(name, []).append(value.decode("latin-1"))
    return _Node("text/plain", headers, "", "", data[body_start:])


def _ctype_header(headers: dict[str, list[str]]) -> str:
    for k, vs in headers.items():
        if k.lower() == "content-type" and vs:
            return vs[0][:_MAX_PARAM_HEADER]
    return ""


def parse_message(data: bytes, limits: ParseLimits | None = None) -> ParsedMessage:
    """Parse raw RFC 822 bytes. Never raises on bad input: flags say what happened.

    Examples
    --------
    >>> m = parse_message(b"Subject: hi\\n\\nhello")
    >>> m.subject, m.text_plain.strip()
    ('hi', 'hello')
    """
    limits = limits or ParseLimits()
    flags: set[str] = set()
    size = len(data)
    if size > limits.max_message_bytes:
        data = data[: limits.max_message_bytes]
        flags.add("truncated:bytes")
    # An mbox "From " separator is storage, not mail: whether it is there says
    # where a file was kept, not what it is, so it must not reach the features.
    data = strip_mbox_from(data)
    head = data[:HEAD_BYTES]
    if not data or data.isspace():
        flags.add("empty")
    data = _cap_delimiters(data, flags)
    fields, pos = _read_fields(data, limits)
    if len(fields) > limits.max_headers:
        data = _cap_header_block(data, pos, flags)
    root = _read_tree(data, limits, flags)
    msg = _build(root, fields, size, limits, flags)
    msg.head = head
    return msg


def _cap_header_block(data: bytes, pos: int, flags: set[str]) -> bytes:
    """The message with its header block cut at ``pos``, the body kept.

    Both parsers read every header field before we see any: 500,000 short fields
    (6 MB) cost 0.9 s here, most of it building their maps. Fields past the cap
    are never read, so they need not be parsed.
    """
    ends = [i for i in (data.find(b"\n\n", pos), data.find(b"\n\r\n", pos)) if i >= 0]
    flags.add("truncated:headers")
    return data[:pos] + (data[min(ends):] if ends else b"\n")


def _cap_delimiters(data: bytes, flags: set[str]) -> bytes:
    """Cut the message after ``_MAX_DELIMITERS`` lines that could be MIME boundaries.

    fast_mail_parser builds its whole tree before we walk 200 parts of it: 2.6
    million empty parts (10 MB of "--X" lines) took it 3.0 s here. No message
    needs that many boundary lines to say what it has to say.
    """
    if data.count(b"\n--") <= _MAX_DELIMITERS:
        return data
    pos = 0
    for _ in range(_MAX_DELIMITERS):
        pos = data.find(b"\n--", pos) + 3
    flags.add("truncated:parts")
    return data[:pos]


def _read_tree(data: bytes, limits: ParseLimits, flags: set[str]) -> Any:
    """The MIME tree from the first parser that takes the message; flags say which."""
    # fast_mail_parser's time grows with the square of the encoded-word marks in
    # one header: 128,000 "=?" in a From header took it 1.9 s here, a megabyte
    # of them minutes. Past the cap the message goes to compat32, which decodes
    # no header words (we decode a bounded prefix of each ourselves).
    if data.count(b"=?") + data.count(b"?=") <= _MAX_WORD_MARKS:
        # Broad catches on purpose: whatever either parser raises on hostile
        # bytes (ParseError, RecursionError past ~1,000 nested parts, odd
        # errors inside the email package), the next path still reads the
        # message, and the flag says which path did.
        try:
            return _fast_tree(data)
        except Exception:
            pass
    flags.add("parser:fallback")
    try:
        return _stdlib_tree(data, limits, flags)
    except Exception:
        flags.add("parser:raw")
        return _raw_tree(data, limits)


def _build(
    root: Any, fields: list[tuple[str, bytes]], size: int, limits: ParseLimits,
    flags: set[str],
) -> ParsedMessage:
    plain: list[str] = []
    html_text: list[str] = []
    html = HtmlSignals()
    links: list[str] = []
    attachments: list[Attachment] = []
    ctypes: list[str] = []
    charsets: list[str] = []
    to_extract: list[tuple[bytes, str, str]] = []
    text_budget = limits.max_text_chars
    n_parts = max_depth = 0
    deadline = time.monotonic() + _WALK_SECONDS
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        n_parts += 1
        if n_parts > limits.max_parts:
            flags.add("truncated:parts")
            break
        if time.monotonic() > deadline:
            flags.add("truncated:time")
            break
        max_depth = max(max_depth, depth)
        ctype = (node.content_type or "text/plain").lower()[:100]
        ctypes.append(ctype)
        children = node.children
        if children:
            if depth >= limits.max_depth:
                flags.add("truncated:depth")
            else:
                stack.extend((c, depth + 1) for c in reversed(children))
            continue
        content = node.content
        if content is None:
            continue
        disp = (node.disposition or "").lower()
        fname = node.filename or ""
        if not fname:
            m = _NAME.search(_ctype_header(node.headers))
            fname = m.group(1).strip() if m else ""
        fname = decode_words(fname)  # Outlook writes names as encoded words
        is_text = ctype.startswith("text/") and disp != "attachment" and not (
            fname and ctype not in ("text/plain", "text/html"))
        if not is_text:
            attachments.append(Attachment(fname[:255], ctype, len(content)))
            if limits.extract:
                if len(to_extract) < limits.max_extract_parts:
                    m = _CHARSET.search(_ctype_header(node.headers))
                    to_extract.append((content, f"{ctype}; charset={m.group(1)}" if m
                                       else ctype, fname))
                else:
                    flags.add("truncated:extract_parts")
            continue
        if text_budget <= 0:
            flags.add("truncated:text")
            continue
        m = _CHARSET.search(_ctype_header(node.headers))
        declared = m.group(1) if m else None
        if declared:
            charsets.append(declared.lower())
        cut = content[: text_budget * 4]
        text, cflag = decode_text(cut, declared, final=len(cut) == len(content))
        if cflag:
            flags.add(cflag)
        # One line ending whatever the source: quoted-printable decodes to CRLF,
        # base64 and 8bit keep what the sender wrote.
        text = text.replace("\r\n", "\n")
        text, n_runs = cap_mark_runs(text)
        if n_runs:
            flags.add("truncated:marks")
        if ctype == "text/html":
            vis, sig, hl = html_to_text(text, limits.max_html_bytes, flags)
            # Character references ("&#769;" ...), tags and comments between runs
            # make new runs of marks once the markup is gone.
            vis, n_runs = cap_mark_runs(vis)
            if n_runs:
                flags.add("truncated:marks")
            _merge_html(html, sig)
            links.extend(hl)
            html_text.append(vis[:text_budget])
            text_budget -= len(vis)
        else:
            plain.append(text[:text_budget])
            text_budget -= len(text)
        if text_budget <= 0:
            flags.add("truncated:text")

    # Headers with raw 8-bit bytes are most likely in the body's charset.
    hint = next((c for c in charsets if ascii_compatible(c)), None)
    headers = _headers(fields, hint, limits, flags)

    def first(name: str) -> str | None:
        for k, v in headers:
            if k == name:
                return v
        return None

    subject = first("subject")
    from_name, from_addr = parse_address(first("from") or "")
    _, reply_to = parse_address(first("reply-to") or "")
    to_addrs = parse_addresses([v for k, v in headers if k in ("to", "cc")])
    date_raw = first("date") or ""
    date = parse_date(date_raw) if date_raw else None
    received = [parse_received(v) for k, v in headers if k == "received"][:50]
    for name, present in (("subject", subject is not None), ("from", bool(from_addr)),
                          ("date", date is not None)):
        if not present:
            flags.add(f"missing:{name}")

    text_plain = "\n".join(plain)
    text_html = "\n".join(html_text)
    urls = links[: limits.max_urls]
    if len(urls) < limits.max_urls:
        urls += find_urls(text_plain, limits.max_urls - len(urls))
    # Attachments are read after the walk, on a deadline of their own.
    parts = extract_attachments(to_extract, limits, flags) if to_extract else []
    for part in parts:
        urls += part.urls[: limits.max_urls - len(urls)]
    if not (text_plain.strip() or text_html.strip()):
        flags.add("missing:body")
    return ParsedMessage(
        size=size,
        headers=headers,
        subject=subject,
        from_name=from_name,
        from_addr=from_addr,
        reply_to_addr=reply_to,
        to_addrs=to_addrs,
        date=date,
        date_raw=date_raw[:200],
        message_id=(first("message-id") or "")[:300],
        mailer=(first("x-mailer") or first("user-agent") or "")[:200],
        received=received,
        text_plain=text_plain,
        text_html=text_html,
        html=html,
        urls=urls,
        attachments=attachments[:100],
        content_types=ctypes[:200],
        charsets=charsets[:50],
        n_parts=n_parts,
        max_depth=max_depth,
        flags=flags,
        parts=parts,
    )


def _headers(
    fields: list[tuple[str, bytes]], hint: str | None, limits: ParseLimits, flags: set[str]
) -> list[tuple[str, str]]:
    """(lower-case name, decoded value cut to length) pairs, within the header caps.

    The byte cap counts what is kept, so a megabyte-long From header is cut to
    its first kilobyte and the Subject after it still counts.
    """
    headers: list[tuple[str, str]] = []
    kept = 0
    for name, raw in fields:
        if len(headers) >= limits.max_headers or kept > limits.max_header_bytes:
            flags.add("truncated:headers")
            break
        value = clean_value(decode_raw_header(raw, hint), _MAX_HEADER_VALUE)
        kept += len(value)
        headers.append((name.lower()[:100], value))
    return headers


def _merge_html(into: HtmlSignals, sig: HtmlSignals) -> None:
    into.n_links += sig.n_links
    into.n_images += sig.n_images
    into.n_forms += sig.n_forms
    into.n_scripts += sig.n_scripts
    into.n_comments += sig.n_comments
    into.hidden_chars += sig.hidden_chars
    into.mismatched_links += sig.mismatched_links
    room = MAX_MISMATCHED_HOSTS - len(into.mismatched_hosts)
    into.mismatched_hosts.extend(sig.mismatched_hosts[:max(room, 0)])
    for k, v in sig.tags.items():
        into.tags[k] = into.tags.get(k, 0) + v
