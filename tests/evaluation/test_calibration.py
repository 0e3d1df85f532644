"""Brier score, log loss, equal-count bins and ECE against hand-computed values and sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss

from spamsift.evaluation.calibration import (
    LOG_LOSS_EPS,
    brier_score,
    equal_count_bins,
    expected_calibration_error,
    log_loss,
    reliability,
)
from spamsift.exceptions import InputError


def test_brier_by_hand():
    # Squared errors 0.01, 0.04, 0.36, 0: mean 0.1025.
    assert brier_score([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.0]) == pytest.approx(0.1025)
    assert brier_score([1, 0], [1.0, 0.0]) == 0.0
    assert brier_score([1, 0], [0.0, 1.0]) == 1.0


def test_log_loss_by_hand_and_clipped():
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(1.0)) / 4
    assert log_loss([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.0]) == pytest.approx(expected)
    # A certain mistake is large but finite.
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(LOG_LOSS_EPS))
    assert log_loss([0], [1.0]) == pytest.approx(-math.log(LOG_LOSS_EPS), rel=1e-3)


def test_brier_and_log_loss_match_sklearn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    s = np.clip(rng.normal(0.3 + 0.4 * y, 0.25), 0.001, 0.999)
    assert brier_score(y, s) == pytest.approx(brier_score_loss(y, s))
    assert log_loss(y, s) == pytest.approx(sk_log_loss(y, s))


def test_empty_input_gives_none():
    assert brier_score([], []) is None
    assert log_loss([], []) is None
    assert expected_calibration_error([], []) is None
    assert reliability([], [])["count"].tolist() == []


@pytest.mark.parametrize(
    ("scores", "n_bins", "expected"),
    [
        pytest.param([0.5, 0.1, 0.9, 0.3], 2, [1, 0, 1, 0], id="two-halves-any-order"),
        pytest.param(list(range(10)), 5, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], id="equal-count"),
        # The cut after the second score would split the 0.2s: they stay together.
        pytest.param([0.1, 0.2, 0.2, 0.2, 0.9, 0.95], 3, [0, 0, 0, 0, 1, 1], id="tie-unsplit"),
        pytest.param([0.7] * 5, 10, [0] * 5, id="all-tied-one-bin"),
        pytest.param([0.1, 0.2], 10, [0, 1], id="more-bins-than-scores"),
    ],
)
def test_equal_count_bins(scores, n_bins, expected):
    assert equal_count_bins(np.array(scores, dtype=float), n_bins).tolist() == expected


def test_perfectly_calibrated_bins_have_zero_ece():
    # Ten scores of 0.0, 0.1, ..., 0.9; at score k/10, exactly k of the ten are spam.
    s = np.repeat(np.arange(10) / 10, 10)
    y = np.concatenate([[1] * k + [0] * (10 - k) for k in range(10)])
    r = reliability(y, s)
    assert r["count"].tolist() == [10] * 10
    np.testing.assert_allclose(r["mean_score"], r["spam_rate"], atol=1e-12)
    assert expected_calibration_error(y, s) == pytest.approx(0.0, abs=1e-12)


def test_ece_by_hand():
    # Two bins of two: scores 0.1, 0.3 with one spam (mean 0.2, rate 0.5: gap 0.3);
    # 0.8, 1.0 both spam (mean 0.9, rate 1: gap 0.1). Equal weights: (0.3 + 0.1) / 2.
    y, s = [0, 1, 1, 1], [0.1, 0.3, 0.8, 1.0]
    r = reliability(y, s, n_bins=2)
    np.testing.assert_allclose(r["mean_score"], [0.2, 0.9])
    np.testing.assert_allclose(r["spam_rate"], [0.5, 1.0])
    assert r["n_spam"].tolist() == [1, 2]
    np.testing.assert_allclose(r["lo"], [0.1, 0.8])
    np.testing.assert_allclose(r["hi"], [0.3, 1.0])
    assert expected_calibration_error(y, s, n_bins=2) == pytest.approx(0.2)


def test_overconfident_scores_have_large_ece():
    # Says 0.99 and 0.01, right only 70% of the time.
    y = np.array([1] * 70 + [0] * 30 + [0] * 70 + [1] * 30)
    s = np.array([0.99] * 100 + [0.01] * 100)
    assert expected_calibration_error(y, s) == pytest.approx(0.29)


def test_bad_input_raises():
    with pytest.raises(InputError):
        brier_score([0, 1], [0.1, 1.5])
    with pytest.raises(InputError):
        expected_calibration_error([0, 2], [0.1, 0.5])
