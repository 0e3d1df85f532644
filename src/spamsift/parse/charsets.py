"""Bytes to text: the declared charset, then detection, then a lossless fallback.

Mail lies about charsets. Order of trust: the part's declared charset (through
Python's codec aliases plus the mail-specific ones below), then UTF-8, then the
declared charset again if it fails on only a stray byte, then
charset-normalizer's detection on a bounded prefix, then latin-1 (read as
windows-1252, as mail readers do), which maps every byte to its own code point
and so never fails and loses nothing.
"""

from __future__ import annotations

import codecs

__all__ = ["decode_text", "normalise_charset", "ascii_compatible"]

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
# Python codecs that are not charsets a sender may name: ``undefined`` always
# raises, ``punycode`` decodes in quadratic time, the escape codecs and ``idna``
# read markup rather than text. Bytes-to-bytes codecs (zlib, base64, rot13 ...)
# are refused through CodecInfo's text-encoding mark instead.
_NOT_CHARSETS = frozenset(
    {"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape", "charmap"}
)
# Codecs that read ASCII bytes as something other than ASCII: the 7-bit ones
# (ISO-2022-JP, HZ and UTF-7 are ASCII bytes on the wire) and UTF-16/32, whose
# Latin text is ASCII bytes and NULs. Every other codec agrees with ASCII on
# ASCII bytes, so those bytes skip it.
_SEVEN_BIT = ("utf-7", "iso2022", "hz")
_WIDE = ("utf-16", "utf-32")
# A declared charset that fails on at most one byte in this many is kept, with
# replacement marks, rather than abandoned for detection.
_MAX_BAD_BYTES_PER = 50
# Detection costs ~ms a kilobyte; a prefix is enough to tell a charset.
_DETECT_BYTES = 16 * 1024


def normalise_charset(label: str | None) -> str | None:
    """A codec name Python knows for a declared charset label, or None.

    >>> normalise_charset("KOI8-R"), normalise_charset("x-foo"), normalise_charset("zlib")
    ('koi8-r', None, None)
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()[:40]
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def ascii_compatible(label: str | None) -> bool:
    """Whether a known charset reads ASCII bytes as ASCII (False for unknown labels).

    >>> ascii_compatible("koi8-r"), ascii_compatible("utf-16"), ascii_compatible("x-foo")
    (True, False, False)
    """
    codec = normalise_charset(label)
    return codec is not None and not codec.startswith(_SEVEN_BIT + _WIDE)


def _decode(data: bytes, codec: str, final: bool, errors: str = "strict") -> str:
    if codec == "iso8859-1":
        return _windows_1252(data)
    if final:
        text = data.decode(codec, errors)
    else:
        # A cut part may end inside a multi-byte character: leave that tail out
        # rather than call the whole part mislabelled.
        text = codecs.getincrementaldecoder(codec)(errors).decode(data, final=False)
    if codec == "utf-7":
        # UTF-7 alone can spell a lone surrogate ("+2D0-"), which no later
        # stage could encode: pair what pairs, replace the rest.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _windows_1252(data: bytes) -> str:
    # What mail readers do with "iso-8859-1", and what the WHATWG encoding
    # standard writes down: read it as windows-1252, whose 0x80-0x9F are
    # printable (€, ™, curly quotes) where latin-1 has control codes. The five
    # bytes windows-1252 leaves undefined keep their latin-1 reading, so every
    # byte still maps to its own code point and nothing is lost.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1").translate(_CP1252_HIGH)


def _cp1252_high() -> dict[int, str]:
    table = {}
    for b in range(0x80, 0xA0):
        try:
            table[b] = bytes([b]).decode("cp1252")
        except UnicodeDecodeError:
            pass
    return table


_CP1252_HIGH = _cp1252_high()


def decode_text(
    data: bytes, declared: str | None = None, *, final: bool = True, detect: bool = True
) -> tuple[str, str | None]:
    """Decode ``data``; return the text and a flag naming any fallback taken.

    The flag is None when the declared charset (or plain ASCII) decoded cleanly,
    ``charset:unknown`` when the label was not a charset, ``charset:wrong`` when it
    did not fit the bytes, and ``charset:detected`` / ``charset:latin1`` for how the
    text was finally read. ``final=False`` says ``data`` was cut from a longer
    part, so an incomplete character at its end is dropped, not held against it.
    ``detect=False`` skips detection, for short header values where it guesses
    poorly and, over a thousand headers, costs too much.

    >>> decode_text("привет".encode("koi8-r"), "koi8-r")
    ('привет', None)
    >>> decode_text(b"caf\\xe9", "utf-8")
    ('café', 'charset:wrong')
    """
    flag: str | None = None
    codec = normalise_charset(declared)
    if declared and codec is None:
        flag = "charset:unknown"
    ascii_only = data.isascii()
    if codec is not None and (
        not ascii_only
        or codec.startswith(_SEVEN_BIT)
        or (codec.startswith(_WIDE) and b"\x00" in data)
    ):
        try:
            return _decode(data, codec, final), None
        except (UnicodeError, LookupError):
            flag = "charset:wrong"
    if ascii_only:
        return data.decode("ascii"), flag
    try:
        return _decode(data, "utf-8", final), flag
    except UnicodeError:
        pass
    if codec is not None and codec not in ("ascii", "utf-8"):
        # A declared multi-byte charset with a stray bad byte or two (a Big5
        # subject split by "_" mid-character) reads far better in that charset,
        # with a replacement mark, than detected or as latin-1.
        text = _decode(data, codec, final, errors="replace")
        if text.count("\ufffd") <= max(1, len(data) // _MAX_BAD_BYTES_PER):
            return text, flag
    if detect and len(data) >= 32:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:_DETECT_BYTES]).best()
        if best is not None and best.encoding not in ("ascii", "utf_8"):
            try:
                return _decode(data, best.encoding, final), flag or "charset:detected"
            except (UnicodeError, LookupError):
                pass
    return _windows_1252(data), flag or "charset:latin1"
