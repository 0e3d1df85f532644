"""Fuzzing the parse stage: generated messages, header blocks, HTML and Unicode text.

Each property runs its input through ``parse_message`` (under the default limits
and under small ones, so that the caps are reached by small examples) and through
the bundled model's featurizer, and asserts the bounds: what
:func:`~_checks.check_parsed` promises, and finite features. The HTML pre-scan
(:func:`bound_html`) and the mark-run cap (:func:`cap_mark_runs`) have properties
of their own, the pre-scan's checked against the tree Lexbor builds from its output.

Examples are derandomised, so a run in CI sees the same ones every time.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from spamsift.config import ParseLimits
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.bundled import bundled_model_path
from spamsift.models.persistence import load_model
from spamsift.parse import ParsedMessage, parse_message
from spamsift.parse.html_bounds import MAX_DEPTH, bound_html
from spamsift.parse.marks import MAX_MARK_RUN, cap_mark_runs
from strategies import header_blocks, html_documents, mime_messages, unicode_text

from ._checks import check_parsed, longest_mark_run

LIMITS = ParseLimits()
# Small enough that a few-kilobyte example reaches every cap.
SMALL = ParseLimits(max_text_chars=2_000, max_parts=6, max_depth=3, max_headers=12,
                    max_header_bytes=4_000, max_html_bytes=20_000, max_urls=5)
limits = st.sampled_from([LIMITS, SMALL])

_FUZZ = settings(max_examples=100, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])

HTML_HEAD = b"From: a@example.org\nSubject: fuzz\nContent-Type: text/html; charset=utf-8\n\n"
PLAIN_HEAD = b"From: a@example.org\nSubject: fuzz\nContent-Type: text/plain; charset=utf-8\n\n"


@pytest.fixture(scope="module")
def featurizer() -> MessageFeaturizer:
    return load_model(bundled_model_path()).featurizer


def check_features(featurizer: MessageFeaturizer, m: ParsedMessage) -> None:
    X = featurizer.transform_parsed([m])
    assert X.shape == (1, featurizer.layout.n_features)
    assert np.isfinite(X.data).all()


def check_all(featurizer: MessageFeaturizer, data: bytes, lim: ParseLimits) -> ParsedMessage:
    m = parse_message(data, lim)
    check_parsed(m, lim)
    check_features(featurizer, m)
    return m


# Whole messages.


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(data=mime_messages(), lim=limits)
def test_mime_messages_stay_within_bounds(featurizer: MessageFeaturizer, data: bytes,
                                          lim: ParseLimits) -> None:
    check_all(featurizer, data, lim)


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(head=header_blocks(), body=unicode_text(), lim=limits)
def test_header_blocks_stay_within_bounds(featurizer: MessageFeaturizer, head: bytes,
                                          body: str, lim: ParseLimits) -> None:
    check_all(featurizer, head + b"\n" + body.encode("utf-8"), lim)


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(html=html_documents(), lim=limits)
def test_html_parts_stay_within_bounds(featurizer: MessageFeaturizer, html: str,
                                       lim: ParseLimits) -> None:
    m = check_all(featurizer, HTML_HEAD + html.encode("utf-8"), lim)
    assert m.subject == "fuzz"


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(text=unicode_text(max_pieces=30), lim=limits)
def test_unicode_text_parts_stay_within_bounds(featurizer: MessageFeaturizer, text: str,
                                               lim: ParseLimits) -> None:
    m = check_all(featurizer, PLAIN_HEAD + text.encode("utf-8"), lim)
    # Cutting runs of marks leaves every starter where it was.
    if "truncated:text" not in m.flags:
        starters = "".join(c for c in text.replace("\r\n", "\n") if not _non_starter(c))
        assert "".join(c for c in m.text_plain if not _non_starter(c)) == starters


# The HTML pre-scan.


def _is_subsequence(out: str, src: str) -> bool:
    chars = iter(src)
    return all(c in chars for c in out)


def _tree_depth(html: str) -> int:
    """The depth of the tree Lexbor builds from ``html`` (walked without recursion)."""
    root = LexborHTMLParser(html).root
    deepest, stack = 0, [(root, 1)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        child = node.child
        while child is not None:
            stack.append((child, depth + 1))
            child = child.next
    return deepest


# The pre-scan counts at most one open <p>, <li>, <td>, <tr> ... of each kind (a
# second one closes the first in real mail), so nesting through tables
# (<table><td><table><td>, with <tbody> and <tr> implied) builds up to four
# elements for each one counted; html, head and body come on top.
_DEPTH_SLACK = 4 * MAX_DEPTH + 8


@_FUZZ
@given(html=html_documents())
def test_bound_html_only_deletes_and_is_stable(html: str) -> None:
    out, flags = bound_html(html)
    assert len(out) <= len(html)
    assert _is_subsequence(out, html)  # characters kept appear in order
    again, new_flags = bound_html(out)
    assert again == out and not new_flags  # a second pass finds nothing left to cut
    if not flags:
        assert out == html


@_FUZZ
@given(html=html_documents())
def test_bound_html_bounds_the_tree_lexbor_builds(html: str) -> None:
    out, _ = bound_html(html)
    assert _tree_depth(out) <= _DEPTH_SLACK


@pytest.mark.parametrize(
    ("html", "flag"),
    [
        pytest.param("<div/>" * 2_000, "truncated:html_depth", id="self-closed-divs"),
        pytest.param("<div></div_>" * 2_000, "truncated:html_depth", id="end-tag-name-runs-on"),
        pytest.param("<div></div\x0b>" * 2_000, "truncated:html_depth",
                     id="end-tag-name-with-vertical-tab"),
        pytest.param("<x\u212a></xk>" * 2_000, "truncated:html_depth",
                     id="end-tag-kelvin-sign-lowercased"),
        pytest.param("<q>" * 100 + f"<{'q' * 45}></{'q' * 41}z>" * 2_000, "truncated:html_depth",
                     id="end-tag-long-name"),
        pytest.param("<b>" * 100 + "<<i>div>" * 2_000, "truncated:html_formatting",
                     id="dropped-tags-join-text"),
    ],
)
def test_bound_html_counts_what_the_parser_nests(html: str, flag: str) -> None:
    # Each of these once passed the pre-scan uncounted while Lexbor nested it.
    out, flags = bound_html(html)
    assert flag in flags
    assert _tree_depth(out) <= MAX_DEPTH + 8


# Runs of combining marks.


def _non_starter(ch: str) -> bool:
    # UAX #15 counts a character by its compatibility decomposition.
    return bool(unicodedata.combining(ch)
                or unicodedata.combining(unicodedata.normalize("NFKD", ch)[0]))


@_FUZZ
@given(text=unicode_text(max_pieces=30))
def test_cap_mark_runs_cuts_only_marks(text: str) -> None:
    out, n_runs = cap_mark_runs(text)
    assert len(out) <= len(text)
    assert _is_subsequence(out, text)
    assert [c for c in out if not _non_starter(c)] == [c for c in text if not _non_starter(c)]
    assert longest_mark_run(out) <= MAX_MARK_RUN
    assert (n_runs == 0) == (out == text)


@_FUZZ
@given(text=unicode_text(max_pieces=30))
def test_cap_mark_runs_keeps_stream_safe_text(text: str) -> None:
    # Text already within the Stream-Safe Text Format (no run of more than 30
    # non-starters once decomposed) comes back whole, so it normalises alike.
    if longest_mark_run(unicodedata.normalize("NFKD", text)) > MAX_MARK_RUN:
        text = "".join(c for c in text if not _non_starter(c))
    out, n_runs = cap_mark_runs(text)
    assert (out, n_runs) == (text, 0)
    for form in ("NFC", "NFKC"):
        assert unicodedata.normalize(form, out) == unicodedata.normalize(form, text)
