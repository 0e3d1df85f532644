"""Tests for spamsift.parse.charsets: declared, wrong, unknown and missing charsets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.parse import parse_message
from spamsift.parse.charsets import ascii_compatible, decode_text, normalise_charset
from strategies import charset_labels

RUSSIAN = "Скидки на часы только сегодня"
JAPANESE = "本日限りの特別価格"


@pytest.mark.parametrize(
    ("data", "label", "text"),
    [
        pytest.param(RUSSIAN.encode("koi8-r"), "koi8-r", RUSSIAN, id="koi8-r"),
        pytest.param(RUSSIAN.encode("cp1251"), "windows-1251", RUSSIAN, id="windows-1251"),
        pytest.param(JAPANESE.encode("shift_jis"), "shift_jis", JAPANESE, id="shift_jis"),
        pytest.param(JAPANESE.encode("shift_jis"), "x-sjis", JAPANESE, id="x-sjis-alias"),
        pytest.param(JAPANESE.encode("euc_jp"), "EUC-JP", JAPANESE, id="euc-jp"),
        pytest.param("한국어".encode("cp949"), "ks_c_5601-1987", "한국어", id="ks_c_5601-alias"),
        pytest.param("价格".encode("gbk"), "gb2312", "价格", id="gb2312-read-as-gb18030"),
        pytest.param("café".encode(), '"UTF-8"', "café", id="quoted-label"),
        # 7-bit charsets are all ASCII bytes on the wire: the label must win.
        pytest.param(JAPANESE.encode("iso2022_jp"), "iso-2022-jp", JAPANESE, id="iso-2022-jp"),
        pytest.param(b"+AFY-iagra", "utf-7", "Viagra", id="utf-7"),
        pytest.param("hello".encode("utf-16-le"), "utf-16-le", "hello", id="utf-16-of-ascii"),
        pytest.param(b"plain ascii", "koi8-r", "plain ascii", id="ascii-under-a-label"),
    ],
)
def test_declared_charset(data: bytes, label: str, text: str) -> None:
    assert decode_text(data, label) == (text, None)


def test_wrong_declared_charset_is_flagged_and_read_as_utf8() -> None:
    assert decode_text("Grüße".encode(), "us-ascii") == ("Grüße", "charset:wrong")


def test_wrong_declared_charset_then_latin1() -> None:
    assert decode_text(b"caf\xe9", "utf-8") == ("café", "charset:wrong")


@pytest.mark.parametrize(
    "label",
    [
        pytest.param("x-foo", id="made-up"),
        pytest.param("a" * 60, id="overlong"),
        # Python codecs that are not charsets: bytes-to-bytes, always-failing,
        # quadratic (punycode) or escape-reading ones must not be used.
        pytest.param("zlib", id="zlib"),
        pytest.param("base64", id="base64"),
        pytest.param("rot13", id="rot13"),
        pytest.param("undefined", id="undefined"),
        pytest.param("punycode", id="punycode"),
        pytest.param("unicode_escape", id="unicode-escape"),
        pytest.param("idna", id="idna"),
    ],
)
def test_unknown_label(label: str) -> None:
    assert normalise_charset(label) is None
    assert decode_text("café".encode(), label) == ("café", "charset:unknown")
    assert decode_text(b"\xff\xfe\x00 junk", label) == ("\xff\xfe\x00 junk", "charset:unknown")
    # Flagged even when the bytes are ASCII: the lie is evidence.
    assert decode_text(b"hello", label) == ("hello", "charset:unknown")


@pytest.mark.parametrize("label", ["iso-8859-1", "latin1", "unknown-8bit", None])
def test_latin1_is_read_as_windows_1252(label: str | None) -> None:
    # As mail readers do: 0x80-0x9F are printable in windows-1252. The bytes it
    # leaves undefined (0x81 here) keep their latin-1 reading.
    text, _ = decode_text(b"Parhelia\x99 \x93new\x94 \x80 5 \x81", label)
    assert text == "Parhelia™ “new” € 5 \x81"


def test_a_stray_bad_byte_keeps_the_declared_charset() -> None:
    # A Big5 subject whose Q-encoding turned half a character into a space.
    data = "我知道你需要更多機會".encode("big5") + b"\xb0 " + "來吧".encode("big5")
    assert decode_text(data, "big5") == ("我知道你需要更多機會\ufffd 來吧", "charset:wrong")


def test_many_bad_bytes_abandon_the_declared_charset() -> None:
    data = "Это письмо написано по-русски, и в нём много слов.".encode("cp1251")
    text, flag = decode_text(data, "big5")
    assert "\ufffd" not in text
    assert flag == "charset:wrong"


def test_ascii_label_with_8bit_bytes_is_not_read_with_replacement_marks() -> None:
    assert decode_text(b"caf\xe9", "us-ascii") == ("café", "charset:wrong")


def test_no_label_ascii_and_utf8_need_no_flag() -> None:
    assert decode_text(b"hello") == ("hello", None)
    assert decode_text("naïve".encode()) == ("naïve", None)


def test_no_label_short_8bit_falls_back_to_latin1() -> None:
    assert decode_text(b"caf\xe9") == ("café", "charset:latin1")


def test_no_label_long_8bit_is_detected() -> None:
    text = "Это письмо написано по-русски, и в нём достаточно слов для распознавания."
    decoded, flag = decode_text(text.encode("cp1251"))
    assert flag == "charset:detected"
    assert decoded == text


def test_detection_can_be_turned_off() -> None:
    data = ("Это письмо написано по-русски " * 3).encode("cp1251")
    assert decode_text(data, detect=False) == (data.decode("latin-1"), "charset:latin1")


def test_cut_data_drops_an_incomplete_last_character() -> None:
    data = "Grüß".encode()[:-1]  # "ß" is two bytes in UTF-8: one is left
    assert decode_text(data, "utf-8", final=False) == ("Grü", None)
    assert decode_text(data, final=False) == ("Grü", None)
    # Read as whole, the same bytes look mislabelled.
    assert decode_text(data, "utf-8") == (data.decode("latin-1"), "charset:wrong")


def test_utf7_lone_surrogate_becomes_a_replacement_character() -> None:
    text, flag = decode_text(b"a+2D0-b", "utf-7")
    assert (text, flag) == ("a\ufffdb", None)
    text.encode("utf-8")


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        pytest.param("UTF-8", "utf-8", id="upper"),
        pytest.param(" latin1 ", "iso8859-1", id="python-alias"),
        pytest.param("us-ascii", "ascii", id="us-ascii"),
        pytest.param("unknown-8bit", "iso8859-1", id="unknown-8bit"),
        pytest.param("'koi8-r'", "koi8-r", id="single-quoted"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_normalise_charset(label: str | None, codec: str | None) -> None:
    assert normalise_charset(label) == codec


@pytest.mark.parametrize(
    ("label", "expected"),
    [("koi8-r", True), ("utf-8", True), ("utf-16", False), ("utf-7", False),
     ("iso-2022-jp", False), ("x-foo", False), (None, False)],
)
def test_ascii_compatible(label: str | None, expected: bool) -> None:
    assert ascii_compatible(label) is expected


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=300),
    label=st.one_of(st.none(), charset_labels, st.text(max_size=20)),
)
def test_decode_text_never_raises(data: bytes, label: str | None) -> None:
    text, flag = decode_text(data, label)
    text.encode("utf-8")  # no lone surrogates leak out
    assert flag in (None, "charset:unknown", "charset:wrong", "charset:detected",
                    "charset:latin1")


def _message(label: bytes, body: bytes) -> bytes:
    return b"From: a@example.org\nSubject: s\nContent-Type: text/plain; charset=" + label + \
        b"\n\n" + body


@pytest.mark.parametrize(
    ("label", "body", "text", "flags"),
    [
        pytest.param(b"koi8-r", RUSSIAN.encode("koi8-r"), RUSSIAN, set(), id="declared"),
        pytest.param(b"shift_jis", JAPANESE.encode("shift_jis"), JAPANESE, set(), id="shift_jis"),
        pytest.param(b"x-foo", "Grüße".encode(), "Grüße", {"charset:unknown"}, id="unknown"),
        pytest.param(b"utf-8", b"caf\xe9", "café", {"charset:wrong"}, id="wrong"),
        pytest.param(b"zlib", b"caf\xe9", "café", {"charset:unknown"}, id="not-a-charset"),
    ],
)
def test_charsets_through_parse_message(label: bytes, body: bytes, text: str,
                                        flags: set[str]) -> None:
    m = parse_message(_message(label, body))
    assert m.text_plain == text
    assert m.flags - {"missing:date"} == flags
    assert m.charsets == [label.decode()]


def test_undeclared_8bit_body_is_read_and_flagged() -> None:
    m = parse_message(b"From: a@example.org\nSubject: s\n\ncaf\xe9\n")
    assert m.text_plain == "café\n"
    assert "charset:latin1" in m.flags
    assert m.charsets == []
