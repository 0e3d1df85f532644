"""Training from a stream: the whole recipe on a seed, then counts learned chunk by chunk.

The batch recipe needs the whole matrix (quantile bins, out-of-fold reputation, the
stack's cross-fitting), so here it runs on a **seed**: the first ``seed_size``
distinct training rows of the stream. The first rows, not a reservoir sample: the
seed model must exist before the rest can be learned, and a reservoir is only
final at the end of the input, when every row it dropped would have to be read
again. So the input must come mixed (date order is the natural one: the oldest mail
trains first, as in deployment); an index sorted by label, as the SpamAssassin
corpus's is, gives a one-class seed, which is an error that says so.

The rest is read in chunks of ``chunk_size`` and learned by
:meth:`SpamClassifier.partial_fit`: Naive Bayes' counts and the sender-reputation
counts, exactly; the margin member (SVM) and the stack weights stay the seed's.
Each chunk is scored before it is learned (progressive validation, as the TREC spam
track does) into a per-class :class:`ScoreHistogram` that starts from the seed's
out-of-fold scores; the cut-offs are chosen on it at the end. On the held-out slice
below (seed sizes 500 / 1000 / 2000) they missed 12.1 / 8.9 / 7.6 % of spam against
11.4 / 12.4 / 7.6 % at the seed's own out-of-fold cut-offs, 0 false positives either
way: kept, as they rest on more ham than the seed holds.

Memory: the seed's matrix while it is fitted (2.8 KB a message on the corpus), then
one chunk (or ``2 * n_jobs`` in flight), the model, the 96 KB histogram, and the
keys of rows seen (:class:`SeenKeys`), which do grow with the input: two 16-byte
digests a message, 182 bytes a message as Python holds them (180 MB a million).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from spamsift.config import Settings
from spamsift.evaluation.histogram import ScoreHistogram
from spamsift.exceptions import TrainingError
from spamsift.features.batch import MessageMeta, featurize_stream
from spamsift.features.dedup import content_key, exact_key
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import IngestReport, RawMessage
from spamsift.models.spam_model import SpamModel
from spamsift.training.scoring import CHUNK
from spamsift.training.trainer import TrainOptions, fit_model

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator

__all__ = ["SeenKeys", "train_stream", "SEED_SIZE"]

# Seed rows. benchmarks/stream_train.py on the random split's training rows only,
# shuffled: the first 80 % streamed (3,795 distinct), the last 20 % (968) held out;
# (1-ROCA)% / FNR % at the cut-off (0 false positives in every run): seed 250 -> 0.060 /
# 21.3, 500 -> 0.052 / 12.1, 1000 -> 0.076 / 8.9, 2000 -> 0.040 / 7.6, every row (the
# batch recipe) -> 0.058 / 7.3. Below 2000 the cut-off misses more spam; kept 2000
# (5.6 MB of seed matrix at 2.8 KB a message).
SEED_SIZE = 2000


class SeenKeys:
    """The duplicate keys (:mod:`~spamsift.features.dedup`) of rows seen, as 16-byte digests.

    A row is a duplicate when its exact or its content key was seen before; its keys
    are remembered either way, as :func:`~spamsift.features.dedup.duplicate_of` does.
    Cost: 2 digests a message, measured (tracemalloc, 200,000 messages) at 182 bytes a
    message in a Python set (a 16-byte ``bytes`` is a 49-byte object, plus the set's
    slots): 180 MB a million, against 2.8 GB a million for the batch matrix.
    """

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def __len__(self) -> int:
        return len(self._seen)

    @staticmethod
    def _digests(exact: str, content: str | None) -> list[bytes]:
        return [bytes.fromhex(k)[:16] for k in (exact, content) if k]

    def add(self, exact: str, content: str | None) -> bool:
        """Remember a row's keys; True when it duplicates a row seen before."""
        keys = self._digests(exact, content)
        dup = any(k in self._seen for k in keys)
        self._seen.update(keys)
        return dup

    def add_message(self, featurizer: MessageFeaturizer, data: bytes) -> bool:
        return self.add(exact_key(data), content_key(featurizer.parse(data)))


def _labelled(messages: Iterable[RawMessage], report: IngestReport) -> Iterator[RawMessage]:
    for m in messages:
        if m.label in ("spam", "ham"):
            yield m
        else:
            report.skip(m.source, "no label")


Chunk = tuple[list[RawMessage], sp.csr_matrix, list[MessageMeta]]


def _distinct(parts: Iterator[Chunk], seen: SeenKeys, counts: dict[str, int]
              ) -> Iterator[tuple[int, list[str], np.ndarray, sp.csr_matrix, list[str]]]:
    """Per chunk: rows read, and the sources, labels, matrix and keys of those that
    duplicate no earlier row."""
    for batch, X, meta in parts:
        keep = [i for i, mm in enumerate(meta) if not seen.add(mm.exact_key, mm.content_key)]
        counts["duplicates_dropped"] += len(batch) - len(keep)
        yield (len(batch), [batch[i].source for i in keep],
               np.array([int(batch[i].label == "spam") for i in keep], dtype=int),
               X[keep], [meta[i].exact_key for i in keep])


