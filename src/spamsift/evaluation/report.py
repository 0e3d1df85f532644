"""The evaluation report: ``metrics.json`` for machines, ``report.html`` for people.

The HTML page is one self-contained file (plots embedded as PNG data URIs, inline CSS),
so it can be mailed or attached to a ticket as it is.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from spamsift.evaluation import plots
from spamsift.evaluation._html import esc, num, page, rate, table
from spamsift.evaluation._validate import check_labels_scores
from spamsift.evaluation.calibration import reliability
from spamsift.evaluation.metrics import ECE_BINS
from spamsift.evaluation.thresholds import rates_by_threshold
from spamsift.evaluation.timeline import MIN_MONTHS, rates_over_time
from spamsift.exceptions import InputError

__all__ = ["write_report"]

# (key, label, kind, what it means); kind "rate" prints as a percentage.
_HEADLINE = [
    ("roc_auc", "ROC AUC", "num", "chance that a random spam outscores a random ham"),
    ("one_minus_roca_pct", "1 − AUC (%)", "num", "the same, as a percentage of ranking error"),
    ("pr_auc", "Average precision", "num", "area under the precision-recall curve"),
    (
        "fnr_at_fpr_1pct",
        "Spam missed at 1% FPR",
        "rate",
        "oracle: best cut-off on these scores letting 1% of ham through",
    ),
    ("fnr_at_fpr_0_1pct", "Spam missed at 0.1% FPR", "rate", "oracle, as above, at 0.1%"),
    ("fpr", "False-positive rate", "rate", "ham called spam at the spam cut-off"),
    ("fnr", "False-negative rate", "rate", "spam not called spam (unsure counts as missed)"),
    ("unsure_rate", "Unsure", "rate", "messages between the two cut-offs"),
    ("brier", "Brier score", "num", "mean squared error of the spam probability (0 is perfect)"),
    (
        "ece",
        "Calibration error (ECE)",
        "num",
        f"size-weighted mean |score − spam rate| over {ECE_BINS} equal-count score bins",
    ),
    ("precision", "Precision", "num", "share of spam verdicts that are spam"),
    ("recall", "Recall", "num", "share of spam given a spam verdict"),
    ("f1", "F1", "num", "harmonic mean of precision and recall"),
    ("accuracy", "Accuracy", "num", "share of messages whose spam / not-spam call is right"),
]


def _jsonable(obj: Any, where: str) -> Any:
    """``obj`` with numpy values unwrapped, paths as text and NaN/inf as None."""
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic | np.ndarray):
        return _jsonable(obj.tolist(), where)
    if isinstance(obj, Path):
        return obj.as_posix()
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, Sequence):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise InputError(
        f"{where}: expected JSON-ready values (numbers, text, lists, dicts, numpy values), "
        f"got {type(obj).__name__}"
    )


def _img(fig: Figure | None, fig_id: str, alt: str, caption: str, missing: str) -> str:
    if fig is None:
        return f'<figure id="{fig_id}"><p class="na">{esc(missing)}</p></figure>'
    data = base64.b64encode(plots.figure_png(fig)).decode("ascii")
    return (
        f'<figure id="{fig_id}"><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _headline(m: Mapping[str, Any]) -> str:
    # Rates read better beside the counts they come from: "0.1% (4 of 4,000)".
    counts = {
        "fpr": (m.get("fp"), m.get("n_ham")),
        "fnr": (m.get("fn"), m.get("n_spam")),
        "unsure_rate": ((m.get("unsure_ham") or 0) + (m.get("unsure_spam") or 0), m.get("n")),
    }
    rows = []
    for key, label, kind, meaning in _HEADLINE:
        if key in m:
            value = rate(m[key]) if kind == "rate" else num(m[key])
            part, whole = counts.get(key, (None, None))
            if m[key] is not None and part is not None and whole is not None:
                value += f' <span class="note">({num(part)} of {num(whole)})</span>'
            rows.append([esc(label), value, f'<span class="note">{esc(meaning)}</span>'])
    return table(["metric", "value", "meaning"], rows, cls="num")


def _confusion(m: Mapping[str, Any]) -> str:
    keys = ("tn", "fp", "fn", "tp", "unsure_ham", "unsure_spam")
    if any(m.get(k) is None for k in keys):
        return '<p class="na">The metrics hold no confusion counts.</p>'
    tn, fp, fn, tp, u_ham, u_spam = (int(m[k]) for k in keys)
    rows = []
    for name, cells, classes in (
        ("ham", (tn - u_ham, u_ham, fp), ("ok", "mid", "bad")),
        ("spam", (fn - u_spam, u_spam, tp), ("bad", "mid", "ok")),
    ):
        total = sum(cells)
        tds = [
            f'<td class="n {c}">{v:,}<br><span class="note">{rate(v / total if total else None)}'
            "</span></td>"
            for v, c in zip(cells, classes, strict=True)
        ]
        rows.append(f'<tr><th>{name}</th>{"".join(tds)}<td class="n">{total:,}</td></tr>')
    return (
        "<table>\n<thead><tr><th>true class ↓ / verdict →</th><th>ham</th><th>unsure</th>"
        "<th>spam</th><th>total</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + '\n</tbody>\n</table>\n<p class="note">Binary figures use the spam cut-off: '
        f"tn = {tn:,}, fp = {fp:,}, fn = {fn:,} (of which {u_spam:,} unsure), tp = {tp:,}. "
        "Row percentages are shares of the true class.</p>"
    )


def _check_cutoffs(cutoffs: Mapping[str, Any]) -> dict[str, float]:
    checked = {}
    for name, value in cutoffs.items():
        try:
            checked[str(name)] = float(value)
        except (TypeError, ValueError):
            checked[str(name)] = math.nan
        if math.isnan(checked[str(name)]):
            raise InputError(f"cutoffs[{name!r}]: expected a number, got {value!r:.40}")
    return checked


def _cutoffs(y: np.ndarray, s: np.ndarray, cutoffs: Mapping[str, float]) -> str:
    if not cutoffs:
        return '<p class="na">No cut-offs were given.</p>'
    r = rates_by_threshold(y, s, [float(v) for v in cutoffs.values()])
    rows = [
        [esc(name), repr(float(v)), rate(f), rate(fn)]
        for name, v, f, fn in zip(cutoffs, cutoffs.values(), r["fpr"], r["fnr"], strict=True)
    ]
    return table(["cut-off", "score", "FPR at it (ham ≥)", "FNR at it (spam <)"], rows, cls="num")


def _fit(diagnosis: Mapping[str, Any] | None) -> str:
    if not diagnosis:
        return '<p class="na">No fit diagnosis was given.</p>'
    parts = []
    if "verdict" in diagnosis:
        parts.append(f'<p>Verdict: <span class="verdict">{esc(diagnosis["verdict"])}</span></p>')
    rest = [[esc(k), num(v)] for k, v in diagnosis.items() if k not in ("verdict", "explanation")]
    if rest:
        parts.append(table(["measure", "value"], rest, cls="num"))
    if "explanation" in diagnosis:
        parts.append(f"<p>{esc(diagnosis['explanation'])}</p>")
    return "\n".join(parts)


def _is_spam_label(label: Any, where: str) -> bool:
    if isinstance(label, str) and label.strip().lower() in ("spam", "ham", "1", "0"):
        return label.strip().lower() in ("spam", "1")
    if isinstance(label, int | np.integer) and label in (0, 1):
        return bool(label == 1)
    raise InputError(f"{where}.label: expected 0/1 or 'ham'/'spam', got {label!r:.40}")


def _score_key(e: Mapping[str, Any]) -> float:
    try:
        return float(e.get("score"))
    except (TypeError, ValueError):
        return math.nan


def _clues(clues: Any, limit: int = 12) -> str:
    if not clues:
        return ""
    out = []
    for pair in list(clues)[:limit]:
        if isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2:
            out.append(f'<span class="clue"><code>{esc(pair[0])}</code> {num(pair[1])}</span>')
        else:
            out.append(f'<span class="clue"><code>{esc(pair)}</code></span>')
    return " ".join(out)


def _split_errors(errors: Sequence[Mapping[str, Any]], name: str = "errors") -> tuple[list, list]:
    """``(ham, spam)`` errors, each worst first: ham scored highest, spam lowest."""
    ham, spam = [], []
    for i, e in enumerate(errors):
        (spam if _is_spam_label(e.get("label"), f"{name}[{i}]") else ham).append(e)
    # Unscored errors go last.
    ham.sort(key=lambda e: (math.isnan(_score_key(e)), -_score_key(e)))
    spam.sort(key=lambda e: (math.isnan(_score_key(e)), _score_key(e)))
    return ham, spam


def _errors(chosen: Sequence[Mapping[str, Any]], max_rows: int) -> str:
    if not chosen:
        return '<p class="na">None.</p>'
    rows = [
        [
            str(i),
            num(_score_key(e)),
            esc(e.get("verdict", "")),
            f'<span class="mail">{esc(e.get("source", ""))}</span>',
            f'<span class="mail">{esc(e.get("subject", ""))}</span>',
            _clues(e.get("clues")),
        ]
        for i, e in enumerate(chosen[:max_rows], 1)
    ]
    shown = ""
    if len(chosen) > len(rows):
        shown = f'<p class="note">Showing the {len(rows)} worst of {len(chosen):,}.</p>\n'
    return shown + table(["#", "score", "verdict", "source", "subject", "top clues"], rows)


def _prob(p: float) -> str:
    """A probability readable at both ends: 0.99997 as ``1 − 3e-05``, not ``1``."""
    if p > 0.999 and p != 1:
        return f"1 − {1 - p:.2g}"
    return f"{p:.2g}" if p < 0.001 else f"{p:.4g}"


def _calibration(y: np.ndarray, s: np.ndarray) -> str:
    if not y.size:
        return '<p class="na">No scores.</p>'
    r = reliability(y, s, ECE_BINS)
    rows = [
        [
            _prob(lo) if lo == hi else f"{_prob(lo)} – {_prob(hi)}",
            num(int(n)),
            num(int(k)),
            _prob(m),
            _prob(p),
        ]
        for lo, hi, n, k, m, p in zip(
            r["lo"], r["hi"], r["count"], r["n_spam"], r["mean_score"], r["spam_rate"],
            strict=True,
        )
    ]
    return (
        '<p class="note">The reliability curve\'s bins: equal numbers of messages, so the '
        "sparse middle of the score range gets a bin of its own; equal scores are never "
        "split between bins. A calibrated model's mean score matches its spam share.</p>\n"
        + table(["score range", "messages", "spam", "mean score", "spam share"], rows, cls="num")
    )


def _over_time_notes(ot: Mapping[str, Any] | None) -> str:
    if ot is None:
        return "No message dates were given: the rates-over-time figure is omitted."
    if not ot["n_dated"]:
        return "No test message has a usable Date header: the rates-over-time figure is omitted."
    k = ot["min_count"]
    per = "month" if ot["bucketing"] == "month" else "bucket"
    parts = [
        "Buckets are calendar months (UTC)."
        if per == "month"
        else f"Buckets hold about equal numbers of messages: fewer than {MIN_MONTHS} "
        f"calendar months hold {k} messages or more.",
        f"{ot['n_dated']:,} messages are dated"
        + (f"; {ot['n_undated']:,} without a usable Date are left out." if ot["n_undated"]
           else "."),
    ]
    if ot["dropped"]:
        parts.append(
            f"{ot['dropped']} {per}s with fewer than {k} messages "
            f"({ot['dropped_messages']:,} messages in all) are not shown."
        )
    for key, cls, rate_name in (
        ("fpr", "ham", "false-positive"),
        ("fnr", "spam", "false-negative"),
    ):
        missing = sum(b[key] is None for b in ot["buckets"])
        if missing:
            parts.append(
                f"{missing} of {len(ot['buckets'])} {per}s hold fewer than {k} {cls}: "
                f"no {rate_name} rate is drawn for them."
            )
    return " ".join(parts)


def _over_time(ot: Mapping[str, Any] | None) -> str:
    note = _over_time_notes(ot)
    fig = plots.timeline_figure(ot) if ot is not None and ot["n_dated"] else None
    if fig is None:
        if ot is not None and ot["n_dated"]:
            note += " Fewer than two buckets have a rate: the figure is omitted."
        return f'<figure id="over-time"><p class="na">{esc(note)}</p></figure>'
    return (
        _img(
            fig,
            "over-time",
            "False-positive, false-negative and unsure rates over time",
            "Rates at the model's cut-offs per time bucket, oldest first; the bars below "
            "count each bucket's ham and spam.",
            "",
        )
        + f'\n<p class="note">{esc(note)}</p>'
    )


def _confident(chosen: Sequence[Mapping[str, Any]], note: str, max_rows: int) -> str:
    if not chosen:
        return '<p class="na">No rows were given.</p>'
    return f'<p class="note">{esc(note)}</p>\n' + _errors(chosen, max_rows)


def _model_info(info: Mapping[str, Any]) -> str:
    if not info:
        return '<p class="na">No model information was given.</p>'
    rows = []
    for k, v in info.items():
        text = v if isinstance(v, str) else json.dumps(_jsonable(v, f"model_info.{k}"))
        rows.append([esc(k), f'<span class="mail">{esc(text)}</span>'])
    return table(["field", "value"], rows)


def write_report(
    out_dir: str | Path,
    *,
    metrics: Mapping[str, Any],
    y_true: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    cutoffs: Mapping[str, float],
    learning_curve: Mapping[str, Any] | None,
    fit_diagnosis: Mapping[str, Any] | None,
    errors: Sequence[Mapping[str, Any]],
    model_info: Mapping[str, Any],
    max_errors: int = 50,
    confident: Sequence[Mapping[str, Any]] = (),
    max_confident: int = 10,
    timestamps: Sequence[float | None] | None = None,
) -> Path:
    """Write ``metrics.json`` and a self-contained ``report.html`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing; existing report files in it are overwritten.
    metrics : dict
        As returned by :func:`spamsift.evaluation.compute_metrics` for these scores.
    y_true, scores : array-like
        The labels (1 = spam) and spam scores the metrics were computed from.
    cutoffs : dict
        Name to cut-off, for example ``{"spam": 0.93, "unsure": 0.41}``; each is marked
        on the plots and tabulated with its error rates on these scores.
    learning_curve : dict or None
        ``train_sizes``, ``train_scores``, ``valid_scores`` (one value, or one row of
        fold scores, per size) and ``metric`` (the score's name).
    fit_diagnosis : dict or None
        For example ``verdict``, ``train_score``, ``valid_score``, ``gap``,
        ``explanation``; every key is shown.
    errors : list of dict
        Misclassified messages, each with ``source``, ``label`` (0/1 or ham/spam),
        ``score``, ``verdict``, ``subject`` and ``clues`` (``(clue, weight)`` pairs).
        Ham go to the false-positive table, spam to the false-negative one.
    model_info : dict
        Whatever identifies the model: name, version, settings, training data.
    max_errors : int
        Rows shown per error table, worst first.
    confident : list of dict
        Rows like ``errors``, whatever their verdict: the highest-scored ham and the
        lowest-scored spam, which show where the model is confidently wrong even when
        the cut-off hides it. Shown worst first, ``max_confident`` per class.
    max_confident : int
        Rows shown per table of ``confident``.
    timestamps : list of float or None, optional
        Each message's Date in Unix seconds (None when unknown), in the order of
        ``scores``: the report then draws the error rates per month (see
        :func:`spamsift.evaluation.timeline.rates_over_time`) at the metrics' cut-offs.

    Returns
    -------
    Path
        The HTML report.

    Raises
    ------
    InputError
        On malformed scores, labels, cut-offs, errors, learning curve, or values JSON
        cannot hold.
    """
    y, s = check_labels_scores(y_true, scores)
    cutoffs = _check_cutoffs(cutoffs)
    out = Path(out_dir)
    over_time = None
    if timestamps is not None:
        spam_cut = metrics.get("spam_cutoff", cutoffs.get("spam"))
        unsure_cut = metrics.get("unsure_cutoff", cutoffs.get("unsure", spam_cut))
        if spam_cut is None:
            raise InputError(
                "timestamps: the rates over time need the spam cut-off, expected "
                "metrics['spam_cutoff'] or cutoffs['spam'], got neither"
            )
        over_time = rates_over_time(y, s, timestamps, spam_cut, unsure_cut)
    # Everything is checked before any drawing or writing, so a bad argument fails fast
    # and leaves no half report behind.
    payload = _jsonable(
        {
            "metrics": metrics,
            "cutoffs": cutoffs,
            "model_info": model_info,
            "fit_diagnosis": fit_diagnosis,
            "learning_curve": learning_curve,
            "reliability": reliability(y, s, ECE_BINS) if y.size else None,
            "over_time": over_time,
        },
        "report",
    )
    ham_errors, spam_errors = _split_errors(errors)
    sure_ham, sure_spam = _split_errors(confident, "confident")
    lc_fig = plots.learning_curve_figure(learning_curve) if learning_curve else None
    n_ham, n_spam = int((y == 0).sum()), int((y == 1).sum())
    one_class = "Not defined: the scores hold only one class."
    figures = "\n".join(
        [
            _img(
                plots.roc_figure(y, s, cutoffs),
                "roc",
                "ROC curve, log false-positive axis",
                "Spam caught against ham called spam; the marked points are the cut-offs.",
                one_class,
            ),
            _img(
                plots.pr_figure(y, s, cutoffs),
                "pr",
                "Precision-recall curve",
                "Precision against recall over every cut-off.",
                one_class,
            ),
            _img(
                plots.histogram_figure(y, s, cutoffs),
                "histogram",
                "Score histogram by class",
                "How the scores of each true class spread; counts on a log scale.",
                "",
            ),
            _img(
                plots.rates_figure(y, s, cutoffs),
                "thresholds",
                "FPR and FNR against cut-off",
                "Error rates if the spam cut-off were moved; dashed lines mark the cut-offs.",
                "",
            ),
            _img(
                plots.reliability_figure(y, s, ECE_BINS),
                "reliability",
                "Reliability curve: observed spam share against mean score per bin",
                f"{ECE_BINS} equal-count score bins; on the dotted diagonal a score of p means "
                "a share p of spam. Bars: 95% intervals.",
                "No scores.",
            ),
        ]
    )
    sections = [
        ("headline", "Headline metrics", _headline(metrics)),
        ("cutoffs", "Cut-offs", _cutoffs(y, s, cutoffs)),
        ("confusion", "Confusion matrix", _confusion(metrics)),
        ("plots", "Plots", f'<div class="grid">\n{figures}\n</div>'),
        ("calibration", "Calibration by score bin", _calibration(y, s)),
        ("rates-over-time", "Rates over time", _over_time(over_time)),
        (
            "fit-diagnosis",
            "Fit diagnosis",
            _fit(fit_diagnosis)
            + "\n"
            + _img(
                lc_fig,
                "learning-curve",
                "Learning curve",
                "Training and validation score as the training set grows (band: ±1 sd over folds).",
                "No learning curve was given.",
            ),
        ),
        ("false-positives", "False positives: ham", _errors(ham_errors, max_errors)),
        ("false-negatives", "False negatives: spam", _errors(spam_errors, max_errors)),
        (
            "confident-ham",
            "Most confident false positives: the highest-scored ham",
            _confident(
                sure_ham,
                "The ham scored highest, whatever their verdict: the first to become false "
                "positives if the spam cut-off were lowered.",
                max_confident,
            ),
        ),
        (
            "confident-spam",
            "Most confident false negatives: the lowest-scored spam",
            _confident(
                sure_spam,
                "The spam scored lowest, whatever their verdict: the last any cut-off "
                "would catch.",
                max_confident,
            ),
        ),
        ("model-info", "Model", _model_info(model_info)),
    ]
    nav = " ".join(f'<a href="#{sid}">{esc(title)}</a>' for sid, title, _ in sections)
    body = (
        "<h1>spamsift evaluation report</h1>\n"
        f'<p class="lede">{n_ham + n_spam:,} messages: {n_ham:,} ham, {n_spam:,} spam.</p>\n'
        f"<nav>{nav}</nav>\n"
        + "\n".join(
            f'<section id="{sid}">\n<h2>{esc(title)}</h2>\n{content}\n</section>'
            for sid, title, content in sections
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(
        json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    report = out / "report.html"
    report.write_text(page("spamsift evaluation report", body), encoding="utf-8")
    return report
