"""Checks shared by the metrics and threshold helpers: labels are 0/1, scores are in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from spamsift.exceptions import InputError

__all__ = ["check_labels_scores", "check_rate", "allowed_false_positives"]


def check_labels_scores(
    y_true: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y, s)`` as 1-D int and float arrays, or raise :class:`InputError`."""
    try:
        y = np.asarray(y_true, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"y_true: expected 0/1 labels (1 = spam), got {y_true!r:.80}") from exc
    try:
        s = np.asarray(scores, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"scores: expected numbers in [0, 1], got {scores!r:.80}") from exc
    if y.ndim != 1 or s.ndim != 1:
        raise InputError(f"expected 1-D y_true and scores, got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise InputError(f"expected one score per label, got {y.size} labels and {s.size} scores")
    bad = y[(y != 0) & (y != 1)]
    if bad.size:
        raise InputError(f"y_true: expected only 0 (ham) and 1 (spam), got {np.unique(bad)[:5]}")
    bad = s[~((s >= 0) & (s <= 1))]  # written this way so NaN is caught too
    if bad.size:
        raise InputError(f"scores: expected spam probabilities in [0, 1], got {bad[:5]}")
    return y.astype(np.int8), s


def check_rate(name: str, rate: float) -> float:
    """Return ``rate`` as a float if it lies in [0, 1), else raise :class:`InputError`."""
    try:
        r = float(rate)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected a rate in [0, 1), got {rate!r}") from exc
    if not 0 <= r < 1:
        raise InputError(f"{name}: expected a rate in [0, 1), got {rate!r}")
    return r


def allowed_false_positives(n_ham: int, rate: float) -> int:
    """The most ham, ``k``, that may score spam while ``k / n_ham <= rate``.

    This is ``floor(rate * n_ham)`` as the decimal reader means it: the float product
    can land just under an integer (``0.29 * 100`` is ``28.999...``), so the count is
    nudged until it agrees with the check ``k / n_ham <= rate`` a caller would write.
    """
    k = math.floor(rate * n_ham)
    while k + 1 <= n_ham and (k + 1) / n_ham <= rate:
        k += 1
    while k > 0 and k / n_ham > rate:
        k -= 1
    return k
