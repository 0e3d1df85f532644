"""Replay evaluation, as in the TREC spam track: classify each message, then learn it.

Messages are taken in date order (the Date header; a message without a usable
one keeps its place after the message before it in the index). Each is scored
first, its score written, and only then is its true label given through the same
path user feedback takes: the feedback store decides the effective label, and
the change of that label moves the live model.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

import numpy as np
from sklearn.metrics import roc_auc_score

from spamsift.config import Settings
from spamsift.db.database import default_url
from spamsift.evaluation import compute_metrics
from spamsift.exceptions import IngestError
from spamsift.feedback import FeedbackStore
from spamsift.ingest import DEFAULT_MAX_BYTES, IngestReport, RawMessage, read_index
from spamsift.ingest.files import read_message_file
from spamsift.models.bundled import load_bundled_model
from spamsift.models.classifier import SpamClassifier
from spamsift.models.spam_model import SpamModel
from spamsift.parse import parse_message
from spamsift.training.jobs import ScoredRow, load_dataset, train_job
from spamsift.training.online import LearningFeedback
from spamsift.training.runs import QUIET, Reporter, warn_skipped
from spamsift.training.splits import fill_forward
from spamsift.training.trainer import TrainOptions, featurizer_for

__all__ = ["ReplayResult", "replay", "replay_index", "date_order", "IndexMessages"]

# Messages per point of the learning curve over time.
_WINDOW = 250


@dataclass
class ReplayResult:
    rows: list[ScoredRow]
    metrics: dict[str, Any]
    curve: list[dict[str, Any]] = field(default_factory=list)
    learned: int = 0

    def write_report(self, folder: Path) -> Path:
        """``folder/replay.json``: the metrics and the curve over time."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "replay.json"
        path.write_text(json.dumps({"metrics": self.metrics, "curve": self.curve}, indent=2,
                                   default=float))
        return path


class IndexMessages(Sequence[RawMessage]):
    """Index rows kept as where their messages are, each read again when asked for.

    Date order needs every replayed message's date before the first is replayed.
    Holding the rows' raw bytes for that made replay's memory grow with the input;
    these rows hold a source, a label and a split (some dozens of bytes), and each
    message is read twice: once for its date, once to replay it.

    Parameters
    ----------
    messages : iterable of RawMessage
        Rows as :func:`~spamsift.ingest.read_index` yields them (its checks done);
        their bytes are dropped.
    root : path
        The folder their sources are relative to.
    """

    def __init__(self, messages: Iterable[RawMessage], root: Path,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self._rows = [replace(m, data=b"") for m in messages]
        self._root = Path(root)
        self._max_bytes = max_bytes

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> RawMessage: ...
    @overload
    def __getitem__(self, i: slice) -> list[RawMessage]: ...

    def __getitem__(self, i: int | slice) -> RawMessage | list[RawMessage]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        r = self._rows[i]
        failed = IngestReport()
        m = read_message_file(self._root / r.source, r.source, failed, self._max_bytes,
                              label=r.label, split=r.split, meta=dict(r.meta))
        if m is None:
            why = failed.skipped[0]
            raise IngestError(f"{r.source} could be read once but not again: {why.reason} "
                              f"({why.detail})")
        return m


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


def replay_index(index: Path, settings: Settings, *, root: Path | None = None,
                 split_column: str | None = None, from_bundled: bool = False,
                 data_dir: Path | None = None, n_jobs: int = -1,
                 reporter: Reporter = QUIET) -> ReplayResult:
    """``spamsift replay``: set up the model to start from, then :func:`replay` the
    index's ``test`` rows (every row without a split column) through a feedback store.

    The model is the one the ``train`` rows train; with ``from_bundled``, the bundled
    model with the ``train`` rows learned as feedback; with neither, Naive Bayes with
    empty counts (its untrained cut-offs only name verdicts: the replay's score is
    what counts). The store lives in ``data_dir`` (default: a temporary folder).
    """
    train_rows, test_rows = _index_rows(index, root, split_column, reporter)
    with tempfile.TemporaryDirectory() as tmp:
        store = FeedbackStore(default_url(data_dir or Path(tmp)))
        try:
            model = _first_model(train_rows, settings, from_bundled, n_jobs, reporter)
            feedback = LearningFeedback(store, lambda: model)
            if from_bundled and train_rows:
                with reporter.busy("learning the 'train' rows as feedback"):
                    for r in train_rows:
                        feedback.add_feedback(r.data, label=r.label, user="replay",
                                              source="replay")
            with reporter.progress("replaying", len(test_rows)) as advance:
                return replay(model, test_rows, feedback, progress=advance)
        finally:
            store.close()


def _first_model(train_rows: list[RawMessage], settings: Settings, from_bundled: bool,
                 n_jobs: int, reporter: Reporter) -> SpamModel:
    if from_bundled:
        return load_bundled_model(settings.limits, priors=settings.priors)
    featurizer = featurizer_for(settings)
    if train_rows:
        ds = load_dataset(train_rows, featurizer, n_jobs=n_jobs)
        with reporter.busy("training on the 'train' rows"):
            return train_job(ds, "column", settings, TrainOptions(learning_curve=False))[0]
    lay = featurizer.layout
    return SpamModel(featurizer, SpamClassifier.empty(
        token_bits=featurizer.token_bits, n_structure=lay.n_structure,
        reputation_bits=featurizer.reputation_bits, byte_bits=featurizer.byte_bits), 0.9, 0.5)


def _index_rows(index: Path, root: Path | None, split_column: str | None, reporter: Reporter
                ) -> tuple[list[RawMessage], IndexMessages]:
    """The rows to train on (in memory: training needs the matrix) and the rows to replay
    (held as paths and read again one at a time, so memory does not grow with them)."""
    report = IngestReport()
    train_rows: list[RawMessage] = []

    def replayed() -> Iterator[RawMessage]:
        for r in read_index(index, root=root, split_column=split_column, report=report):
            if split_column is None or r.split == "test":
                yield r
            elif r.split == "train":
                train_rows.append(r)

    test_rows = IndexMessages(replayed(), root or index.parent)
    warn_skipped(report, reporter)
    return train_rows, test_rows
