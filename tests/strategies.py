"""Hypothesis strategies shared by the test suite, kept in one place.

The message strategies build mail the way hostile senders do: plausible headers
with encoded words, raw 8-bit bytes and bad charset labels; MIME trees with
random nesting, boundaries and transfer encodings, some of them broken. They are
for "never crashes, always bounded" properties, not for checking decoded values.
"""

from __future__ import annotations

import base64
import quopri

from hypothesis import strategies as st

__all__ = [
    "arbitrary_bytes",
    "charset_labels",
    "header_lines",
    "message_bytes",
    "mime_trees",
    "mangled_messages",
]

#: Anything at all, including NULs, lone CRs and invalid UTF-8.
arbitrary_bytes = st.binary(max_size=4096)

#: Real labels, aliases mail uses, and labels that name no charset or no text codec.
charset_labels = st.sampled_from(
    [
        "utf-8", "UTF-8", "us-ascii", "iso-8859-1", "latin1", "windows-1251", "koi8-r",
        "shift_jis", "euc-jp", "gb2312", "big5", "utf-16", "utf-7", "ks_c_5601-1987",
        "x-foo", "unknown-8bit", "", "\"utf-8\"", "zlib", "base64", "rot13", "undefined",
        "punycode", "idna", "unicode_escape", "a" * 60,
    ]
)

_HEADER_NAMES = st.sampled_from(
    [
        "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "Received",
        "X-Mailer", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "MIME-Version", "X-Anything",
    ]
)

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
)


@st.composite
def _encoded_word(draw: st.DrawFn) -> bytes:
    charset = draw(charset_labels).strip('"') or "utf-8"
    raw = draw(st.one_of(_TEXT.map(lambda s: s.encode("utf-8")), st.binary(max_size=30)))
    if draw(st.booleans()):
        payload = base64.b64encode(raw)
        enc = b"B"
    else:
        payload = quopri.encodestring(raw, header=True).replace(b"\n", b"")
        enc = b"Q"
    if draw(st.booleans()):  # sometimes broken on purpose
        payload = payload[: draw(st.integers(0, len(payload)))]
    return b"=?" + charset.encode("ascii", "replace") + b"?" + enc + b"?" + payload + b"?="


_header_value = st.lists(
    st.one_of(
        _TEXT.map(lambda s: s.encode("utf-8")),
        st.binary(max_size=40),
        _encoded_word(),
        st.sampled_from(
            [b"<a@example.com>", b"a@b", b"\"Doe, J\" <j@x.org>", b"<<<<", b"(comment",
             b"Mon, 1 Jan 2024 10:00:00 +0000", b"from h.example ([10.0.0.1]) by mx",
             b"; charset=", b"; boundary=\"b\"", b"\n\t", b"\r\n "]
        ),
    ),
    max_size=5,
).map(b" ".join)


@st.composite
def header_lines(draw: st.DrawFn, max_headers: int = 8) -> bytes:
    """A header block, without the blank line that ends it."""
    lines = draw(st.lists(st.tuples(_HEADER_NAMES, _header_value), max_size=max_headers))
    return b"".join(name.encode() + b": " + value + b"\n" for name, value in lines)


def _encode_body(draw: st.DrawFn, body: bytes) -> tuple[bytes, bytes]:
    cte = draw(st.sampled_from([b"", b"7bit", b"8bit", b"base64", b"quoted-printable", b"x-uu"]))
    if cte == b"base64":
        body = base64.encodebytes(body)
    elif cte == b"quoted-printable":
        body = quopri.encodestring(body)
    if draw(st.integers(0, 9)) == 0:  # truncate the encoded form now and then
        body = body[: draw(st.integers(0, len(body)))]
    head = b"Content-Transfer-Encoding: " + cte + b"\n" if cte else b""
    return head, body


@st.composite
def _leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from([b"text/plain", b"text/html", b"application/zip",
                                  b"image/gif", b"text/calendar", b"bogus"]))
    charset = draw(charset_labels).encode("ascii", "replace")
    text = draw(st.one_of(
        _TEXT.map(lambda s: s.encode("utf-8")),
        st.binary(max_size=200),
        st.sampled_from([b"<p>V<!-- x -->iagra <a href='http://x.example'>www.y.example</a>",
                         b"<div style='display:none'>hidden</div><img src=cid:1>",
                         b"visit http://spam.example/path, now!"]),
    ))
    cte_head, body = _encode_body(draw, text)
    head = b"Content-Type: " + ctype + b"; charset=" + charset + b"\n" + cte_head
    if draw(st.booleans()):
        head += b"Content-Disposition: attachment; filename=\"f.bin\"\n"
    return head + b"\n" + body


def _multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        kind = draw(st.sampled_from([b"mixed", b"alternative", b"related", b"digest"]))
        boundary = draw(st.sampled_from([b"b", b"=_x", b"a b", b"", b"--"]))
        boundary += str(draw(st.integers(0, 999))).encode()
        parts = draw(st.lists(children, max_size=4))
        if draw(st.integers(0, 9)) == 0:
            # message/rfc822 around one child instead of a multipart.
            inner = parts[0] if parts else b"\n"
            return b"Content-Type: message/rfc822\n\n" + inner
        out = b"Content-Type: multipart/" + kind + b"; boundary=\"" + boundary + b"\"\n\n"
        out += b"preamble\n"
        for p in parts:
            out += b"--" + boundary + b"\n" + p + b"\n"
        if draw(st.booleans()):  # closing delimiter sometimes missing
            out += b"--" + boundary + b"--\n"
        return out

    return build()


#: One MIME entity (headers + body) with random nesting.
mime_trees = st.recursive(_leaf(), _multipart, max_leaves=8)


@st.composite
def message_bytes(draw: st.DrawFn) -> bytes:
    """A message-like byte string: random headers, then a random MIME tree."""
    prefix = draw(st.sampled_from([b"", b"From sender@example.com Mon Jan  1 00:00:00 2024\n"]))
    msg = prefix + draw(header_lines()) + b"MIME-Version: 1.0\n" + draw(mime_trees)
    if draw(st.booleans()):
        msg = msg.replace(b"\n", b"\r\n")
    return msg


@st.composite
def mangled_messages(draw: st.DrawFn) -> bytes:
    """A message_bytes value with random bytes spliced in, cut out or overwritten."""
    msg = bytearray(draw(message_bytes()))
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(msg)))
        op = draw(st.sampled_from(["insert", "delete", "overwrite"]))
        chunk = draw(st.binary(min_size=1, max_size=16))
        if op == "insert":
            msg[pos:pos] = chunk
        elif op == "delete":
            del msg[pos : pos + len(chunk)]
        else:
            msg[pos : pos + len(chunk)] = chunk
    return bytes(msg)
