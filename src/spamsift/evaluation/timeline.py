"""Error rates over time: does the model get worse as the test mail gets newer?

Spam changes faster than ham, so a model trained on older mail tends to miss more of
the newer spam. :func:`rates_over_time` buckets the dated test messages by calendar
month, or into equal-count buckets when the mail covers too few months, and gives each
bucket its false-positive, false-negative and unsure rate at the model's cut-offs.

A rate from a handful of messages is noise: a bucket with fewer than ``min_count``
messages of a class gets no rate for that class, and one with fewer than
``min_count`` messages in all is left out; the result counts both so a reader is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spamsift.evaluation._validate import check_labels_scores
from spamsift.evaluation.calibration import equal_count_bins
from spamsift.exceptions import InputError

__all__ = ["MIN_COUNT", "MIN_MONTHS", "MAX_BUCKETS", "rates_over_time"]

# Twenty messages put a single error at 5 %: coarse, but a drift from 0 % to 20 %
# still shows. Below that one message swings the rate too far to read.
MIN_COUNT = 20
# Monthly buckets need this many months with MIN_COUNT messages each; fewer months
# (a test set spanning weeks) say nothing about drift, so equal-count buckets are used.
MIN_MONTHS = 3
MAX_BUCKETS = 12

# Dates beyond these are forged or broken headers (and do not fit datetime64[s] maths):
# such messages count as undated. 1900-01-01 and 2200-01-01 in Unix seconds.
_EARLIEST, _LATEST = -2_208_988_800, 7_258_118_400


def _check_timestamps(timestamps: Sequence[float | None], n: int) -> np.ndarray:
    """Unix seconds as floats, NaN where unknown; raise if malformed."""
    try:
        t = np.array([np.nan if v is None else float(v) for v in timestamps], dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"timestamps: expected a sequence of Unix seconds or None, got {timestamps!r:.80}"
        ) from exc
    if t.shape != (n,):
        raise InputError(f"timestamps: expected one per score ({n}), got {t.size}")
    t[~((t >= _EARLIEST) & (t <= _LATEST))] = np.nan  # NaN fails both comparisons
    return t


def _rate(part: int, whole: int, min_count: int) -> float | None:
    return part / whole if whole >= min_count else None


def _labels(starts: np.ndarray, monthly: bool) -> list[str]:
    if monthly:
        return [str(m) for m in starts.astype("datetime64[M]")]
    days = starts.astype("datetime64[D]")
    unit = "D" if len(set(days.tolist())) == len(days) else "m"
    return [str(v).replace("T", " ") for v in starts.astype(f"datetime64[{unit}]")]


def rates_over_time(
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    timestamps: Sequence[float | None],
    spam_cutoff: float,
    unsure_cutoff: float,
    min_count: int = MIN_COUNT,
) -> dict[str, Any]:
    """FPR, FNR and unsure rate per time bucket, oldest first.

    Parameters
    ----------
    y_true, scores : array-like
        Labels (1 = spam) and spam scores.
    timestamps : sequence of float or None
        Each message's Date in Unix seconds, None when it has none.
    spam_cutoff, unsure_cutoff : float
        The verdict cut-offs, as in :func:`~spamsift.evaluation.compute_metrics`: the
        false-negative rate counts unsure spam as missed.
    min_count : int
        Fewest messages of a class for its rate in a bucket, and fewest in all for the
        bucket to be kept.

    Returns
    -------
    dict
        ``bucketing`` (``"month"``, ``"equal-count"``, or None with no dated message),
        ``n_dated``, ``n_undated``, ``min_count``; ``buckets``, each with ``label``,
        ``start`` and ``end`` (ISO dates of its oldest and newest message), ``n_ham``,
        ``n_spam``, ``fp``, ``fn``, ``unsure`` and the rates ``fpr``, ``fnr``,
        ``unsure_rate`` (None below ``min_count``); ``dropped``, the number of buckets
        left out for having fewer than ``min_count`` messages, and
        ``dropped_messages``, the messages in them.

    Examples
    --------
    Eighty messages an hour apart cover one month: two equal-count buckets.

    >>> r = rates_over_time([0, 1] * 40, [0.1, 0.9] * 40, [i * 3600 for i in range(80)],
    ...                     0.5, 0.5)
    >>> r["bucketing"], [(b["label"], b["n_ham"], b["fpr"]) for b in r["buckets"]]
    ('equal-count', [('1970-01-01', 20, 0.0), ('1970-01-02', 20, 0.0)])
    """
    y, s = check_labels_scores(y_true, scores)
    t = _check_timestamps(timestamps, y.size)
    dated = ~np.isnan(t)
    out: dict[str, Any] = {
        "bucketing": None,
        "n_dated": int(dated.sum()),
        "n_undated": int((~dated).sum()),
        "min_count": int(min_count),
        "buckets": [],
        "dropped": 0,
        "dropped_messages": 0,
    }
    if not dated.any():
        return out
    y, s, t = y[dated], s[dated], t[dated]
    seconds = t.astype(np.int64).astype("datetime64[s]")
    months = seconds.astype("datetime64[M]").astype(np.int64)
    _, month_counts = np.unique(months, return_counts=True)
    monthly = int((month_counts >= min_count).sum()) >= MIN_MONTHS
    if monthly:
        _, bucket = np.unique(months, return_inverse=True)
    else:
        # Enough buckets that the rarer class can fill each with 2 x min_count.
        present = [c for c in (int((y == 0).sum()), int((y == 1).sum())) if c]
        k = int(np.clip(min(present) // (2 * min_count), 2, MAX_BUCKETS))
        bucket = equal_count_bins(t, k)
    out["bucketing"] = "month" if monthly else "equal-count"

    spam_call = s >= spam_cutoff
    unsure_call = (s >= unsure_cutoff) & ~spam_call
    kept, starts = [], []
    for b in range(int(bucket.max()) + 1):
        inb = bucket == b
        n = int(inb.sum())
        if n < min_count:
            out["dropped"] += 1
            out["dropped_messages"] += n
            continue
        ham, spam = inb & (y == 0), inb & (y == 1)
        n_ham, n_spam = int(ham.sum()), int(spam.sum())
        fp = int((ham & spam_call).sum())
        fn = int((spam & ~spam_call).sum())
        unsure = int((inb & unsure_call).sum())
        starts.append(seconds[inb].min())
        kept.append(
            {
                "start": str(seconds[inb].min().astype("datetime64[D]")),
                "end": str(seconds[inb].max().astype("datetime64[D]")),
                "n_ham": n_ham,
                "n_spam": n_spam,
                "fp": fp,
                "fn": fn,
                "unsure": unsure,
                "fpr": _rate(fp, n_ham, min_count),
                "fnr": _rate(fn, n_spam, min_count),
                "unsure_rate": _rate(unsure, n, min_count),
            }
        )
    labels = _labels(np.array(starts, dtype="datetime64[s]"), monthly)
    for row, label in zip(kept, labels, strict=True):
        row["label"] = label
    out["buckets"] = kept
    return out
