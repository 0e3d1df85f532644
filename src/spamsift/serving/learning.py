"""Feedback into the model: every change of a message's effective label moves it.

The feedback store decides what a message's label is (duplicates count once,
conflicts count for nothing, retractions take an event back); this module turns
each change of that label into the model update it implies:

    before -> after          update
    None   -> spam/ham       learn(after)
    spam   -> ham (or back)  unlearn(before), learn(after)
    spam/ham -> None         unlearn(before)   (a retraction, or a conflict)

so the live model always equals the model file plus the effective labels given
since, and unlearning is exact (Naive Bayes and reputation counts move back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from spamsift.models.spam_model import SpamModel

__all__ = ["LabelChange", "apply_change", "ModelLearner", "LearningFeedback", "catch_up"]

_Y = {"ham": 0, "spam": 1}


class LabelChange(Protocol):
    previous_label: str | None
    effective_label: str | None


def apply_change(model: SpamModel, raw: bytes, before: str | None, after: str | None) -> bool:
    """Move ``model`` by one change of a message's effective label; True if it moved."""
    if before == after:
        return False
    X = model.featurizer.transform([raw])
    if before is not None:
        model.classifier.partial_fit(X, [_Y[before]], sample_weight=-1.0)
    if after is not None:
        model.classifier.partial_fit(X, [_Y[after]], sample_weight=1.0)
    return True


class ModelLearner:
    """Serialises updates to one live model (scoring reads it without a lock).

    An update rewrites a few hundred weights in place; a classification running at
    the same moment sees each weight either before or after, never a torn number.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.updates = 0

    def apply(self, model: SpamModel, raw: bytes, before: str | None, after: str | None
              ) -> bool:
        with self._lock:
            moved = apply_change(model, raw, before, after)
            self.updates += moved
            return moved


def catch_up(model: SpamModel, store: Any, batch: int = 256) -> int:
    """Teach a freshly loaded model every effective label given since it was trained.

    A model file knows the feedback up to ``info["feedback_until"]`` (none for the
    bundled model); the labels changed since are learned in batches. Returns how
    many messages were learned. (A message whose label was in the model's training
    data and changed afterwards keeps its old share until the next retrain.)
    """
    since = model.info.get("feedback_until")
    since_dt = datetime.fromisoformat(since) if since else None
    n = 0
    pending: list[tuple[bytes, int]] = []

    def flush() -> None:
        if pending:
            X = model.featurizer.transform([raw for raw, _ in pending])
            model.classifier.partial_fit(X, [y for _, y in pending])
            pending.clear()

    for lm in store.effective_labels(since=since_dt):
        pending.append((lm.raw, _Y[lm.label]))
        n += 1
        if len(pending) >= batch:
            flush()
    flush()
    return n


class LearningFeedback:
    """A feedback store whose every label change also moves the live model.

    Wraps the store the REST API writes to: ``add_feedback`` and ``retract`` go to
    the store (which decides the effective label) and then, through one
    :class:`ModelLearner`, to the model ``current()`` returns. Everything else is the
    store's.
    """

    def __init__(self, store: Any, current: Callable[[], SpamModel],
                 learner: ModelLearner | None = None) -> None:
        self.store = store
        self.current = current
        self.learner = learner or ModelLearner()

    def add_feedback(self, raw: bytes | None = None, **kw: Any) -> Any:
        res = self.store.add_feedback(raw, **kw)
        if not getattr(res, "replayed", False):
            self._apply(raw, res)
        return res

    def retract(self, event_id: str, by: str | None = None) -> Any:
        res = self.store.retract(event_id, by=by)
        if not getattr(res, "already_retracted", False):
            self._apply(None, res)
        return res

    def _apply(self, raw: bytes | None, res: Any) -> None:
        before, after = res.previous_label, res.effective_label
        if before == after:
            return
        data = raw if raw is not None else self.store.raw_message(res.message_id)
        if data is not None:
            self.learner.apply(self.current(), data, before, after)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)
