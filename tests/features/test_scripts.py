"""Scripts: letters counted per writing system, unspaced runs cut into pairs."""

from __future__ import annotations

import re

import pytest

from spamsift.features.scripts import MARKS, UNSPACED_RUN, script_counts, segment, share_bin


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("see you at noon", {"latin": 12}, id="english"),
        pytest.param("größe café", {"latin": 9}, id="latin-accents"),
        pytest.param("встреча в 10:00", {"cyrillic": 8}, id="russian-digits-not-letters"),
        pytest.param("اجتماع غدا", {"arabic": 9}, id="arabic"),
        pytest.param("会议通知", {"han": 4}, id="chinese"),
        pytest.param("会議のお知らせ", {"han": 3, "hiragana": 4}, id="japanese-kanji-kana"),
        pytest.param("セール開催", {"katakana": 3, "han": 2}, id="japanese-katakana"),
        pytest.param("ประชุม", {"thai": 6}, id="thai-with-marks"),
        pytest.param("회의 안내", {"hangul": 4}, id="korean"),
        pytest.param("बैठक", {"devanagari": 4}, id="hindi"),
        pytest.param("ελληνικά", {"greek": 8}, id="greek"),
        pytest.param("paypal с нами", {"latin": 6, "cyrillic": 5}, id="mixed"),
        pytest.param("12:00 -- !!", {}, id="no-letters"),
        pytest.param("", {}, id="empty"),
    ],
)
def test_script_counts(text: str, expected: dict[str, int]):
    assert script_counts(text) == expected


@pytest.mark.parametrize(
    ("n", "total", "expected"),
    [
        pytest.param(10, 10, 100, id="all"),
        pytest.param(9, 10, 100, id="nearly-all"),
        pytest.param(5, 10, 50, id="half"),
        pytest.param(1, 10, 0, id="a-tenth"),
        pytest.param(3, 10, 25, id="under-a-third"),
        pytest.param(0, 0, 0, id="nothing"),
    ],
)
def test_share_bin(n: int, total: int, expected: int):
    assert share_bin(n, total) == expected


@pytest.mark.parametrize(
    ("run", "unigrams", "expected"),
    [
        pytest.param("会议纪要", False, ["会议", "议纪", "纪要"], id="chinese-pairs"),
        pytest.param("会议", True, ["会", "议", "会议"], id="chinese-with-singles"),
        pytest.param("会", False, ["会"], id="one-character"),
        pytest.param("お知らせ", False, ["お知", "知ら", "らせ"], id="japanese-kana"),
        # Vowel and tone marks ride on their consonant: never a pair starting with one.
        pytest.param("ชุม", False, ["ชุม"], id="thai-mark-on-consonant"),
        pytest.param("ที่นี่", False, ["ที่นี่"], id="thai-two-marks"),
        pytest.param("ลดราคา", False, ["ลด", "ดร", "รา", "าค", "คา"], id="thai-sale"),
        pytest.param("", False, [], id="empty"),
    ],
)
def test_segment(run: str, unigrams: bool, expected: list[str]):
    assert segment(run, unigrams) == expected


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        pytest.param("iPhone降价了", ["降价了"], id="latin-then-han"),
        pytest.param("今天。明天", ["今天", "明天"], id="cjk-full-stop-splits"),
        pytest.param("セール・開催", ["セール", "開催"], id="katakana-middle-dot-splits"),
        pytest.param("សួស្តី។ អរគុណ", ["សួស្តី", "អរគុណ"], id="khmer-full-stop-splits"),
        pytest.param("ราคา 990 บาท", ["ราคา", "บาท"], id="thai-words-by-space"),
        pytest.param("회의 안내", [], id="korean-is-spaced"),
        pytest.param("plain text", [], id="none"),
    ],
)
def test_unspaced_runs(text: str, runs: list[str]):
    assert UNSPACED_RUN.findall(text) == runs


@pytest.mark.parametrize(
    "mark",
    [
        pytest.param("\u093f", id="devanagari-vowel-sign-i"),
        pytest.param("\u094d", id="devanagari-virama"),
        pytest.param("\u064e", id="arabic-fatha"),
        pytest.param("\u0e31", id="thai-mai-han-akat"),
        pytest.param("\u0e48", id="thai-mai-ek"),
        pytest.param("\u0301", id="combining-acute"),
    ],
)
def test_marks_class_holds_combining_marks(mark: str):
    assert re.fullmatch(f"[{MARKS}]", mark)


@pytest.mark.parametrize("char", ["a", "я", "ا", "ก", "会", "-", "]", "^", "\\"])
def test_marks_class_holds_no_letters_or_class_syntax(char: str):
    assert not re.fullmatch(f"[{MARKS}]", char)
