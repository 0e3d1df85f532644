"""Replay evaluation, as in the TREC spam track: classify each message, then learn it.

Messages are taken in date order (the Date header; a message without a usable
one keeps its place after the message before it in the index). Each is scored
first, its score written, and only then is its true label given through the same
path user feedback takes: the feedback store decides the effective label, and
the change of that label moves the live model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from spamsift.evaluation import compute_metrics
from spamsift.ingest import RawMessage
from spamsift.models.spam_model import SpamModel
from spamsift.parse import parse_message
from spamsift.serving.learning import LearningFeedback
from spamsift.training.jobs import ScoredRow
from spamsift.training.splits import fill_forward

__all__ = ["ReplayResult", "replay", "date_order"]

# Messages per point of the learning curve over time.
_WINDOW = 250


@dataclass
class ReplayResult:
    rows: list[ScoredRow]
    metrics: dict[str, Any]
    curve: list[dict[str, Any]] = field(default_factory=list)
    learned: int = 0


def date_order(messages: Sequence[RawMessage]) -> list[int]:
    """Indices of ``messages`` oldest first; undated ones keep their index neighbour."""
    ts = [m.date.timestamp() if (m := parse_message(r.data)).date is not None else None
          for r in messages]
    return list(np.argsort(fill_forward(ts), kind="stable"))


def replay(model: SpamModel, messages: Sequence[RawMessage], feedback: LearningFeedback,
           progress: Callable[[int], None] | None = None) -> ReplayResult:
    """Score then learn each labelled message in date order.

    ``feedback`` is the path user feedback takes: a store wrapped so that each change
    of a message's effective label moves ``model``.
    """
    rows: list[ScoredRow] = []
    before = feedback.learner.updates
    for i in date_order(messages):
        m = messages[i]
        v = model.classify([m.data], top=0)[0]
        y = int(m.label == "spam")
        rows.append(ScoredRow(m.source, v.score, v.verdict, y))
        feedback.add_feedback(m.data, label=m.label, user="replay", source="replay")
        if progress:
            progress(1)
    y = np.array([r.label for r in rows])
    s = np.array([r.score for r in rows])
    metrics = compute_metrics(y, s, model.spam_cutoff, model.unsure_cutoff)
    curve = []
    for start in range(0, len(rows), _WINDOW):
        yw, sw = y[start:start + _WINDOW], s[start:start + _WINDOW]
        point: dict[str, Any] = {"from": start, "to": start + len(yw)}
        if 0 < yw.sum() < len(yw):
            point["one_minus_roca_pct"] = 100 * (1 - roc_auc_score(yw, sw))
        verdict_spam = sw >= model.spam_cutoff
        point["fpr"] = float(verdict_spam[yw == 0].mean()) if (yw == 0).any() else None
        point["fnr"] = float((~verdict_spam[yw == 1]).mean()) if (yw == 1).any() else None
        curve.append(point)
    return ReplayResult(rows, metrics, curve, feedback.learner.updates - before)
