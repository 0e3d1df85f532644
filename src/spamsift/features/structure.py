"""Structural numbers of a message: lengths, counts, ratios, keyword frequencies.

Raw values only; the classifier bins the skewed ones (quantile bins learned on
training data), so this stays stateless and can be computed once per message.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from spamsift.features.normalize import normalise
from spamsift.parse.message import ParsedMessage
from spamsift.parse.urls import url_host

__all__ = ["DEFAULT_KEYWORDS", "structure_names", "structure_vector"]

#: Words whose frequency (per 1,000 words of body) is a feature of its own.
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "free", "offer", "money", "click", "remove", "guarantee", "credit", "order",
    "unsubscribe", "million", "business", "income", "save", "price",
)
_BASE = (
    "log_size", "log_body_chars", "log_words", "n_urls", "n_url_hosts", "n_parts",
    "max_depth", "n_attachments", "html_only", "has_html", "caps_ratio", "n_exclaim",
    "n_links", "n_images", "log_hidden_chars", "mismatched_links", "n_html_comments",
    "n_received", "n_to", "subject_len", "subject_caps_ratio", "digit_ratio",
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_LETTERS = re.compile(r"[^\W\d_]+")
# Capitals: str.isupper over all of Unicode cost 30 % of featurising; case in spam
# shouting is overwhelmingly ASCII and Latin-1.
_UPPER = re.compile(r"[A-ZÀ-ÖØ-Þ]+")
_DIGITS = re.compile(r"\d+")


def structure_names(keywords: Sequence[str] = DEFAULT_KEYWORDS) -> list[str]:
    """Column names of :func:`structure_vector`, in order."""
    return list(_BASE) + [f"kw_{k}" for k in keywords]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


# The characters each pattern matches among the first 256 code points, as bytes to delete:
# a text of those alone (ASCII or Latin-1, three in four corpus bodies) is counted by
# bytes.translate, in C without a match object per run, giving the regex's counts
# exactly (structure 0.65 -> 0.35 ms a message here).
_NOT_MATCHED = {rx: bytes(i for i in range(256) if not rx.fullmatch(chr(i)))
                for rx in (_LETTERS, _UPPER, _DIGITS)}


def _count(pattern: re.Pattern[str], text: str) -> int:
    """How many characters of ``text`` the single-class ``pattern`` matches."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return sum(map(len, pattern.findall(text)))
    return len(raw.translate(None, _NOT_MATCHED[pattern]))


# Each byte that is not a letter as a space: Latin-1 text's words (_WORD) are then its
# runs of two or more bytes between spaces, which bytes.split finds in C (the regex took
# 70 of the 200 us a corpus message's numbers cost).
_NON_LETTER_TO_SPACE = bytes(i if _LETTERS.fullmatch(chr(i)) else 32 for i in range(256))


def _word_counts(text: str, keys: Sequence[str]) -> tuple[int, list[int]]:
    """How many words (``_WORD``: runs of two or more letters) ``text`` holds, and how
    many of them are each of ``keys``."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        words = _WORD.findall(text)
        seen = Counter(words)
        return len(words), [seen[k] for k in keys]
    # Every run counted, then the one-letter ones taken off: a look-up per letter seen,
    # not a filtered copy of every run.
    runs = raw.translate(_NON_LETTER_TO_SPACE).split()
    seen = Counter(runs)
    n_words = len(runs) - sum(seen[b] for b in _ONE_LETTER if b in seen)
    return n_words, [0 if k is None else seen[k] for k in _latin1(tuple(keys))]


# The words of one letter: each Latin-1 letter as a byte.
_ONE_LETTER = tuple(bytes([i]) for i in range(256) if _NON_LETTER_TO_SPACE[i] != 32)


# Keyword lists are the featurizer's, fixed: each made ready once, not per message
# (casefold and the Latin-1 check were a tenth of these numbers' time).
@lru_cache(maxsize=16)
def _folded(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k.casefold() for k in keywords)


@lru_cache(maxsize=16)
def _latin1(keys: tuple[str, ...]) -> tuple[bytes | None, ...]:
    """Each key as Latin-1 bytes; None for one beyond it or shorter than a word (two
    letters), which no word equals."""
    return tuple(k.encode("latin-1") if len(k) > 1 and all(ord(c) < 256 for c in k) else None
                 for k in keys)


def structure_vector(msg: ParsedMessage, keywords: Sequence[str] = DEFAULT_KEYWORDS,
                     normalised: str | None = None) -> np.ndarray:
    """One row of raw structural values, aligned with :func:`structure_names`.

    ``normalised`` is the body already passed through ``normalise`` (the tokenizer
    makes it too), to save doing it twice.
    """
    body = msg.body_text[:200_000]
    head = body[:20_000]
    # Counting runs with a regex is ~6x faster than a per-character generator.
    letters = _count(_LETTERS, head)
    upper = _count(_UPPER, head)
    digits = _count(_DIGITS, head)
    # Keywords are counted in normalised text, so "ＦＲＥＥ" and "fr\u200bee" count as "free".
    n_words, key_counts = _word_counts(
        normalised if normalised is not None else normalise(body)[0], _folded(tuple(keywords)))
    subject = msg.subject or ""
    s_letters = _count(_LETTERS, subject)
    hosts = {url_host(u) for u in msg.urls}
    hosts.discard("")
    # An HTML part with no visible text (an image and a link) is still HTML.
    has_html = bool(msg.text_html) or "text/html" in msg.content_types
    row = [
        math.log1p(msg.size),
        math.log1p(len(body)),
        math.log1p(n_words),
        len(msg.urls),
        len(hosts),
        msg.n_parts,
        msg.max_depth,
        len(msg.attachments),
        float(has_html and not msg.text_plain.strip()),
        float(has_html),
        _ratio(upper, letters),
        body.count("!"),
        msg.html.n_links,
        msg.html.n_images,
        math.log1p(msg.html.hidden_chars),
        msg.html.mismatched_links,
        msg.html.n_comments,
        len(msg.received),
        len(msg.to_addrs),
        len(subject),
        _ratio(_count(_UPPER, subject), s_letters),
        _ratio(digits, len(body[:20_000])),
    ]
    row.extend(1000.0 * c / n_words if n_words else 0.0 for c in key_counts)
    return np.asarray(row, dtype=np.float64)
