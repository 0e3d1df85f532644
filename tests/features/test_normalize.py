"""normalise and fold_obfuscation: one spelling for what spam disguises, and no more."""

from __future__ import annotations

import pytest

from spamsift.features.normalize import INVISIBLE, fold_obfuscation, normalise


@pytest.mark.parametrize(
    ("text", "expected", "n_invisible"),
    [
        pytest.param("plain words", "plain words", 0, id="plain-unchanged"),
        pytest.param("FREE Money", "free money", 0, id="case-folded"),
        pytest.param("Straße", "strasse", 0, id="casefold-not-lower"),
        pytest.param("ＦＲＥＥ\u3000ｍｏｎｅｙ", "free money", 0, id="nfkc-full-width"),
        pytest.param("\ufb01nance", "finance", 0, id="nfkc-ligature"),
        pytest.param("＄１００", "$100", 0, id="nfkc-full-width-digits"),
        pytest.param("fr\u200bee", "free", 1, id="zero-width-space"),
        pytest.param("c\u200cl\u200di\u2060ck", "click", 3, id="zero-width-joiners"),
        pytest.param("\u202emoney\u202c", "money", 2, id="bidi-override"),
        pytest.param("\u2066x\u2069 \u200ey\u200f", "x y", 4, id="bidi-isolates-and-marks"),
        pytest.param("a\u061cb", "ab", 1, id="arabic-letter-mark"),
        pytest.param("pri\u00adce\ufeff", "price", 2, id="soft-hyphen-and-bom"),
    ],
)
def test_normalise(text: str, expected: str, n_invisible: int):
    assert normalise(text) == (expected, n_invisible)


def test_invisible_pattern_leaves_visible_text_alone():
    text = "Plain ASCII, Ünïcödé, кириллица, ελληνικά, 中文, emoji \U0001f600."
    assert INVISIBLE.search(text) is None
    assert normalise(text)[1] == 0


@pytest.mark.parametrize(
    ("word", "plain"),
    [
        pytest.param("v\u0456agra", "viagra", id="cyrillic-i"),
        pytest.param("p\u0430yp\u0430l", "paypal", id="cyrillic-a-twice"),
        pytest.param("\u0441lick", "click", id="cyrillic-c-first"),
        pytest.param("g\u03bf\u03bfgle", "google", id="greek-omicron"),
        pytest.param("v1agra", "viagra", id="leet-1"),
        pytest.param("fr3e", "free", id="leet-3"),
        pytest.param("m0ney", "money", id="leet-0"),
        pytest.param("g00gle", "google", id="leet-run"),
        pytest.param("c1al1s", "cialis", id="leet-twice"),
        pytest.param("v!agra", "viagra", id="leet-bang"),
        pytest.param("p@ypal", "paypal", id="leet-at"),
        pytest.param("he||o", "hello", id="leet-pipes"),
        # Latin c, e, p slipped into the Russian "сбербанк"; a Latin o in "сок".
        pytest.param("c\u0431ep\u0431\u0430\u043d\u043a", "сбербанк",
                     id="latin-look-alikes-in-cyrillic"),
        pytest.param("\u0441o\u043a", "сок", id="most-letters-cyrillic"),
        pytest.param("v\u0456agra-доставка", "viagra-доставка", id="disguised-part-of-hyphenated"),
    ],
)
def test_disguised_words_fold(word: str, plain: str):
    assert fold_obfuscation(word) == plain


@pytest.mark.parametrize(
    "word",
    [
        pytest.param("hello", id="normal-word"),
        pytest.param("viagra", id="already-plain"),
        pytest.param("2002", id="year"),
        pytest.param("12345", id="number"),
        pytest.param("3.14", id="decimal"),
        pytest.param("1st", id="ordinal"),
        pytest.param("mp3", id="trailing-digit-mp3"),
        pytest.param("win10", id="trailing-digits-win10"),
        pytest.param("html5", id="trailing-digit-html5"),
        pytest.param("ipv4", id="trailing-digit-ipv4"),
        pytest.param("covid19", id="trailing-digits-covid19"),
        pytest.param("b2b", id="digit-not-a-letter"),
        pytest.param("x86", id="digits-not-letters"),
        pytest.param("abc123", id="mostly-digits"),
        pytest.param("a1", id="too-short"),
        pytest.param("\u043c\u043e\u0441\u043a\u0432\u0430", id="all-cyrillic"),
        pytest.param("\u03bd\u03b1\u03b9", id="all-greek"),
        pytest.param("caf\u00e9", id="latin-accent"),
        # Real Russian words, even ones spelt only with letters that have look-alikes.
        pytest.param("сок", id="russian-all-look-alikes"),
        pytest.param("сервер", id="russian-server"),
        # Latin abbreviations hyphenated to Russian words: each part is one script.
        pytest.param("pdf-файл", id="pdf-file-hyphenated"),
        pytest.param("sms-сообщение", id="sms-message-hyphenated"),
        pytest.param("it-отдел", id="it-department-hyphenated"),
        # Mixed beyond what look-alikes explain: not a disguise that can be undone.
        pytest.param("\u0444abc", id="cyrillic-ef-in-latin"),
    ],
)
def test_plain_words_and_numbers_do_not_fold(word: str):
    assert fold_obfuscation(word) is None


def test_normalise_then_fold_catches_full_width_leet():
    text, _ = normalise("Ｖ１ＡＧＲＡ")
    assert text == "v1agra"
    assert fold_obfuscation(text) == "viagra"
