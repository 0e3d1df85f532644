"""The whole jobs behind ``train``, ``evaluate`` and ``score``: read, featurise, fit, report.

Front ends (CLI, later the service) call these and only translate arguments and
results; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from spamsift.config import Settings
from spamsift.evaluation import compute_metrics, write_report
from spamsift.exceptions import TrainingError
from spamsift.features.batch import MessageMeta, featurize
from spamsift.features.dedup import duplicate_of
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import IngestReport, RawMessage
from spamsift.models.artifact import fingerprint
from spamsift.models.explain import column_label, contributions
from spamsift.models.spam_model import SpamModel
from spamsift.training.scoring import ScoredRow, score_rows
from spamsift.training.splits import stratified_split, time_split
from spamsift.training.trainer import TrainOptions, fit_model, token_bits_for

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator

__all__ = ["Dataset", "load_dataset", "train_job", "evaluate_job", "most_confident",
           "score_rows", "ScoredRow"]

Progress = Callable[[int], None]


@dataclass
class Dataset:
    """Labelled messages with their features, ready to split."""

    sources: list[str]
    y: np.ndarray
    split: list[str | None]
    X: sp.csr_matrix
    meta: list[MessageMeta]
    datas_fingerprint: str
    featurizer: MessageFeaturizer
    ingest: IngestReport = field(default_factory=IngestReport)

    def rows(self, idx: np.ndarray) -> Dataset:
        return Dataset([self.sources[i] for i in idx], self.y[idx],
                       [self.split[i] for i in idx], self.X[idx],
                       [self.meta[i] for i in idx], self.datas_fingerprint, self.featurizer,
                       self.ingest)


def load_dataset(messages: Iterable[RawMessage], featurizer: MessageFeaturizer,
                 n_jobs: int = -1, report: IngestReport | None = None,
                 progress: Progress | None = None, labelled: bool = True,
                 auth: Authenticator | None = None) -> Dataset:
    """Read messages and featurise them.

    With ``labelled`` (training, evaluation) a message without a label is reported and
    skipped; without it (scoring) every message is kept, its label -1 when unknown.
    ``auth`` fills each message's authentication results (:mod:`spamsift.mailauth`).
    """
    report = report or IngestReport()
    sources, labels, splits, datas = [], [], [], []
    for m in messages:
        if labelled and m.label not in ("spam", "ham"):
            report.skip(m.source, "no label")
            continue
        sources.append(m.source)
        labels.append(-1 if m.label is None else int(m.label == "spam"))
        splits.append(m.split)
        datas.append(m.data)
    X, meta = featurize(featurizer, datas, n_jobs=n_jobs, progress=progress,
                        with_meta=labelled, auth=auth)
    fp = (fingerprint((s, mm.exact_key) for s, mm in zip(sources, meta, strict=True))
          if labelled else "")
    return Dataset(sources, np.asarray(labels, dtype=int), splits, X, meta, fp, featurizer,
                   report)


def split_dataset(ds: Dataset, how: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Train and test row indices, and how many training rows were dropped as duplicates.

    ``how`` is ``column`` (the rows' own split values), ``random`` (stratified 80/20)
    or ``time`` (oldest 80 % by Date). When spamsift makes the split, duplicates are
    removed first; with a given split every test row stays and training rows that
    duplicate a test row (or an earlier training row) are dropped.
    """
    group = np.asarray(duplicate_of(ds.meta))
    if how == "column":
        is_test = np.array([s == "test" for s in ds.split])
        tr = np.flatnonzero(np.array([s == "train" for s in ds.split]))
        te = np.flatnonzero(is_test)
        test_groups = set(group[te].tolist())
        keep = _first_of_group(tr, group, test_groups)
        return np.asarray(keep, dtype=int), te, len(tr) - len(keep)
    uniq = np.flatnonzero(group == np.arange(len(group)))
    dropped = len(group) - len(uniq)
    if how == "random":
        a, b = stratified_split(ds.y[uniq], seed=seed)
    elif how == "time":
        a, b = time_split([ds.meta[i].timestamp for i in uniq])
    else:
        raise ValueError(f"split must be 'column', 'random' or 'time', got {how!r}")
    return uniq[a], uniq[b], dropped


def _first_of_group(rows: Sequence[int], group: np.ndarray, banned: set[int]) -> list[int]:
    seen: set[int] = set()
    out = []
    for i in rows:
        g = int(group[i])
        if g in banned or g in seen:
            continue
        seen.add(g)
        out.append(int(i))
    return out


