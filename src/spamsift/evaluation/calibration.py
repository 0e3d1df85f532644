"""Do the scores mean what they say? Brier score, log loss and calibration by score bin.

A score is read as a spam probability: of the mail scored 0.8, four in five should be
spam. The ranking figures (AUC, the oracle miss rates) cannot see a model that ranks
well but says 0.999 where 0.9 is true; these can.

Bins hold about equal numbers of messages rather than equal score widths: a spam
filter's scores crowd near 0 and 1, and equal-width bins would leave the middle, where
the unsure verdicts live, nearly empty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spamsift.evaluation._validate import check_labels_scores

__all__ = [
    "LOG_LOSS_EPS",
    "brier_score",
    "log_loss",
    "equal_count_bins",
    "reliability",
    "expected_calibration_error",
]

# A score of exactly 0 or 1 on the wrong class costs infinite log loss; clipped, one
# such message costs -ln(1e-15) = 34.5 nats, scikit-learn's long-standing default.
LOG_LOSS_EPS = 1e-15


def brier_score(
    y_true: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> float | None:
    """Mean squared difference between the spam probability and the label (0 is perfect).

    Examples
    --------
    >>> brier_score([0, 1], [0.5, 1.0])
    0.125
    """
    y, s = check_labels_scores(y_true, scores)
    return float(np.mean((s - y) ** 2)) if y.size else None


def log_loss(
    y_true: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> float | None:
    """Mean negative log-likelihood of the labels, scores clipped to ``[eps, 1 - eps]``.

    ``eps`` is :data:`LOG_LOSS_EPS`, so a confident mistake costs a large but finite loss.
    """
    y, s = check_labels_scores(y_true, scores)
    if not y.size:
        return None
    p = np.clip(s, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def equal_count_bins(values: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Bin number of each value: about ``len(values) / n_bins`` to a bin, in value order.

    Equal values always share a bin (a bin boundary never splits a tie, which would
    make the result depend on the input order), so a heavily tied set gets fewer,
    larger bins. Bins are numbered 0, 1, ... with no gaps. Used for scores here and
    for dates in :mod:`spamsift.evaluation.timeline`.
    """
    s = np.asarray(values, dtype=float)
    if s.size == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(s, kind="stable")
    ordered = s[order]
    # Each value takes the bin of the first value equal to it.
    first = np.searchsorted(ordered, ordered, side="left")
    _, dense = np.unique(first * n_bins // s.size, return_inverse=True)
    out = np.empty(s.size, dtype=int)
    out[order] = dense
    return out


def reliability(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    n_bins: int = 10,
) -> dict[str, np.ndarray]:
    """Mean score against observed spam rate in equal-count score bins.

    Returns
    -------
    dict of arrays, one entry per bin in score order
        ``mean_score``, ``spam_rate``, ``count``, ``n_spam``, and the bin's score
        range ``lo`` and ``hi``. A calibrated model has ``mean_score == spam_rate``.

    Examples
    --------
    >>> r = reliability([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9], n_bins=2)
    >>> r["mean_score"].tolist(), r["spam_rate"].tolist(), r["count"].tolist()
    ([0.1, 0.9], [0.0, 1.0], [2, 2])
    """
    y, s = check_labels_scores(y_true, scores)
    b = equal_count_bins(s, n_bins)
    k = int(b.max()) + 1 if b.size else 0
    count = np.bincount(b, minlength=k)
    n_spam = np.bincount(b, weights=y, minlength=k)
    safe = np.maximum(count, 1)  # no bin is empty; this only keeps numpy quiet on k == 0
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    np.minimum.at(lo, b, s)
    np.maximum.at(hi, b, s)
    return {
        "mean_score": np.bincount(b, weights=s, minlength=k) / safe,
        "spam_rate": n_spam / safe,
        "count": count,
        "n_spam": n_spam.astype(int),
        "lo": lo,
        "hi": hi,
    }


def expected_calibration_error(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    n_bins: int = 10,
) -> float | None:
    """Size-weighted mean of ``|mean score - spam rate|`` over :func:`reliability`'s bins.

    0 when every bin's mean score equals its share of spam; None without input.

    Examples
    --------
    >>> expected_calibration_error([0, 0, 0, 1], [0.25, 0.25, 0.25, 0.25], n_bins=1)
    0.0
    """
    r = reliability(y_true, scores, n_bins)
    n = int(r["count"].sum())
    if not n:
        return None
    return float(np.sum(r["count"] * np.abs(r["mean_score"] - r["spam_rate"])) / n)
