"""RTF: the visible text, and the targets of its HYPERLINK fields, in one linear scan.

Why not striprtf, the usual library? Its hyperlink pattern backtracks: a 33 KB
run of unclosed ``{\\field{\\*\\fldinst{ HYPERLINK "`` took it 7.7 s here and 66 KB
60 s (cubic), inside the regex engine where no deadline reaches. This scanner
reads tokens with one pattern whose alternatives are each a single bounded run,
so each byte is looked at a bounded number of times.

What it keeps: text outside the groups that hold no text (font and colour tables,
style sheets, pictures, objects, document information, ``\\*`` destinations),
``\\'hh`` bytes in the document's code page, ``\\uN`` characters (skipping their
``\\ucN`` fallback characters), line and paragraph ends. Field instructions
(``fldinst``) are searched for URLs. An embedded object (``\\object``: the way
exploits ride in RTF) is flagged ``rtf:object``.
"""

from __future__ import annotations

import codecs
import re

from spamsift.parse.extract.budget import Broken, Budget, Sink

__all__ = ["extract_rtf"]

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word, its parameter, one space eaten
    rb"|\\'([0-9a-fA-F]{2})"  # a byte in the code page
    rb"|\\([^a-zA-Z])"  # control symbol
    rb"|([{}])"
    rb"|[\r\n]+"
    rb"|([^\\{}\r\n]{1,4096})",
    re.S)
# Groups whose content is never shown.
_HIDDEN = frozenset({
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata", "objclass",
    "themedata", "colorschememapping", "datastore", "latentstyles", "listtable",
    "listoverridetable", "rsidtbl", "generator", "xmlnstbl", "filetbl", "revtbl",
    "pgptbl", "protusertbl", "mmathPr", "defchp", "defpap", "userprops", "docvar",
    "bkmkstart", "bkmkend", "fldtype", "datafield", "passwordhash", "password", "template",
    "nonshppict", "shpinst", "sp", "sn", "sv", "wgrffmtfilter", "ftnsep", "ftnsepc",
    "aftnsep", "aftnsepc", "header", "footer", "headerl", "headerr", "headerf",
    "footerl", "footerr", "footerf",
})
_CHARS = {"par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "cell": "\t",
          "tab": "\t", "emdash": "\u2014", "endash": "\u2013", "bullet": "\u2022",
          "lquote": "\u2018", "rquote": "\u2019", "ldblquote": "\u201c",
          "rdblquote": "\u201d", "emspace": " ", "enspace": " ", "qmspace": " "}
_SYMBOLS = {b"~": "\u00a0", b"-": "", b"_": "\u2011", b"\\": "\\", b"{": "{", b"}": "}",
            b"\n": "\n", b"\r": "\n", b"\t": "\t"}
_MAX_GROUP_DEPTH = 1000


def _codec(n: int) -> str:
    name = f"cp{n}"
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name


def extract_rtf(content: bytes, sink: Sink, budget: Budget) -> None:
    """The text of an RTF document into ``sink``; its HYPERLINK targets as URLs."""
    start = content.lstrip()[:5]
    if start != b"{\\rtf":
        raise Broken("no {\\rtf header")
    # Per group: hidden, in a field instruction, \ucN.
    stack: list[tuple[bool, bool, int]] = []
    hidden = fldinst = False
    uc = 1
    skip = 0  # fallback characters still to skip after a \uN
    star = False  # the next control word opens a \* destination
    encoding = "cp1252"
    out: list[str] = []
    size = 0
    pos, end = 0, len(content)

    def emit(s: str) -> bool:
        nonlocal size, skip
        if skip:
            cut = min(skip, len(s))
            s, skip = s[cut:], skip - cut
        if not s:
            return True
        if fldinst:
            sink.url_text(s)
            return True
        if hidden:
            return True
        out.append(s)
        size += len(s)
        if size > 4096:
            size = 0
            text = "".join(out)
            out.clear()
            return sink.text(text)
        return True

    try:
        while pos < end:
            m = _TOKEN.match(content, pos)
            if m is None:  # a lone backslash at the very end
                break
            pos = m.end()
            ok = True
            word, param, hexbyte, symbol, brace, text = m.groups()
            if text is not None:
                ok = emit(text.decode(encoding, "replace"))
            elif word is not None:
                w = word.decode("ascii")
                if star or w in _HIDDEN:
                    hidden = True
                star = False
                if w == "fldinst":
                    fldinst = True
                elif w == "object":
                    budget.flag("rtf:object")
                elif w == "bin" and param:
                    pos += max(int(param), 0)  # binary data: skipped unread
                elif w == "u" and param:
                    code = int(param) % 65536
                    # Characters past the BMP come as two surrogates, which no text
                    # may hold alone: each becomes U+FFFD.
                    ok = emit(chr(0xFFFD if not code or 0xD800 <= code < 0xE000 else code))
                    skip = uc
                    continue
                elif w == "uc" and param:
                    uc = min(max(int(param), 0), 10)
                elif w == "ansicpg" and param:
                    encoding = _codec(int(param))
                elif w in _CHARS:
                    ok = emit(_CHARS[w])
                else:
                    continue
            elif hexbyte is not None:
                ok = emit(bytes.fromhex(hexbyte.decode()).decode(encoding, "replace"))
            elif symbol is not None:
                if symbol == b"*":
                    star = True
                    continue
                ok = emit(_SYMBOLS.get(symbol, ""))
            elif brace == b"{":
                if len(stack) >= _MAX_GROUP_DEPTH:
                    budget.flag("truncated:rtf_depth")
                    break
                stack.append((hidden, fldinst, uc))
                continue
            elif brace == b"}":
                if stack:
                    hidden, fldinst, uc = stack.pop()
                skip = 0
                continue
            else:  # line ends in the source are not text
                continue
            if not ok:
                return
    finally:
        if out:
            sink.text("".join(out))
