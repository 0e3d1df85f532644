"""The report's plots, drawn on bare :class:`matplotlib.figure.Figure` objects.

A bare ``Figure`` needs no backend and is never registered with pyplot, so nothing
global changes and nothing is left open: a figure is garbage once its PNG is taken.
Each function returns a figure, or None when the data cannot define the plot.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter
from sklearn.metrics import precision_recall_curve, roc_curve

from spamsift.evaluation.calibration import reliability
from spamsift.evaluation.thresholds import rates_by_threshold
from spamsift.exceptions import InputError

__all__ = [
    "figure_png",
    "roc_figure",
    "pr_figure",
    "histogram_figure",
    "rates_figure",
    "learning_curve_figure",
    "reliability_figure",
    "timeline_figure",
]

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
HAM, SPAM, CURVE, MARK = "#0072B2", "#D55E00", "#009E73", "#444444"
_SIZE = (6.4, 4.2)


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """Render ``fig`` as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _new(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=_SIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax


def _cutoff_rates(y: np.ndarray, s: np.ndarray, cutoffs: Mapping[str, float]) -> list[tuple]:
    """``(name, cutoff, fpr, fnr)`` for each named cut-off."""
    names = list(cutoffs)
    values = [float(cutoffs[n]) for n in names]
    r = rates_by_threshold(y, s, values)
    return list(zip(names, values, r["fpr"], r["fnr"], strict=True))


def roc_figure(y: np.ndarray, s: np.ndarray, cutoffs: Mapping[str, float]) -> Figure | None:
    """ROC curve on a log false-positive axis, where a spam filter lives."""
    n_ham, n_spam = int((y == 0).sum()), int((y == 1).sum())
    if not (n_ham and n_spam):
        return None
    fpr, tpr, _ = roc_curve(y, s)
    # A log axis cannot show FPR 0: draw it at an edge below the smallest non-zero FPR.
    floor = min(1e-4, 0.5 / n_ham)
    fig, ax = _new("ROC curve")
    ax.plot(np.maximum(fpr, floor), tpr, color=CURVE, lw=1.8, label="this model")
    ax.plot([floor, 1], [floor, 1], color="#999999", lw=0.8, ls=":", label="chance")
    for ref, text in ((0.001, "0.1% FPR"), (0.01, "1% FPR")):
        ax.axvline(ref, color="#999999", lw=0.8, ls="--")
        ax.text(ref, 0.02, f" {text}", fontsize=8, color="#666666", rotation=90, va="bottom")
    for name, _, f, fn in _cutoff_rates(y, s, cutoffs):
        ax.plot(max(f, floor), 1 - fn, "o", color=MARK, ms=5)
        ax.annotate(
            name, (max(f, floor), 1 - fn), textcoords="offset points", xytext=(6, -12), fontsize=8
        )
    ax.set_xscale("log")
    ax.set_xlim(floor, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(f"false-positive rate (ham called spam; 0 drawn at {floor:g})")
    ax.set_ylabel("true-positive rate (spam caught)")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def pr_figure(y: np.ndarray, s: np.ndarray, cutoffs: Mapping[str, float]) -> Figure | None:
    """Precision against recall, with the named cut-offs marked."""
    n_ham, n_spam = int((y == 0).sum()), int((y == 1).sum())
    if not (n_ham and n_spam):
        return None
    precision, recall, _ = precision_recall_curve(y, s)
    fig, ax = _new("Precision-recall curve")
    ax.step(recall, precision, where="post", color=CURVE, lw=1.8, label="this model")
    ax.axhline(n_spam / (n_ham + n_spam), color="#999999", lw=0.8, ls=":", label="chance")
    for i, (name, _, f, fn) in enumerate(_cutoff_rates(y, s, cutoffs)):
        tp, fp = (1 - fn) * n_spam, f * n_ham
        if tp + fp > 0:
            ax.plot(1 - fn, tp / (tp + fp), "o", color=MARK, ms=5)
            ax.annotate(
                name,
                (1 - fn, tp / (tp + fp)),
                textcoords="offset points",
                xytext=(-8, -14 - 11 * i),
                fontsize=8,
                ha="right",
            )
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("recall (share of spam called spam)")
    ax.set_ylabel("precision (share of spam verdicts that are spam)")
    ax.legend(loc="lower left", fontsize=8)
    return fig


# Scores from naive-Bayes-like models crowd within 1e-6 of 0 and 1, where a linear axis
# shows two spikes and nothing else; a logit axis spreads both tails and keeps a
# calibrated model's 0.1-0.9 readable. Scores beyond the axis are drawn at its edges.
_EPS = 1e-6


def _score_axis(ax: Axes, s: np.ndarray, cutoffs: Mapping[str, float]) -> tuple[float, float]:
    """Put a logit score axis on ``ax`` spanning the data; return its limits."""
    vals = np.clip(np.concatenate([s, [float(v) for v in cutoffs.values()]]), _EPS, 1 - _EPS)
    lo, hi = min(float(vals.min()), 0.01), max(float(vals.max()), 0.99)
    ax.set_xscale("logit")
    ax.set_xlim(lo, hi)
    # matplotlib's own logit labels (1-10^{-3}) collide once several decades show.
    k_max = int(np.ceil(-np.log10(min(lo, 1 - hi))))
    step = 1 if k_max <= 4 else 2
    ticks, labels = [0.5], ["0.5"]
    for k in range(1, k_max + 1, step):
        small = 10.0**-k
        text = f"{small:.{k}f}" if k <= 2 else f"1e-{k}"
        ticks += [small, 1 - small]
        labels += [text, f"{1 - small:.{k}f}" if k <= 2 else f"1−1e-{k}"]
    order = np.argsort(ticks)
    ax.xaxis.set_major_locator(FixedLocator([ticks[i] for i in order]))
    ax.xaxis.set_major_formatter(FixedFormatter([labels[i] for i in order]))
    ax.xaxis.set_minor_formatter(NullFormatter())
    return lo, hi


def _logit_grid(lo: float, hi: float, n: int) -> np.ndarray:
    z = np.linspace(np.log(lo / (1 - lo)), np.log(hi / (1 - hi)), n)
    return 1 / (1 + np.exp(-z))


def _mark_cutoffs(ax: Axes, cutoffs: Mapping[str, float], lo: float, hi: float) -> None:
    for name, value in cutoffs.items():
        x = min(max(float(value), lo), hi)
        ax.axvline(x, color=MARK, lw=1, ls="--")
        ax.annotate(
            f"{name} = {float(value):.4g}",
            (x, 0.98),
            xycoords=("data", "axes fraction"),
            xytext=(-3, 0),
            textcoords="offset points",
            rotation=90,
            ha="right",
            va="top",
            fontsize=8,
            color=MARK,
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )


def histogram_figure(y: np.ndarray, s: np.ndarray, cutoffs: Mapping[str, float]) -> Figure:
    """Score histogram per class on a log count axis, so a handful of strays shows up."""
    fig, ax = _new("Scores by true class")
    lo, hi = _score_axis(ax, s, cutoffs)
    bins = _logit_grid(lo, hi, 51)
    for label, colour, name in ((0, HAM, "ham"), (1, SPAM, "spam")):
        part = np.clip(s[y == label], lo, hi)
        if part.size:
            ax.hist(part, bins=bins, color=colour, alpha=0.45, label=f"{name} ({part.size:,})")
            ax.hist(part, bins=bins, color=colour, histtype="step", lw=1.2)
    _mark_cutoffs(ax, cutoffs, lo, hi)
    ax.set_yscale("log")
    ax.set_xlabel("spam score (logit scale)")
    ax.set_ylabel("messages (log scale)")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return fig


def rates_figure(y: np.ndarray, s: np.ndarray, cutoffs: Mapping[str, float]) -> Figure:
    """False-positive and false-negative rates against the cut-off, log rate axis."""
    fig, ax = _new("Error rates against the spam cut-off")
    lo, hi = _score_axis(ax, s, cutoffs)
    grid = np.unique(np.concatenate([_logit_grid(lo, hi, 401), np.clip(s, lo, hi)]))
    r = rates_by_threshold(y, s, grid)
    n_max = max(int((y == 0).sum()), int((y == 1).sum()), 1)
    # A log axis cannot show a rate of 0: draw it on the bottom edge.
    floor = 0.5 / n_max
    for key, colour, text in (
        ("fpr", HAM, "FPR: ham called spam"),
        ("fnr", SPAM, "FNR: spam not called spam"),
    ):
        if not np.isnan(r[key]).all():
            # The rate at a grid point holds for every cut-off since the previous one.
            ax.step(grid, np.maximum(r[key], floor), where="pre", color=colour, lw=1.6, label=text)
    _mark_cutoffs(ax, cutoffs, lo, hi)
    ax.set_yscale("log")
    ax.set_ylim(floor, 1.5)
    ax.set_xlabel("cut-off: a score at or above it is called spam (logit scale)")
    ax.set_ylabel(f"rate (log scale; 0 drawn at {floor:.2g})")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return fig


def learning_curve_figure(curve: Mapping[str, Any]) -> Figure:
    """Training and validation score against training-set size.

    ``curve`` holds ``train_sizes`` and ``train_scores``/``valid_scores`` as one value
    per size, or one row of fold scores per size (as from
    :func:`sklearn.model_selection.learning_curve`), then drawn as mean with ±1 sd band.
    """
    missing = [k for k in ("train_sizes", "train_scores", "valid_scores") if k not in curve]
    if missing:
        raise InputError(
            f"learning_curve: expected keys train_sizes, train_scores, valid_scores, "
            f"metric; missing {missing}"
        )
    sizes = np.asarray(curve["train_sizes"], dtype=float)
    series = {}
    for key in ("train_scores", "valid_scores"):
        vals = np.asarray(curve[key], dtype=float)
        if vals.ndim not in (1, 2) or vals.shape[0] != sizes.size:
            raise InputError(
                f"learning_curve[{key!r}]: expected one value or one row of fold scores "
                f"per training size ({sizes.size}), got shape {vals.shape}"
            )
        series[key] = vals.reshape(sizes.size, -1)
    fig, ax = _new("Learning curve")
    for key, colour, text in (
        ("train_scores", HAM, "training"),
        ("valid_scores", SPAM, "validation"),
    ):
        vals = series[key]
        mean, sd = vals.mean(axis=1), vals.std(axis=1)
        ax.plot(sizes, mean, "o-", color=colour, lw=1.6, ms=4, label=text)
        if vals.shape[1] > 1:
            ax.fill_between(sizes, mean - sd, mean + sd, color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("training-set size (messages)")
    ax.set_ylabel(str(curve.get("metric", "score")))
    ax.legend(loc="best", fontsize=8)
    return fig


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson interval for ``k`` successes in ``n``: sound at 0 and at n."""
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return mid - half, mid + half


def reliability_figure(y: np.ndarray, s: np.ndarray, n_bins: int = 10) -> Figure | None:
    """Observed spam rate against mean score in equal-count bins, beside the diagonal.

    Point area grows with the bin's messages and each point is labelled with its count
    (labels that would overlap a neighbour's are left off); bars are 95 % intervals.
    """
    if not y.size:
        return None
    r = reliability(y, s, n_bins)
    x, rate, count = r["mean_score"], r["spam_rate"], r["count"]
    lo, hi = _wilson(r["n_spam"], count)
    fig, ax = _new("Reliability: spam rate against score")
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=":", label="calibrated")
    # Rounding can put a bound a hair past the rate at 0 or 1; matplotlib refuses that.
    yerr = np.maximum([rate - lo, hi - rate], 0)
    ax.errorbar(x, rate, yerr=yerr, fmt="none", ecolor=CURVE, lw=1, alpha=0.6)
    ax.plot(x, rate, "-", color=CURVE, lw=1)
    ax.scatter(x, rate, s=15 + 185 * count / count.max(), color=CURVE, alpha=0.8, zorder=3,
               label=f"{count.size} bins of ~{int(np.median(count)):,} (area: messages)")
    placed: list[tuple[float, float]] = []
    for xi, ri, n in zip(x, rate, count, strict=True):
        if all(abs(xi - px) > 0.06 or abs(ri - pr) > 0.06 for px, pr in placed):
            ax.annotate(f"{n:,}", (xi, ri), textcoords="offset points", xytext=(6, -10),
                        fontsize=7, color=MARK)
            placed.append((xi, ri))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean spam score in the bin")
    ax.set_ylabel("share of the bin that is spam")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def timeline_figure(over_time: Mapping[str, Any]) -> Figure | None:
    """FPR, FNR and unsure rate per time bucket (log axis), with the bucket sizes below.

    ``over_time`` is :func:`spamsift.evaluation.timeline.rates_over_time`'s result.
    None when fewer than two buckets have a rate to draw.
    """
    buckets = list(over_time.get("buckets", ()))
    series = {k: np.array([np.nan if b[k] is None else b[k] for b in buckets], dtype=float)
              for k in ("fpr", "fnr", "unsure_rate")}
    drawable = ~np.isnan(series["fpr"]) | ~np.isnan(series["fnr"])
    if drawable.sum() < 2:
        return None
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    per = "month" if over_time.get("bucketing") == "month" else "equal-count time bucket"
    top.set_title(f"Error rates per {per}", fontsize=11)
    top.grid(True, which="major", alpha=0.3)
    pos = np.arange(len(buckets))
    n_max = max(max(b["n_ham"], b["n_spam"]) for b in buckets)
    floor = 0.5 / n_max  # a log axis cannot show 0: draw it on the bottom edge
    for key, colour, style, text in (
        ("fpr", HAM, "o-", "FPR: ham called spam"),
        ("fnr", SPAM, "s-", "FNR: spam not called spam (unsure = missed)"),
        ("unsure_rate", MARK, "^--", "unsure: all messages"),
    ):
        if not np.isnan(series[key]).all():
            top.plot(pos, np.maximum(series[key], floor), style, color=colour, lw=1.4, ms=4,
                     label=text)
    top.set_yscale("log")
    top.set_ylim(floor, 1.5)
    top.set_ylabel(f"rate (log; 0 drawn at {floor:.2g})")
    ham = np.array([b["n_ham"] for b in buckets])
    spam = np.array([b["n_spam"] for b in buckets])
    bottom.bar(pos, ham, color=HAM, alpha=0.6, label="ham")
    bottom.bar(pos, spam, bottom=ham, color=SPAM, alpha=0.6, label="spam")
    bottom.set_ylabel("messages", fontsize=8)
    handles = top.get_legend_handles_labels()[0] + bottom.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7)
    bottom.set_xticks(pos, [b["label"] for b in buckets], rotation=45, ha="right", fontsize=7)
    return fig
