"""Bytes to text: the declared charset, then detection, then a lossless fallback.

Mail lies about charsets. Order of trust: the part's declared charset (through
Python's codec aliases plus the mail-specific ones below), then UTF-8, then
charset-normalizer's detection on a bounded prefix, then latin-1, which maps
every byte to a code point and so never fails and loses nothing.
"""

from __future__ import annotations

import codecs

__all__ = ["decode_text", "normalise_charset"]

# Labels seen in real mail that Python's codec registry does not know.
_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-euc-jp": "euc_jp",
    "x-sjis": "shift_jis",
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "x-user-defined": "latin-1",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # gb18030 is a superset and decodes what senders mislabel
    "gbk": "gb18030",
}
# Detection costs ~ms a kilobyte; a prefix is enough to tell a charset.
_DETECT_BYTES = 16 * 1024


def normalise_charset(label: str | None) -> str | None:
    """A codec name Python knows for a declared charset label, or None."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()[:40]
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """Decode ``data``; return the text and a flag naming any fallback taken.

    The flag is None when the declared charset (or plain ASCII) decoded cleanly,
    ``charset:unknown`` when the label was not a charset, ``charset:wrong`` when it
    did not fit the bytes, and ``charset:detected`` / ``charset:latin1`` for how the
    text was finally read.
    """
    if data.isascii():
        return data.decode("ascii"), None
    flag: str | None = None
    codec = normalise_charset(declared)
    if declared and codec is None:
        flag = "charset:unknown"
    if codec is not None:
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            flag = "charset:wrong"
    try:
        return data.decode("utf-8"), flag
    except UnicodeDecodeError:
        pass
    if len(data) >= 32:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:_DETECT_BYTES]).best()
        if best is not None and best.encoding not in ("ascii", "utf_8"):
            try:
                return data.decode(best.encoding), flag or "charset:detected"
            except (UnicodeDecodeError, LookupError):
                pass
    return data.decode("latin-1"), flag or "charset:latin1"
