"""compute_metrics and the oracle fnr_at_fpr against hand-computed examples and sklearn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from spamsift.evaluation import compute_metrics, fnr_at_fpr
from spamsift.exceptions import InputError

# Four ham, four spam; worked by hand below.
HAM = [0.1, 0.2, 0.6, 0.95]
SPAM = [0.3, 0.7, 0.9, 0.99]
Y = [0] * 4 + [1] * 4
S = HAM + SPAM


def test_hand_computed_four_and_four():
    m = compute_metrics(Y, S, spam_cutoff=0.9, unsure_cutoff=0.5)
    # Spam verdicts (>= 0.9): ham 0.95, spam 0.9 and 0.99. Unsure: ham 0.6, spam 0.7.
    assert (m["tn"], m["fp"], m["fn"], m["tp"]) == (3, 1, 2, 2)
    assert (m["n"], m["n_ham"], m["n_spam"]) == (8, 4, 4)
    assert (m["unsure_ham"], m["unsure_spam"]) == (1, 1)
    assert m["unsure_rate"] == pytest.approx(2 / 8)
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["f1"] == pytest.approx(4 / 7)
    assert m["fpr"] == pytest.approx(1 / 4)
    assert m["fnr"] == pytest.approx(2 / 4)
    # Spam above ham in 2 + 3 + 3 + 4 of the 16 pairs.
    assert m["roc_auc"] == pytest.approx(12 / 16)
    assert m["one_minus_roca_pct"] == pytest.approx(25.0)
    # Ranked S H S S H S H H: precision at each spam 1, 2/3, 3/4, 4/6.
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 4 + 4 / 6) / 4)
    # floor(0.01 * 4) = 0 ham allowed: cut-off above the top ham 0.95 misses 3 of 4 spam.
    assert m["fnr_at_fpr_1pct"] == pytest.approx(3 / 4)
    assert m["fnr_at_fpr_0_1pct"] == pytest.approx(3 / 4)
    assert (m["spam_cutoff"], m["unsure_cutoff"]) == (0.9, 0.5)
    # Squared errors: ham .01 .04 .36 .9025, spam .49 .09 .01 .0001; sum 1.9026.
    assert m["brier"] == pytest.approx(1.9026 / 8)
    assert m["log_loss"] == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.4, 0.05, 0.3, 0.7, 0.9, 0.99]))
    )
    # Ten bins of eight scores hold one score each: the ECE is the mean absolute error.
    assert m["ece"] == pytest.approx(np.mean(np.abs(np.array(S) - np.array(Y))))


def test_calibrated_scores_have_zero_ece():
    # Per score k/4, exactly k of four messages are spam.
    s = np.repeat([0.0, 0.25, 0.5, 0.75, 1.0], 4)
    y = np.concatenate([[1] * k + [0] * (4 - k) for k in range(5)])
    m = compute_metrics(y, s, 0.9, 0.5)
    assert m["ece"] == pytest.approx(0.0, abs=1e-12)
    assert m["brier"] == pytest.approx(np.mean((s - y) ** 2))


def test_binary_figures_match_sklearn_with_unsure_as_not_spam():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    m = compute_metrics(y, s, 0.6, 0.4)
    pred = s >= 0.6
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(precision_score(y, pred))
    assert m["recall"] == pytest.approx(recall_score(y, pred))
    assert m["f1"] == pytest.approx(f1_score(y, pred))


def test_result_is_plain_json():
    m = compute_metrics(Y, S, 0.9, 0.5)
    assert json.loads(json.dumps(m, allow_nan=False)) == m
    assert all(v is None or type(v) in (int, float) for v in m.values())


@pytest.mark.parametrize(
    ("y", "expect_spam"),
    [pytest.param([0, 0, 0], 0, id="ham-only"), pytest.param([1, 1, 1], 3, id="spam-only")],
)
def test_one_class_gives_none_for_ranking_figures(y, expect_spam):
    m = compute_metrics(y, [0.1, 0.5, 0.95], 0.9, 0.5)
    assert m["n_spam"] == expect_spam
    for key in ("roc_auc", "one_minus_roca_pct", "pr_auc", "fnr_at_fpr_1pct", "fnr_at_fpr_0_1pct"):
        assert m[key] is None, key
    assert m["accuracy"] is not None
    if expect_spam:
        assert m["fpr"] is None and m["fnr"] == pytest.approx(2 / 3)
    else:
        assert m["fnr"] is None and m["recall"] is None and m["fpr"] == pytest.approx(1 / 3)
    json.dumps(m, allow_nan=False)


def test_no_spam_verdicts_leaves_precision_undefined():
    m = compute_metrics([0, 1], [0.1, 0.2], 0.9, 0.5)
    assert m["tp"] + m["fp"] == 0
    assert m["precision"] is None
    assert m["f1"] == 0.0


@pytest.mark.parametrize(
    ("fpr", "expected"),
    [
        # Ham 0.9 0.8 0.8 0.5 0.1; spam 0.95 0.9 0.85 0.8 0.2.
        pytest.param(0.0, 4 / 5, id="k0-spam-tied-with-top-ham-missed"),
        pytest.param(0.2, 2 / 5, id="k1-tied-ham-both-below"),
        pytest.param(0.39, 2 / 5, id="k1-floor"),
        pytest.param(0.4, 2 / 5, id="k2-tie-same-cutoff-as-k1"),
        pytest.param(0.6, 1 / 5, id="k3"),
        pytest.param(0.8, 0.0, id="k4"),
    ],
)
def test_oracle_rule_with_ties(fpr, expected):
    ham = [0.9, 0.8, 0.8, 0.5, 0.1]
    spam = [0.95, 0.9, 0.85, 0.8, 0.2]
    assert fnr_at_fpr([0] * 5 + [1] * 5, ham + spam, fpr) == pytest.approx(expected)


def test_oracle_points_in_compute_metrics_use_floor_of_budget():
    # 200 ham: floor(0.01 * 200) = 2 allowed at 1%, floor(0.2) = 0 at 0.1%.
    ham = [0.9, 0.8, 0.8] + [0.1] * 197
    spam = [0.8, 0.85, 0.9, 0.95]
    m = compute_metrics([0] * 200 + [1] * 4, ham + spam, 0.99, 0.5)
    assert m["fnr_at_fpr_1pct"] == pytest.approx(1 / 4)  # above 0.8: 0.8 missed
    assert m["fnr_at_fpr_0_1pct"] == pytest.approx(3 / 4)  # above 0.9: 0.8, 0.85, 0.9 missed


def test_oracle_budget_is_decimal_floor_not_float_product():
    # 0.29 * 100 == 28.999999999999996 in floats; 29 ham are allowed.
    ham = list(np.linspace(0.99, 0.01, 100))
    spam = [ham[29], ham[28]]  # tied with the 30th and 29th highest ham
    assert fnr_at_fpr([0] * 100 + [1] * 2, ham + spam, 0.29) == pytest.approx(1 / 2)


@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0])),
        min_size=1,
        max_size=60,
    ),
    st.floats(0, 0.99),
)
def test_oracle_is_best_fnr_within_fp_budget(rows, fpr):
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    got = fnr_at_fpr(y, s, fpr)
    ham, spam = s[y == 0], s[y == 1]
    if not (ham.size and spam.size):
        assert got is None
        return
    # Brute force over every cut-off that matters: at each score, just above it, never.
    candidates = np.concatenate([s, np.nextafter(s, 2.0), [2.0]])
    within = [c for c in candidates if np.mean(ham >= c) <= fpr]
    assert got == pytest.approx(min(np.mean(spam < c) for c in within))


@pytest.mark.parametrize(
    ("y", "s", "spam_cut", "unsure_cut"),
    [
        pytest.param([0, 2], [0.1, 0.2], 0.9, 0.5, id="label-not-0-1"),
        pytest.param([0, 1], [0.1, 1.2], 0.9, 0.5, id="score-above-1"),
        pytest.param([0, 1], [0.1, float("nan")], 0.9, 0.5, id="nan-score"),
        pytest.param([0, 1], [0.1], 0.9, 0.5, id="length-mismatch"),
        pytest.param(["ham", "spam"], [0.1, 0.2], 0.9, 0.5, id="text-labels"),
        pytest.param([], [], 0.9, 0.5, id="empty"),
        pytest.param([0, 1], [0.1, 0.2], 0.5, 0.9, id="unsure-above-spam"),
    ],
)
def test_bad_input_raises_input_error(y, s, spam_cut, unsure_cut):
    with pytest.raises(InputError):
        compute_metrics(y, s, spam_cut, unsure_cut)
