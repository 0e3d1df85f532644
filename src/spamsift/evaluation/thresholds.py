"""Cut-offs chosen for a false-positive budget, and error rates across cut-offs.

A message is called spam when its score is at or above the cut-off, so "the rate of
ham at or above ``c``" is the false-positive rate at ``c``. The spam cut-off is picked
on out-of-fold *training* scores, never on the test set the report describes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spamsift.evaluation._validate import (
    allowed_false_positives,
    check_labels_scores,
    check_rate,
)
from spamsift.exceptions import InputError

__all__ = ["cutoff_for_fpr", "rates_by_threshold"]


def cutoff_for_fpr(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    target_fpr: float,
) -> float:
    """The lowest cut-off that keeps the share of ham scored spam at or below a target.

    With ``k`` ham allowed at or above the cut-off (the largest ``k`` with
    ``k / n_ham <= target_fpr``), the cut-off is the next float above the ``(k+1)``-th
    highest ham score. Ties are handled conservatively: every ham tied with that score
    falls below the cut-off, so fewer than ``k`` ham may end up above it, never more.

    Parameters
    ----------
    y_true : array-like of int
        1 for spam, 0 for ham.
    scores : array-like of float
        Spam probabilities in [0, 1], for example out-of-fold training predictions.
    target_fpr : float
        The largest acceptable share of ham called spam, in [0, 1).

    Returns
    -------
    float
        The cut-off. It may exceed 1 (when the budget allows no ham and some ham scored
        1.0): then nothing is called spam, which is what the budget demands. It is the
        next *float64* above a ham score: stored at lower precision it could round onto
        that score and let the ham through.

    Raises
    ------
    InputError
        If there is no ham to measure a false-positive rate on, or the inputs are malformed.

    Examples
    --------
    >>> cutoff_for_fpr([0, 0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9, 0.95], 0.25)
    0.30000000000000004
    """
    y, s = check_labels_scores(y_true, scores)
    target = check_rate("target_fpr", target_fpr)
    ham = np.sort(s[y == 0])[::-1]
    if ham.size == 0:
        raise InputError(
            f"cutoff_for_fpr needs ham to measure false positives on, got {y.size} spam and no ham"
        )
    k = allowed_false_positives(ham.size, target)
    return float(np.nextafter(ham[k], np.inf))


def rates_by_threshold(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    thresholds: Sequence[float] | np.ndarray,
) -> dict[str, np.ndarray]:
    """False-positive and false-negative rates at each of the given cut-offs.

    Parameters
    ----------
    y_true : array-like of int
        1 for spam, 0 for ham.
    scores : array-like of float
        Spam probabilities in [0, 1].
    thresholds : array-like of float
        Cut-offs to evaluate; a score at or above a cut-off is called spam.

    Returns
    -------
    dict
        ``threshold``, ``fpr`` (share of ham at or above each cut-off) and ``fnr``
        (share of spam below it), as float arrays in the order given. A rate whose
        class is absent is NaN.

    Examples
    --------
    >>> r = rates_by_threshold([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], [0.5])
    >>> float(r["fpr"][0]), float(r["fnr"][0])
    (0.5, 0.5)
    """
    y, s = check_labels_scores(y_true, scores)
    t = np.asarray(thresholds, dtype=float)
    if t.ndim != 1:
        raise InputError(f"thresholds: expected a 1-D sequence, got shape {t.shape}")
    ham = np.sort(s[y == 0])
    spam = np.sort(s[y == 1])
    # searchsorted(side="left") counts the scores strictly below each cut-off.
    with np.errstate(invalid="ignore", divide="ignore"):
        fpr = (ham.size - np.searchsorted(ham, t, side="left")) / ham.size
        fnr = np.searchsorted(spam, t, side="left") / spam.size
    return {"threshold": t, "fpr": fpr.astype(float), "fnr": fnr.astype(float)}
