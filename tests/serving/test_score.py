"""The SpamAssassin score: monotone, 5.0 at the spam cut-off, shown on the verdict's side."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamsift.models.spam_model import verdict_for
from spamsift.serving.score import LIMIT, THRESHOLD, sa_score, shown_score, stars

logits = st.floats(-600, 600, allow_nan=False)
cutoffs = st.floats(0.01, 0.99999)


def _prob(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 500), -500)))


@given(logits, logits, cutoffs)
def test_the_score_is_monotone_in_the_logit(a: float, b: float, cutoff: float) -> None:
    lo, hi = sorted((a, b))
    assert sa_score(lo, cutoff) <= sa_score(hi, cutoff)
    assert shown_score(sa_score(lo, cutoff), _prob(lo) >= cutoff) <= shown_score(
        sa_score(hi, cutoff), _prob(hi) >= cutoff)


@given(logits, cutoffs)
def test_shown_score_reaches_the_threshold_exactly_for_spam(z: float, cutoff: float) -> None:
    is_spam = verdict_for(_prob(z), cutoff, cutoff / 2) == "spam"
    shown = shown_score(sa_score(z, cutoff), is_spam)
    assert (shown >= THRESHOLD) is is_spam
    assert -LIMIT <= shown <= LIMIT
    assert shown == round(shown, 1)


def test_the_threshold_sits_at_the_spam_cutoff_and_a_point_is_a_unit_of_log_odds() -> None:
    cutoff = 0.9626
    z_s = math.log(cutoff / (1 - cutoff))
    assert sa_score(z_s, cutoff) == pytest.approx(THRESHOLD)
    assert sa_score(z_s + 2.5, cutoff) == pytest.approx(THRESHOLD + 2.5)
    assert sa_score(1e6, cutoff) == LIMIT and sa_score(-1e6, cutoff) == -LIMIT


@pytest.mark.parametrize(("score", "is_spam", "shown"), [
    pytest.param(4.96, False, 4.9, id="ham-never-shows-5.0"),
    pytest.param(4.999999, True, 5.0, id="spam-at-the-float-boundary"),
    pytest.param(-6.84, False, -6.8, id="ham"),
    pytest.param(13.37, True, 13.4, id="spam"),
])
def test_shown_score(score: float, is_spam: bool, shown: float) -> None:
    assert shown_score(score, is_spam) == shown


@pytest.mark.parametrize(("score", "level"), [(-3.0, ""), (0.9, ""), (5.4, "*****"),
                                              (80.0, "*" * 50)])
def test_stars(score: float, level: str) -> None:
    assert stars(score) == level
