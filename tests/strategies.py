"""Hypothesis strategies shared by the test suite, kept in one place.

The message strategies build mail the way hostile senders do: plausible headers
with encoded words, raw 8-bit bytes and bad charset labels; MIME trees with
random nesting, boundaries and transfer encodings, some of them broken; HTML tag
soup with deep nesting and runs of open formatting elements; text of mixed scripts
with combining-mark floods, non-characters and invisible controls. They are for
"never crashes, always bounded" properties, not for checking decoded values.
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
    "unicode_text",
    "html_documents",
    "header_blocks",
    "mime_messages",
    "NONCHARACTERS",
    "INVISIBLES",
    "documents",
    "mangled_documents",
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


# Unicode text: mixed scripts and the code points that trip normalisers and parsers.

_SCRIPTS = {
    "latin": (0x0020, 0x024F), "greek": (0x0370, 0x03FF), "cyrillic": (0x0400, 0x04FF),
    "arabic": (0x0600, 0x06FF), "thai": (0x0E00, 0x0E7F), "cjk": (0x4E00, 0x9FFF),
    "emoji": (0x1F300, 0x1FAFF),
}
_script_runs = st.one_of(*(
    st.text(st.characters(min_codepoint=lo, max_codepoint=hi, exclude_categories=("Cs",)),
            max_size=20)
    for lo, hi in _SCRIPTS.values()
))
#: Non-characters: permanently unassigned, yet legal in text and in UTF-8.
NONCHARACTERS = "\ufdd0\ufdd7\ufdef\ufffe\uffff\U0001fffe\U0001ffff\U0010fffe\U0010ffff"
#: Bidi controls, zero-width characters, soft hyphen, combining grapheme joiner, BOM.
INVISIBLES = ("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
              "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f")
# Non-starters (canonical combining class above 0) from several blocks, and
# U+0F73 / U+0344, which are non-starters whose decomposition is two marks.
_MARKS = "\u0301\u0316\u0300\u0327\u0345\u05b0\u0651\u0e48\u0f73\u0344\u20d7\U0001d165"


@st.composite
def _mark_flood(draw: st.DrawFn) -> str:
    """A base letter and a run of combining marks, now and then past any sane length."""
    base = draw(st.sampled_from(["e", "a", "\u0627", "\u0e01", "\u4e00", ""]))
    marks = draw(st.text(st.sampled_from(_MARKS), min_size=1, max_size=8))
    return base + marks * draw(st.integers(1, 60))


@st.composite
def unicode_text(draw: st.DrawFn, max_pieces: int = 12) -> str:
    """Text of mixed scripts with combining-mark floods, non-characters and
    invisible controls spliced in; never a lone surrogate."""
    piece = st.one_of(
        _script_runs,
        _script_runs,
        st.text(st.sampled_from(NONCHARACTERS), min_size=1, max_size=4),
        st.text(st.sampled_from(INVISIBLES), min_size=1, max_size=4),
        _mark_flood(),
        st.sampled_from([" ", "\n", "\t", "\r\n", "www.example.com", "http://x.example/p?q=1",
                         "FREE", "v\u0456agra"]),
    )
    return "".join(draw(st.lists(piece, max_size=max_pieces)))


# HTML: tag soup from a realistic tag set, the way bulk mailers and spammers write it.

_FORMATTING_TAGS = ("a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike",
                    "strong", "tt", "u")
_CONTAINER_TAGS = ("div", "p", "span", "table", "tr", "td", "th", "tbody", "ul", "ol", "li",
                   "dl", "dd", "center", "blockquote", "h1", "h3", "pre", "form", "button",
                   "select", "option", "ruby", "rt", "marquee", "object", "template",
                   "svg", "math", "g", "foreignObject", "mi", "textarea", "title", "noscript",
                   "x-custom")
_VOID_TAGS = ("br", "hr", "img", "input", "meta", "wbr", "area", "link")
_ATTR_VALUES = st.one_of(
    st.sampled_from(["display:none", "visibility: hidden", "font-size:0px;", "color:#fff",
                     "http://spam.example/", "cid:1", "#", "javascript:void(0)", "x\"y",
                     "a'b", "&quot;&amp;", ""]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters=">"),
            max_size=30),
)
_ATTR = st.tuples(
    st.sampled_from(["style", "color", "face", "size", "href", "src", "class", "id", "width",
                     "a", "data-x", "onclick", "x"]),
    _ATTR_VALUES,
    st.sampled_from(['"', "'", ""]),
).map(lambda t: f" {t[0]}={t[2]}{t[1]}{t[2]}")
#: Entities, good and bad: numeric references to marks and non-characters, out of range.
_ENTITIES = st.sampled_from(["&amp;", "&lt;", "&nbsp;", "&eacute;", "&#769;", "&#x316;",
                             "&#xFDD0;", "&#xFFFE;", "&#0;", "&#xD800;", "&#1114112;",
                             "&bogus;", "&", "&#", "&#x;"])
#: Stray pieces of markup that tokenisers and pre-scans must agree about.
_DEBRIS = st.sampled_from(["<", "</", "<<", ">", "/>", "<!", "<!--", "-->", "<?x?>",
                           "<![CDATA[x]]>", "<!DOCTYPE html>", "< div>", "</ p>"])


def _html_text() -> st.SearchStrategy[str]:
    # Marks come as characters and as references, which only the HTML parser decodes.
    mark_refs = st.tuples(st.sampled_from(["&#769;", "&#x316;", "&#3953;"]),
                          st.integers(1, 40)).map(lambda t: t[0] * t[1])
    return st.one_of(unicode_text(max_pieces=3), _mark_flood(), mark_refs, _ENTITIES, _DEBRIS,
                     st.sampled_from(["x", "word ", "Buy now!", "www.y.example"]))


@st.composite
def _start_tag(draw: st.DrawFn, names: tuple[str, ...]) -> tuple[str, str]:
    name = draw(st.sampled_from(names))
    shown = name.upper() if draw(st.integers(0, 9)) == 0 else name
    attrs = "".join(draw(st.lists(_ATTR, max_size=3)))
    slash = "/" if draw(st.integers(0, 9)) == 0 else ""
    return name, f"<{shown}{attrs}{slash}>"


@st.composite
def _end_tag(draw: st.DrawFn, name: str) -> str:
    """The end tag of ``name``: usually right, sometimes missing or of a near-miss name."""
    kind = draw(st.sampled_from(["right"] * 5 + ["missing", "missing", "near-miss"]))
    if kind == "missing":
        return ""
    if kind == "near-miss":  # a name a tokeniser reads differently from a quick scan
        suffix = draw(st.sampled_from(["_", ".", "\u0130", "\u212a", "\x0b", "x" * 45]))
        return f"</{name}{suffix}>"
    return f"</{name}>"


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        name, start = draw(_start_tag(_FORMATTING_TAGS + _CONTAINER_TAGS))
        inner = "".join(draw(st.lists(children, max_size=4)))
        return start + inner + draw(_end_tag(name))

    return build()


@st.composite
def _special(draw: st.DrawFn) -> str:
    """Pieces with a meaning of their own: comments, scripts, hidden text, links, images."""
    text = draw(_html_text())
    return draw(st.sampled_from([
        f"<!-- {text} -->", f"<!--{text}", f"<script>var s = '{text}</p>';</script>",
        f"<style>p {{color: red}} /* {text} */</style>",
        f"<span style=\"display:none\">{text}</span>",
        f"<div style='font-size:0'>{text}</div>",
        f"<a href=\"http://spam.example/{len(text)}\">www.bank.example {text}</a>",
        f"<img src=\"http://img.example/{len(text)}.gif\" alt=\"{text}\">",
        f"<form action=http://x.example><input name=q value=\"{text}\"></form>",
    ]))


@st.composite
def _run(draw: st.DrawFn, max_run: int) -> str:
    """A long run of one construction: deep nesting, or many formatting elements left open."""
    n = draw(st.one_of(st.integers(0, 30), st.integers(max_run // 2, max_run)))
    kind = draw(st.sampled_from(["nest", "self-closing", "near-miss-end", "formatting",
                                 "distinct-fonts", "drops-join"]))
    if kind == "nest":
        tag = draw(st.sampled_from(_CONTAINER_TAGS[:6]))
        return f"<{tag}>x" * n
    if kind == "self-closing":
        return "<div/>" * n
    if kind == "near-miss-end":
        return "<div></div_>" * n
    if kind == "formatting":
        return "<b><i><u><font>" * (n // 4) + "<p>x" * draw(st.integers(0, 60))
    if kind == "distinct-fonts":
        return ("<div>" + "".join(f"<font a={i}>" for i in range(n)) + "</div>"
                + "<div>x</div>" * draw(st.integers(0, 60)))
    # Stray '<' before formatting tags past the open cap: dropping the tags must not
    # join the '<' and the text after into a new tag.
    return "<b>" * 100 + "<<i>div>" * n


@st.composite
def html_documents(draw: st.DrawFn, max_run: int = 5000) -> str:
    """An HTML document (or a fragment of one): nested tags, some unclosed or mis-closed,
    comments, scripts, styles, entities, hidden text, links and images; about one piece
    in three a run of deep nesting or of open formatting elements, up to ``max_run``
    repetitions (none when it is 0)."""
    node = st.recursive(st.one_of(_html_text(), _special(),
                                  _start_tag(_VOID_TAGS).map(lambda t: t[1])),
                        _element, max_leaves=12)
    piece = st.one_of(node, node, _run(max_run)) if max_run else node
    doc = "".join(draw(st.lists(piece, max_size=6)))
    if draw(st.booleans()):
        doc = f"<html><head><title>t</title></head><body>{doc}</body></html>"
    return doc


# Header blocks and whole messages built from the strategies above.

_RAW_HEADER_NAMES = st.one_of(
    _HEADER_NAMES,
    st.sampled_from(["X-Spam-Status", "List-Unsubscribe", "DKIM-Signature", "Received-SPF",
                     "Thread-Index", "X-\u00e9t\u00e9", "X_Under", "Subject ", "From"]),
)


@st.composite
def _raw_header_value(draw: st.DrawFn) -> bytes:
    value = draw(_header_value)
    extra = draw(st.sampled_from(["none", "none", "folded", "unicode", "long", "8bit"]))
    if extra == "folded":  # continuation lines, as long headers are written
        value += b"".join(draw(st.sampled_from([b"\n\t", b"\n ", b"\r\n "])) + w
                          for w in draw(st.lists(_header_value, min_size=1, max_size=4)))
    elif extra == "unicode":
        value += draw(unicode_text(max_pieces=4)).encode("utf-8")
    elif extra == "long":
        value += draw(st.sampled_from([b"a", b"=?", b"<", b"x@y,", b"\\\""])) * draw(
            st.integers(1000, 6000))
    elif extra == "8bit":
        value += draw(st.binary(min_size=1, max_size=20)).translate(None, b"\n") + b"\xe9\xff"
    return value


@st.composite
def header_blocks(draw: st.DrawFn, max_fields: int = 40) -> bytes:
    """A header block of many fields, without the blank line that ends it: folded
    lines, encoded words, raw 8-bit bytes, very long values, and lines without a colon."""
    lines = []
    for name, value in draw(st.lists(st.tuples(_RAW_HEADER_NAMES, _raw_header_value()),
                                     max_size=max_fields)):
        if draw(st.integers(0, 14)) == 0:
            lines.append(draw(st.sampled_from([b"no colon on this line", b"From nobody",
                                               b">From: quoted", b":", b" leading space"])))
        lines.append(name.encode("utf-8") + draw(st.sampled_from([b": ", b":", b" : "])) + value)
    return b"".join(line + b"\n" for line in lines)


_TEXT_CHARSETS = st.sampled_from(["utf-8", "utf-16", "iso-8859-1", "windows-1252",
                                  "windows-1251", "koi8-r", "iso-8859-7", "cp1256", "tis-620",
                                  "shift_jis", "gb2312", "big5", "euc-kr", "utf-7"])


@st.composite
def _text_leaf(draw: st.DrawFn, max_run: int) -> bytes:
    html = draw(st.booleans())
    text = draw(html_documents(max_run=max_run) if html else unicode_text())
    charset = draw(_TEXT_CHARSETS)
    body = text.encode(charset, "xmlcharrefreplace" if html else "replace")
    label = charset
    if draw(st.integers(0, 5)) == 0:  # declared one way, written another
        label = draw(charset_labels)
    cte_head, body = _encode_body(draw, body)
    ctype = b"text/html" if html else b"text/plain"
    return (b"Content-Type: " + ctype + b"; charset=\"" + label.encode("ascii", "replace")
            + b"\"\n" + cte_head + b"\n" + body)


@st.composite
def mime_messages(draw: st.DrawFn, max_run: int = 600) -> bytes:
    """A message of a header block, then a MIME tree whose text/plain and text/html
    leaves hold :func:`unicode_text` and :func:`html_documents` in assorted charsets
    and transfer encodings (the other leaves as :data:`mime_trees` makes them)."""
    leaf = st.one_of(_text_leaf(max_run), _text_leaf(max_run), _leaf())
    tree = draw(st.recursive(leaf, _multipart, max_leaves=5))
    msg = draw(header_blocks(max_fields=12)) + b"MIME-Version: 1.0\n" + tree
    if draw(st.booleans()):
        msg = msg.replace(b"\n", b"\r\n")
    return msg


# Attachments: documents of every kind the extractors read (tests/documents.py writes
# them), then the same with bytes spliced in, cut out or overwritten, and anything
# at all under a document's type and name.

_DOC_KINDS = ("pdf", "pdfz", "docx", "xlsx", "pptx", "odt", "rtf", "html", "zip")


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """A well-formed attachment: (filename, content type, bytes), with hostile text."""
    import documents as docs  # tests/documents.py

    kind = draw(st.sampled_from(_DOC_KINDS))
    texts = draw(st.lists(unicode_text(max_pieces=4), min_size=1, max_size=3))
    links = draw(st.lists(st.sampled_from(["http://a.example/x", "https://xn--pypal-4ve.com/",
                                           "data:text/html,<b>x</b>", "javascript:x()",
                                           "http://3627734734/"]), max_size=2))
    if kind in ("pdf", "pdfz"):
        return "f.pdf", "application/pdf", docs.pdf(texts, links=links, compress=kind == "pdfz")
    if kind in ("docx", "xlsx", "pptx"):
        build = {"docx": docs.docx, "xlsx": docs.xlsx, "pptx": docs.pptx}[kind]
        return f"f.{kind}", docs.OOXML_TYPES[kind], build(texts, links)
    if kind == "odt":
        return "f.odt", docs.ODF_TYPES["odt"], docs.odf(texts, links)
    if kind == "rtf":
        return "f.rtf", "application/rtf", docs.rtf("\n".join(texts), links[0] if links else None)
    if kind == "html":
        body = "".join(f"<p>{t}</p>" for t in texts) + "".join(f"<a href='{u}'>x</a>"
                                                               for u in links)
        return "f.html", "text/html", f"<html><body>{body}</body></html>".encode()
    inner = draw(documents())
    return "f.zip", "application/zip", docs.zip_of({inner[0]: inner[2], "readme.txt": b"hi"})


@st.composite
def mangled_documents(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """A :func:`documents` value with bytes spliced in, cut out or overwritten, or
    arbitrary bytes under a document's name and type."""
    name, ctype, data = draw(documents())
    if draw(st.integers(0, 4)) == 0:
        return name, ctype, draw(arbitrary_bytes)
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(buf)))
        op = draw(st.sampled_from(["insert", "delete", "overwrite", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=16))
        if op == "insert":
            buf[pos:pos] = chunk
        elif op == "delete":
            del buf[pos : pos + len(chunk)]
        elif op == "overwrite":
            buf[pos : pos + len(chunk)] = chunk
        else:
            del buf[pos:]
    return name, ctype, bytes(buf)
