"""Scores against labels: the numbers a spam filter is judged by.

Verdicts come from two cut-offs: spam at or above ``spam_cutoff``, unsure from
``unsure_cutoff`` up to it, ham below. The binary figures (precision, recall, the
confusion matrix, FPR, FNR) treat *unsure as not spam*: only a spam verdict is a
positive prediction, because only a spam verdict moves mail out of the inbox. Unsure
mail is counted on its own, per class. Calibration figures (Brier score, log loss,
expected calibration error) come from :mod:`spamsift.evaluation.calibration`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

from spamsift.evaluation._validate import check_labels_scores, check_rate
from spamsift.evaluation.calibration import brier_score, expected_calibration_error, log_loss
from spamsift.evaluation.thresholds import cutoff_for_fpr
from spamsift.exceptions import InputError

__all__ = ["compute_metrics", "fnr_at_fpr", "ECE_BINS"]

# Ten bins: on a test set of ~1,000 messages each holds ~100, enough that a bin's spam
# rate is not mostly noise; the report's reliability curve uses the same bins.
ECE_BINS = 10


def fnr_at_fpr(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    fpr: float,
) -> float | None:
    """Share of spam missed at the best cut-off that keeps false positives within ``fpr``.

    An oracle operating point, chosen on the very scores it is measured on: with
    ``k = floor(fpr * n_ham)`` false positives allowed, the cut-off sits just above
    the ``(k+1)``-th highest ham score, and spam tied with that ham score counts as
    missed. It says how well the scores *rank*, not how a deployed cut-off will do.

    Returns
    -------
    float or None
        None when there is no ham or no spam, since the rate is then undefined.

    Examples
    --------
    >>> fnr_at_fpr([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.8, 0.9], 0.0)
    0.5
    """
    y, s = check_labels_scores(y_true, scores)
    check_rate("fpr", fpr)
    spam = s[y == 1]
    if spam.size == 0 or spam.size == y.size:
        return None
    return float(np.mean(spam < cutoff_for_fpr(y, s, fpr)))


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def compute_metrics(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    spam_cutoff: float,
    unsure_cutoff: float,
) -> dict[str, Any]:
    """Every headline figure for one set of scores, as a JSON-ready dict.

    Parameters
    ----------
    y_true : array-like of int
        1 for spam, 0 for ham.
    scores : array-like of float
        Spam probabilities in [0, 1].
    spam_cutoff : float
        Scores at or above this are called spam.
    unsure_cutoff : float
        Scores from this up to ``spam_cutoff`` are called unsure; must not exceed
        ``spam_cutoff``.

    Returns
    -------
    dict
        Counts ``n``, ``n_spam``, ``n_ham``; the cut-offs; ``accuracy``, ``precision``,
        ``recall``, ``f1`` with unsure counted as not spam; ``roc_auc``,
        ``one_minus_roca_pct`` (``100 * (1 - roc_auc)``) and ``pr_auc`` (average
        precision); the confusion matrix ``tn``, ``fp``, ``fn``, ``tp`` and ``fpr``,
        ``fnr`` at the spam cut-off; ``unsure_ham``, ``unsure_spam``, ``unsure_rate``;
        the oracle points ``fnr_at_fpr_1pct``, ``fnr_at_fpr_0_1pct`` (see
        :func:`fnr_at_fpr`); and how well the scores work as probabilities: ``brier``
        (mean squared error), ``log_loss`` (scores clipped to ``[1e-15, 1 - 1e-15]``)
        and ``ece`` (expected calibration error over 10 equal-count score bins, see
        :func:`~spamsift.evaluation.calibration.expected_calibration_error`). Spam
        called ham outright is ``fn - unsure_spam``.

        Values are Python ints, floats or None. None marks a figure the input cannot
        define: ranking figures (AUCs, oracle points) when only one class is present,
        a ratio whose denominator is zero.

    Raises
    ------
    InputError
        On malformed labels or scores, no input at all, or ``unsure_cutoff > spam_cutoff``.

    Examples
    --------
    >>> m = compute_metrics([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.95], 0.9, 0.5)
    >>> m["tp"], m["fn"], m["unsure_ham"], m["unsure_spam"], m["roc_auc"]
    (1, 1, 1, 1, 1.0)
    """
    y, s = check_labels_scores(y_true, scores)
    if y.size == 0:
        raise InputError("compute_metrics: expected at least one labelled score, got none")
    spam_cut, unsure_cut = float(spam_cutoff), float(unsure_cutoff)
    if not unsure_cut <= spam_cut:  # also rejects NaN
        raise InputError(
            f"expected unsure_cutoff <= spam_cutoff, got unsure_cutoff={unsure_cutoff!r} "
            f"and spam_cutoff={spam_cutoff!r}"
        )

    is_spam = y == 1
    n_spam = int(is_spam.sum())
    n_ham = int(y.size - n_spam)
    pred = s >= spam_cut
    unsure = (s >= unsure_cut) & ~pred
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, pred, labels=[0, 1]).ravel())

    both_classes = n_spam > 0 and n_ham > 0
    # Undefined with one class: sklearn would warn and return NaN, which JSON cannot hold.
    roc_auc = float(roc_auc_score(y, s)) if both_classes else None
    pr_auc = float(average_precision_score(y, s)) if both_classes else None

    return {
        "n": int(y.size),
        "n_spam": n_spam,
        "n_ham": n_ham,
        "spam_cutoff": spam_cut,
        "unsure_cutoff": unsure_cut,
        "accuracy": (tp + tn) / y.size,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, n_spam),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": roc_auc,
        "one_minus_roca_pct": None if roc_auc is None else 100 * (1 - roc_auc),
        "pr_auc": pr_auc,
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
        "fpr": _ratio(fp, n_ham),
        "fnr": _ratio(fn, n_spam),
        "unsure_ham": int((unsure & ~is_spam).sum()),
        "unsure_spam": int((unsure & is_spam).sum()),
        "unsure_rate": float(unsure.mean()),
        "fnr_at_fpr_1pct": fnr_at_fpr(y, s, 0.01),
        "fnr_at_fpr_0_1pct": fnr_at_fpr(y, s, 0.001),
        "brier": brier_score(y, s),
        "log_loss": log_loss(y, s),
        "ece": expected_calibration_error(y, s, ECE_BINS),
    }
