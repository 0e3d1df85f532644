"""cutoff_for_fpr keeps its false-positive promise; rates_by_threshold counts right."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamsift.evaluation import cutoff_for_fpr, rates_by_threshold
from spamsift.exceptions import InputError

# Scores drawn from a few values make ties common; any float in [0, 1] covers the rest.
scores_st = st.one_of(
    st.sampled_from([0.0, 0.2, 0.5, 0.8, 0.9, 1.0]),
    st.floats(0, 1, allow_nan=False),
)
rows_st = st.lists(st.tuples(st.integers(0, 1), scores_st), min_size=1, max_size=80)


@given(rows_st, st.floats(0, 0.99))
def test_cutoff_keeps_fpr_within_target_and_is_lowest(rows, target):
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    ham = s[y == 0]
    if ham.size == 0:
        with pytest.raises(InputError):
            cutoff_for_fpr(y, s, target)
        return
    cut = cutoff_for_fpr(y, s, target)
    assert np.mean(ham >= cut) <= target
    # Any lower cut-off lets one ham too many through.
    assert np.mean(ham >= np.nextafter(cut, -np.inf)) > target


@pytest.mark.parametrize(
    ("ham", "target", "expected_above"),
    [
        pytest.param([0.1, 0.2, 0.3, 0.9], 0.25, 0.3, id="one-allowed"),
        pytest.param([0.1, 0.9, 0.9, 0.9], 0.5, 0.9, id="tie-pushes-cutoff-above-all-tied"),
        pytest.param([0.1, 0.2, 0.3, 1.0], 0.0, 1.0, id="none-allowed-top-ham-at-1"),
        pytest.param([0.5] * 4, 0.99, 0.5, id="all-tied"),
    ],
)
def test_cutoff_sits_just_above_a_ham_score(ham, target, expected_above):
    cut = cutoff_for_fpr([0] * len(ham) + [1], ham + [0.95], target)
    assert cut == np.nextafter(expected_above, np.inf)


def test_cutoff_needs_ham():
    with pytest.raises(InputError, match="no ham"):
        cutoff_for_fpr([1, 1], [0.2, 0.9], 0.01)


@pytest.mark.parametrize("target", [-0.1, 1.0, float("nan"), "a lot"])
def test_cutoff_rejects_bad_target(target):
    with pytest.raises(InputError, match="target_fpr"):
        cutoff_for_fpr([0, 1], [0.2, 0.9], target)


def test_rates_by_threshold_counts_at_or_above():
    y = [0, 0, 0, 0, 1, 1]
    s = [0.1, 0.4, 0.4, 0.8, 0.4, 0.9]
    r = rates_by_threshold(y, s, [0.0, 0.4, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(r["threshold"], [0.0, 0.4, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(r["fpr"], [1.0, 0.75, 0.25, 0.0, 0.0])
    np.testing.assert_allclose(r["fnr"], [0.0, 0.0, 0.5, 0.5, 1.0])


@given(rows_st, st.lists(st.floats(0, 1), max_size=10))
def test_rates_by_threshold_matches_a_direct_count(rows, thresholds):
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    r = rates_by_threshold(y, s, thresholds)
    ham, spam = s[y == 0], s[y == 1]
    for t, fpr, fnr in zip(thresholds, r["fpr"], r["fnr"], strict=True):
        assert fpr == (np.mean(ham >= t) if ham.size else pytest.approx(np.nan, nan_ok=True))
        assert fnr == (np.mean(spam < t) if spam.size else pytest.approx(np.nan, nan_ok=True))


def test_rates_one_class_is_nan_without_warning():
    r = rates_by_threshold([0, 0], [0.1, 0.9], [0.5])
    assert r["fpr"][0] == 0.5
    assert np.isnan(r["fnr"][0])
