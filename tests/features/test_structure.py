"""structure_vector: one row of raw numbers, aligned with structure_names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.features import structure
from spamsift.features.structure import DEFAULT_KEYWORDS, structure_names, structure_vector
from spamsift.parse import parse_message

# HTML only: 17 letters of which 5 upper-case (F R E E C), two "!", four words
# (free, offer, click, now), one link, one image, one comment.
HTML_ONLY = b"""\
From: Promo <promo@example.com>
To: a@example.org, b@example.org, c@example.org
Subject: WIN Big
Content-Type: text/html; charset=us-ascii

<html><body><p>FREE offer! <a href="http://evil.example/x">Click</a> now!</p>
<!-- nothing to see --><img src="http://img.example/a.png"></body></html>
"""

# Image spam: an HTML part with no visible text at all.
IMAGE_ONLY = (b"From: promo@example.com\nSubject: look\nContent-Type: text/html\n\n"
              b'<html><body><a href="http://x.example/"><img src="http://i.example/a.png">'
              b"</a></body></html>")

PLAIN = b"""\
From: alice@example.org
To: bob@example.org
Subject: lunch
Received: from a.example.org (a.example.org [198.51.100.1]) by b.example.org

free lunch at 12 on Friday
"""

ALTERNATIVE = b"""\
From: alice@example.org
Subject: both
Content-Type: multipart/alternative; boundary=B

--B
Content-Type: text/plain

plain words here
--B
Content-Type: text/html

<p>html words here</p>
--B--
"""


def _values(raw: bytes, keywords: tuple[str, ...] = DEFAULT_KEYWORDS) -> dict[str, float]:
    row = structure_vector(parse_message(raw), keywords)
    names = structure_names(keywords)
    assert row.shape == (len(names),) and row.dtype == np.float64
    return dict(zip(names, row.tolist(), strict=True))


def test_names_are_aligned_and_unique():
    names = structure_names()
    assert len(names) == len(set(names))
    assert names[-len(DEFAULT_KEYWORDS):] == [f"kw_{k}" for k in DEFAULT_KEYWORDS]
    assert structure_names(("spam", "eggs"))[-2:] == ["kw_spam", "kw_eggs"]
    assert structure_names(()) == names[: -len(DEFAULT_KEYWORDS)]


def test_html_only_message_by_hand():
    v = _values(HTML_ONLY)
    assert v["log_size"] == pytest.approx(math.log1p(len(HTML_ONLY)))
    assert (v["html_only"], v["has_html"]) == (1.0, 1.0)
    assert v["caps_ratio"] == pytest.approx(5 / 17)
    assert v["n_exclaim"] == 2
    assert v["log_words"] == pytest.approx(math.log1p(4))
    assert v["kw_free"] == pytest.approx(250.0)
    assert v["kw_offer"] == pytest.approx(250.0)
    assert v["kw_click"] == pytest.approx(250.0)
    assert v["kw_money"] == 0.0
    assert (v["n_links"], v["n_images"], v["n_html_comments"]) == (1, 1, 1)
    assert v["mismatched_links"] == 0
    assert (v["n_urls"], v["n_url_hosts"]) == (2, 2)
    assert v["n_to"] == 3
    assert v["subject_len"] == 7
    assert v["subject_caps_ratio"] == pytest.approx(4 / 6)
    assert v["digit_ratio"] == 0.0


def test_plain_message_by_hand():
    v = _values(PLAIN)
    assert (v["html_only"], v["has_html"]) == (0.0, 0.0)
    assert v["n_received"] == 1
    # Words of two letters or more: free lunch at on friday ("12" is not a word).
    assert v["log_words"] == pytest.approx(math.log1p(5))
    assert v["kw_free"] == pytest.approx(200.0)
    body = parse_message(PLAIN).body_text
    assert v["digit_ratio"] == pytest.approx(2 / len(body))
    assert v["caps_ratio"] == pytest.approx(1 / sum(c.isalpha() for c in body))


@pytest.mark.parametrize(
    ("raw", "html_only", "has_html"),
    [
        pytest.param(PLAIN, 0.0, 0.0, id="plain"),
        pytest.param(HTML_ONLY, 1.0, 1.0, id="html-only"),
        pytest.param(ALTERNATIVE, 0.0, 1.0, id="alternative"),
        pytest.param(IMAGE_ONLY, 1.0, 1.0, id="html-without-visible-text"),
    ],
)
def test_html_flags(raw: bytes, html_only: float, has_html: float):
    if raw is IMAGE_ONLY:
        assert not parse_message(raw).text_html.strip()
    v = _values(raw)
    assert (v["html_only"], v["has_html"]) == (html_only, has_html)


@pytest.mark.parametrize(
    ("body", "kw_free"),
    [
        pytest.param("free FREE Free", 1000.0, id="any-case"),
        pytest.param("\uff26\uff32\uff25\uff25 money", 500.0, id="full-width"),
        pytest.param("fr\u200bee money", 500.0, id="zero-width-inside"),
        pytest.param("freedom money", 0.0, id="whole-words-only"),
        pytest.param("", 0.0, id="no-words"),
    ],
)
def test_keyword_frequency_per_thousand_words(body: str, kw_free: float):
    raw = ("Subject: x\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\n" + body).encode("utf-8")
    assert _values(raw)["kw_free"] == pytest.approx(kw_free)


def test_custom_keywords_are_case_insensitive():
    v = _values(PLAIN, keywords=("FREE", "lunch", "absent"))
    assert (v["kw_FREE"], v["kw_lunch"], v["kw_absent"]) == (200.0, 200.0, 0.0)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"Subject: \n\n", id="empty-subject-and-body"),
        pytest.param(b"\x00\xff\xfe\x80 not mail", id="garbage"),
    ],
)
def test_degenerate_messages_give_finite_rows(raw: bytes):
    row = structure_vector(parse_message(raw))
    assert row.shape == (len(structure_names()),)
    assert np.isfinite(row).all()


@given(st.text(alphabet=st.characters(max_codepoint=0x3000), max_size=60))
@settings(max_examples=300)
def test_counts_equal_the_patterns_runs(text: str):
    # Latin-1 text is counted by bytes.translate, the rest by the regex: one answer.
    for pattern in (structure._LETTERS, structure._UPPER, structure._DIGITS):
        assert structure._count(pattern, text) == sum(map(len, pattern.findall(text)))
        latin = text.encode("latin-1", "ignore").decode("latin-1")
        assert structure._count(pattern, latin) == sum(map(len, pattern.findall(latin)))


@given(st.text(alphabet=st.characters(max_codepoint=0x3000), max_size=80))
@settings(max_examples=300)
def test_word_counts_equal_the_word_patterns(text: str):
    from collections import Counter

    keys = ["free", "offer", "é", "ß", "ｆｒｅｅ"]
    for t in (text, text.encode("latin-1", "ignore").decode("latin-1")):
        words = structure._WORD.findall(t)
        seen = Counter(words)
        assert structure._word_counts(t, keys) == (len(words), [seen[k] for k in keys])
