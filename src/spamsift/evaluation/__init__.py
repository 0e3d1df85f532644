"""Evaluation: how good are the scores, and where do they go wrong.

:func:`compute_metrics` turns labels and spam scores into the figures a filter is
judged by (AUC, FPR and FNR at the cut-offs, unsure counts, the oracle miss rate at a
fixed false-positive rate, and calibration: Brier score, log loss, ECE);
:func:`cutoff_for_fpr` picks a spam cut-off for a false-positive budget on out-of-fold
training scores, and :func:`rates_by_threshold` shows what moving it would cost;
:func:`write_report` writes ``metrics.json`` and a self-contained HTML report with
plots (a reliability curve and the error rates over time among them) and tables of the
misclassified mail and of the mail the model was most confidently wrong about.
"""

from __future__ import annotations

from spamsift.evaluation.metrics import compute_metrics, fnr_at_fpr
from spamsift.evaluation.report import write_report
from spamsift.evaluation.thresholds import cutoff_for_fpr, rates_by_threshold

__all__ = [
    "compute_metrics",
    "fnr_at_fpr",
    "cutoff_for_fpr",
    "rates_by_threshold",
    "write_report",
]
