"""Feedback into the model: every change of a message's effective label moves it.

The feedback store decides what a message's label is (duplicates count once,
conflicts count for nothing, retractions take an event back); this module turns
each change of that label into the model update it implies:

    before -> after          update
    None   -> spam/ham       learn(after)
    spam   -> ham (or back)  unlearn(before), learn(after)
    spam/ham -> None         unlearn(before)   (a retraction, or a conflict)

so the live model always equals the model file plus the effective labels given
since. Unlearning is exact for counts (Naive Bayes, sender reputation, the feedback
per sender). The margin members learn by a passive-aggressive step whose size
depends on the weights at that moment, so the opposite label's step would not undo
it: the model remembers each step it took and a retraction subtracts that step. A
label learned before the process loaded its model (a restart, a reload) has no
remembered step: its retraction moves the counts at once and leaves the margin
members until the next retrain, which refits them on the effective labels only.

Several processes on one store (``serve --workers N``, ``serve`` beside ``spamd``,
replicas on one PostgreSQL) stay in step through the store's change log: a
:class:`FeedbackFollower` applies every change after the last one its model has
seen, in log order, exactly once, whoever made it, its own process included (a
write is followed by a sync, so a caller sees its own feedback at once). Order
matters: counts are clipped at zero, so an unlearn applied before its learn
would not cancel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from spamsift.models.spam_model import SpamModel

__all__ = ["LabelChange", "apply_change", "ModelLearner", "LearningFeedback", "catch_up",
           "catch_up_seq", "FeedbackFollower"]

log = logging.getLogger(__name__)

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
    return _learn_labels(model, store.effective_labels(since=_watermark(model)), batch)


def catch_up_seq(model: SpamModel, store: Any, batch: int = 256) -> int:
    """:func:`catch_up`, returning the change-log ``seq`` the model now includes.

    The labels and the ``seq`` come from one snapshot of the store
    (:meth:`~spamsift.feedback.FeedbackStore.labels_with_seq`), so following the log
    from ``seq`` (:class:`FeedbackFollower`) learns nothing twice and misses nothing.
    """
    seq, rows = store.labels_with_seq(since=_watermark(model))
    _learn_labels(model, rows, batch)
    return int(seq)


def _watermark(model: SpamModel) -> datetime | None:
    since = model.info.get("feedback_until")
    return datetime.fromisoformat(since) if since else None


def _learn_labels(model: SpamModel, rows: Iterable[Any], batch: int) -> int:
    n = 0
    pending: list[tuple[bytes, int]] = []

    def flush() -> None:
        if pending:
            X = model.featurizer.transform([raw for raw, _ in pending])
            model.classifier.partial_fit(X, [y for _, y in pending])
            pending.clear()

    for lm in rows:
        pending.append((lm.raw, _Y[lm.label]))
        n += 1
        if len(pending) >= batch:
            flush()
    flush()
    return n


class FeedbackFollower:
    """Applies the store's label changes to the served model, in order, each once.

    Each model the process loads is registered with :meth:`track` and the change
    ``seq`` it already includes; :meth:`sync` applies the changes after that to
    whichever model ``current()`` returns. :meth:`start` runs :meth:`sync` in a
    thread every ``interval`` seconds, and on PostgreSQL also as soon as a change is
    notified (``LISTEN``), so another process's feedback reaches this one within
    ``interval`` at worst and in milliseconds usually.

    Parameters
    ----------
    store : FeedbackStore
        ``label_changes``, ``last_change``; and ``db`` for PostgreSQL notifications.
    current : callable
        The model being served.
    learner : ModelLearner
        Shared with the rest of the process, so updates to one model are serialised.
    interval : float
        Seconds between polls; 0 polls never (only :meth:`sync` calls apply changes).
    """

    _KEEP = 4  # models remembered: the one served and the few being loaded

    def __init__(self, store: Any, current: Callable[[], SpamModel], learner: ModelLearner,
                 *, interval: float = 0.5, batch: int = 500) -> None:
        self.store = store
        self.current = current
        self.learner = learner
        self.interval = interval
        self.batch = batch
        self.applied = 0  # changes applied, own and others'
        self._seqs: dict[int, tuple[SpamModel, int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def track(self, model: SpamModel, seq: int) -> None:
        """``model`` includes every change up to ``seq``; follow it from there."""
        with self._lock:
            self._seqs[id(model)] = (model, seq)
            while len(self._seqs) > self._KEEP:
                del self._seqs[next(iter(self._seqs))]

    def seq(self) -> int | None:
        """The last change applied to the model served now (None: not tracked yet)."""
        entry = self._seqs.get(id(self.current()))
        return None if entry is None else entry[1]

    def sync(self) -> int:
        """Apply the changes the served model has not seen; returns how many."""
        with self._lock:
            model = self.current()
            entry = self._seqs.get(id(model))
            if entry is None or entry[0] is not model:
                # A model nobody tracked (one given from outside): it is taken as it
                # is, and follows the changes from now on.
                entry = (model, self.store.last_change())
            seq, n = entry[1], 0
            while True:
                changes = self.store.label_changes(since=seq, limit=self.batch)
                for c in changes:
                    self.learner.apply(model, c.raw, c.previous_label, c.effective_label)
                    seq = c.seq
                n += len(changes)
                self._seqs[id(model)] = (model, seq)
                if len(changes) < self.batch:
                    break
            self.applied += n
            return n

    def start(self) -> None:
        """Follow the store in a daemon thread until :meth:`stop` (idempotent)."""
        if self._thread is not None or self.interval <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="spamsift-feedback-follower",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following; returns once the thread has ended."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=max(5.0, 2 * self.interval))

    def _run(self) -> None:
        from spamsift.feedback.notify import Notifications

        with Notifications(self.store, self._stop) as notes:
            while not self._stop.is_set():
                try:
                    self.sync()
                except Exception:  # the store is down: keep serving, try again later
                    log.exception("could not follow the feedback store's label changes")
                notes.wait(self.interval)


class LearningFeedback:
    """A feedback store whose every label change also moves the live model.

    Wraps the store the REST API writes to: ``add_feedback`` and ``retract`` go to
    the store (which decides the effective label) and then, through one
    :class:`ModelLearner`, to the model ``current()`` returns. Everything else is the
    store's. With a ``follower`` the model moves through it instead: the write is
    followed by :meth:`FeedbackFollower.sync`, which applies this change and any
    other process's before it, in the store's order.
    """

    def __init__(self, store: Any, current: Callable[[], SpamModel],
                 learner: ModelLearner | None = None, *,
                 follower: FeedbackFollower | None = None) -> None:
        self.store = store
        self.current = current
        self.learner = follower.learner if follower is not None else learner or ModelLearner()
        self.follower = follower

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
        if self.follower is not None:
            try:
                self.follower.sync()
            except Exception:  # recorded all the same: the next sync applies it
                log.exception("feedback recorded; applying it to the model failed")
            return
        data = raw if raw is not None else self.store.raw_message(res.message_id)
        if data is not None:
            self.learner.apply(self.current(), data, before, after)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)