def train_stream(messages: Iterable[RawMessage], featurizer: MessageFeaturizer,
                 settings: Settings, options: TrainOptions | None = None, *,
                 seed_size: int = SEED_SIZE, chunk_size: int = CHUNK, n_jobs: int = 1,
                 seen: SeenKeys | None = None, report: IngestReport | None = None,
                 info: dict[str, Any] | None = None,
                 progress: Callable[[int], None] | None = None,
                 auth: Authenticator | None = None
                 ) -> tuple[SpamModel, dict[str, Any]]:
    """Fit the recipe on the stream's first ``seed_size`` distinct rows, learn the rest.

    Parameters
    ----------
    messages : iterable of RawMessage
        The training rows, read once and lazily; rows without a label are reported
        in ``report`` and skipped.
    seed_size : int
        Distinct rows the full recipe is fitted on; the input must hold that many.
    chunk_size : int
        Rows featurised, scored and learned together after the seed.
    seen : SeenKeys, optional
        Keys rows must not repeat (the test rows', so none leaks into training);
        grows with the rows read.
    progress : callable, optional
        Called with the number of rows each chunk read once it is in the seed or learned.

    Returns
    -------
    (SpamModel, dict)
        The model, and training details as :func:`fit_model` gives them plus ``n_seed``,
        ``n_streamed``, ``duplicates_dropped`` and the seed's and the stream's cut-offs.
    """
    if seed_size < 1 or chunk_size < 1:
        raise ValueError(f"seed_size and chunk_size must be >= 1, got {seed_size!r}, "
                         f"{chunk_size!r}")
    options = options or TrainOptions()
    report = report or IngestReport()
    seen = seen if seen is not None else SeenKeys()
    counts = {"duplicates_dropped": 0}
    rows = _distinct(featurize_stream(featurizer, _labelled(messages, report), chunk_size,
                                      n_jobs, auth=auth), seen, counts)
    fp = hashlib.sha256()  # of (source, exact key) in stream order
    seed: list[tuple[list[str], np.ndarray, sp.csr_matrix]] = []
    n_seed = 0
    rest: list[tuple[int, list[str], np.ndarray, sp.csr_matrix, list[str]]] = []
    for n_read, src, y, X, keys in rows:
        take = min(seed_size - n_seed, len(y))
        seed.append((src[:take], y[:take], X[:take]))
        n_seed += take
        if progress:
            progress(n_read)
        if take < len(y):  # the seed is full: the chunk's tail is the stream's first chunk
            rest.append((0, src[take:], y[take:], X[take:], keys[take:]))
        for s, k in zip(src[:take], keys[:take], strict=True):
            fp.update(f"{s}\0{k}\n".encode())
        if n_seed >= seed_size:
            break
    if n_seed == 0:
        raise TrainingError("no training rows: is the split column right (values "
                            "'train'/'test')?")
    if n_seed < seed_size:
        raise TrainingError(f"the seed needs {seed_size} distinct training rows, the input has "
                            f"{n_seed} (after {counts['duplicates_dropped']} duplicates): "
                            f"give a smaller --seed-size or train without --stream")
    if len(np.unique(y_seed := np.concatenate([p[1] for p in seed]))) < 2:
        only = "spam" if y_seed[0] else "ham"
        raise TrainingError(f"the seed (the stream's first {n_seed} distinct rows) is all "
                            f"{only}: --stream fits the recipe on the first rows, so its input "
                            f"must come mixed, for example in date order")
    X_seed = sp.vstack([p[2] for p in seed], format="csr")
    seed.clear()
    model, details = fit_model(featurizer, X_seed, y_seed, settings, options, info)
    del X_seed
    clf = model.classifier
    hist = ScoreHistogram()
    hist.add(y_seed, clf.oof_decision_)
    n_spam = int(y_seed.sum())
    n_streamed = 0
    for _, src, y, X, keys in itertools.chain(rest, _counted(rows, progress)):
        if not len(y):
            continue
        # Scored before it is learned: an honest score for the cut-offs.
        hist.add(y, clf.decision_function(X))
        clf.partial_fit(X, y)
        n_streamed += len(y)
        n_spam += int(y.sum())
        for s, k in zip(src, keys, strict=True):
            fp.update(f"{s}\0{k}\n".encode())
    rest.clear()
    spam_cut = hist.cutoff_for_fpr(settings.target_fpr)
    unsure_cut = min(hist.cutoff_for_fpr(settings.unsure_fpr), spam_cut)
    seed_cuts = {"spam": model.spam_cutoff, "unsure": model.unsure_cutoff}
    n_train = n_seed + n_streamed
    details.update(n_train=n_train, n_train_spam=n_spam, n_seed=n_seed, n_streamed=n_streamed,
                   duplicates_dropped=counts["duplicates_dropped"])
    details["cutoffs"] = {"spam": spam_cut, "unsure": unsure_cut,
                          "target_fpr": settings.target_fpr, "unsure_fpr": settings.unsure_fpr,
                          "chosen_on": "seed out-of-fold + progressive validation",
                          "seed": seed_cuts}
    td = model.info.setdefault("training_data", {})
    td.update(fingerprint=fp.hexdigest(), n_train=n_train, streamed=True, n_seed=n_seed,
              duplicates_dropped=counts["duplicates_dropped"])
    model.info["training"].update(n_train=n_train, n_train_spam=n_spam)
    return SpamModel(featurizer, clf, spam_cut, unsure_cut, model.info), details


def _counted(rows: Iterator[Any], progress: Callable[[int], None] | None) -> Iterator[Any]:
    for r in rows:
        if progress:
            progress(r[0])
        yield r