def train_job(ds: Dataset, how: str, settings: Settings, options: TrainOptions | None = None
              ) -> tuple[SpamModel, dict[str, Any], np.ndarray]:
    """Split, fit and return the model, the training details and the test rows.

    A dataset featurised wider than its training rows' vocabulary needs
    (:func:`~spamsift.training.trainer.token_bits_for`; ``featurizer_for(wide=True)``)
    is narrowed first, in place: its ``X`` and ``featurizer`` become the model's.
    """
    tr, te, dropped = split_dataset(ds, how, settings.seed)
    if len(tr) == 0:
        raise TrainingError("no training rows: is the split column right (values 'train'/'test')?")
    tokens = ds.X[tr][:, :ds.featurizer.layout.n_tokens]
    bits = token_bits_for(int(np.count_nonzero(tokens.getnnz(axis=0))))
    if bits < ds.featurizer.token_bits:
        ds.featurizer, ds.X = ds.featurizer.narrowed(ds.X, bits)
    train = ds.rows(tr)
    info = {"training_data": {"fingerprint": ds.datas_fingerprint, "split": how,
                              "n_train": int(len(tr)), "n_test": int(len(te)),
                              "duplicates_dropped": int(dropped)}}
    when = np.array([m.timestamp if m.timestamp is not None else np.nan for m in train.meta],
                    dtype=np.float64)
    model, details = fit_model(ds.featurizer, train.X, train.y, settings, options, info,
                               sample_time=when)
    details["duplicates_dropped"] = dropped
    return model, details, te


def most_confident(y: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``n`` highest-scored ham and the ``n`` lowest-scored spam, worst first.

    The cut-off plays no part: a ham scored 0.8 under a 0.99 cut-off is not an error,
    but it is where the model is most sure and wrong. Ties keep the rows' order.
    """
    y, s = np.asarray(y), np.asarray(scores, dtype=float)
    ham, spam = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    return (ham[np.argsort(-s[ham], kind="stable")[:n]],
            spam[np.argsort(s[spam], kind="stable")[:n]])


def _clued_row(model: SpamModel, test: Dataset, r: ScoredRow, i: int,
               datas: dict[str, bytes] | None, top: int) -> dict[str, Any]:
    """A report row for test row ``i``: its score, verdict, subject and top clues."""
    data = (datas or {}).get(r.source)
    if data is not None:  # the raw message lets clues name their tokens
        clues = model.classify([data], top=top)[0].clues
    else:
        contrib = contributions(model.classifier, test.X[i], top)[0]
        clues = [(column_label(model.classifier, j)[1], w) for j, w in contrib]
    return {"source": r.source, "label": "spam" if r.label else "ham", "score": r.score,
            "verdict": r.verdict, "subject": test.meta[i].subject, "clues": clues}


def evaluate_job(model: SpamModel, test: Dataset, out_dir: Path | None,
                 details: dict[str, Any] | None = None, datas: dict[str, bytes] | None = None,
                 top: int = 8, confident: int = 10) -> dict[str, Any]:
    """Metrics on the test rows; with ``out_dir``, metrics.json and report.html too.

    The report lists every misclassified row, and the ``confident`` highest-scored ham
    and lowest-scored spam whatever their verdict, each with its ``top`` clues; with
    the rows' dates it draws the error rates over time.
    """
    rows = score_rows(model, test.X, test.sources, test.y)
    s = np.array([r.score for r in rows])
    metrics = compute_metrics(test.y, s, model.spam_cutoff, model.unsure_cutoff)
    if out_dir is not None:
        wrong = [i for i, r in enumerate(rows)
                 if (r.label == 1) != (r.verdict == "spam")]
        sure_ham, sure_spam = most_confident(test.y, s, confident)
        sure = [int(i) for i in (*sure_ham, *sure_spam)]
        # A row in both lists gets its clues once.
        clued = {i: _clued_row(model, test, rows[i], i, datas, top) for i in {*wrong, *sure}}
        timestamps = ([m.timestamp for m in test.meta] if len(test.meta) == len(rows)
                      else None)
        details = details or {}
        write_report(out_dir, metrics=metrics, y_true=test.y, scores=s,
                     cutoffs={"spam": model.spam_cutoff, "unsure": model.unsure_cutoff},
                     learning_curve=details.get("learning_curve") or
                     model.info.get("learning_curve"),
                     fit_diagnosis=details.get("fit_diagnosis") or model.info.get("fit_diagnosis"),
                     errors=[clued[i] for i in wrong], model_info=_flat_info(model),
                     confident=[clued[i] for i in sure], max_confident=confident,
                     timestamps=timestamps)
    return metrics


def _flat_info(model: SpamModel) -> dict[str, Any]:
    clf = model.classifier
    out: dict[str, Any] = {"model": clf.model, "members": ", ".join(clf.member_names_),
                           "spam cut-off": model.spam_cutoff,
                           "unsure cut-off": model.unsure_cutoff}
    td = model.info.get("training_data", {})
    out.update({f"training {k}": v for k, v in td.items()})
    return out
