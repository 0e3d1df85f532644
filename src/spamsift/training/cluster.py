"""Scoring and training on a Dask cluster (``--dask tcp://host:8786``).

What runs where
---------------
The client (the ``spamsift`` command) reads the input and cuts it into partitions of
:data:`~spamsift.training.scoring.CHUNK` messages; the workers parse and featurise
each partition, and for ``score`` also score it with the model, which is sent to
every worker once (``client.scatter(..., broadcast=True)``). The client writes the
results in input order with a bounded number of partitions in flight (two per
worker thread, plus one), so its memory does not grow with the input.

Training: which parts are parallel, and why
-------------------------------------------
* Parsing and featurising (about 1 ms a message on one core: README's speed table)
  run on the workers. The nb+svm fit itself costs about as much again (7 s for 4,720
  messages, trainer.DEFAULT_PARAMS) and stays on the client, see below.
* Naive Bayes' counts (messages per class, per class and token column) and the
  sender-reputation tables (spam and ham messages per hashed sender key) are sums
  over messages: each worker counts the training rows of the partitions it holds
  and the client adds the partial tables (:func:`count_tables`). Integer counts
  held in float64 add exactly in any order, so the tables equal the single-machine
  ones bit for bit. The fit on the gathered matrix (next point) counts them too, so
  here the reduction checks that every partition was counted once (a mismatch is a
  TrainingError) before its tables are installed in the model.
* The linear members (the SVM, and the logistic regression that stacks the members
  on out-of-fold decisions) are fitted on the client, on the hashed sparse matrices
  gathered from the workers, with the same solvers as on one machine. liblinear's
  coordinate descent is sequential; a parallel method (L-BFGS on the same objective
  with loss and gradient summed over partitions) would reach the same optimum only
  up to its tolerance, so models trained on a cluster and on one machine would
  differ. Gathering keeps them equal. The limit is the client's memory: the
  matrix takes 2.8 KB a message (234 non-zeros on average, measured on every
  12th corpus message), 2.8 GB per million messages.
* Opt-in, ``--linear-solver lbfgs`` (``SpamClassifier(linear_solver="lbfgs")``):
  the same two objectives (squared hinge, log-loss; the intercept regularised as
  liblinear does) minimised by L-BFGS-B, which is correct in parallel because the
  loss and gradient are sums over rows. :func:`train_job_on_cluster` wraps the fit
  in :func:`~spamsift.models.parallel_linear.dask_client`: each member fit scatters
  its row blocks (1,024 rows) to the workers once, and every evaluation sends ``w``
  and adds the blocks' (loss, gradient) on the client, in block order, so the
  weights equal those of the same fit run locally. They differ from liblinear's
  within the solvers' tolerances (random split: weights 6e-4 relative, the same
  test AUC; ``docs/experiments.md``). The matrix is still gathered on the client
  (the expansion and the folds need it) and, at the corpus's size, a round trip
  per evaluation makes it slower than liblinear; it is for larger training sets.
* Hyperparameter search (``--search``) runs its candidate-and-fold fits on the
  workers through joblib's Dask backend; the candidates' scores are deterministic,
  so the search picks what it picks on one machine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from spamsift.config import Settings
from spamsift.exceptions import ConfigError, TrainingError
from spamsift.features.batch import MessageMeta, _work, chunks
from spamsift.features.featurizer import REPUTATION_KEYS, Layout, MessageFeaturizer
from spamsift.ingest import IngestReport, RawMessage
from spamsift.models.artifact import fingerprint
from spamsift.models.classifier import SpamClassifier
from spamsift.models.parallel_linear import dask_client
from spamsift.models.spam_model import SpamModel
from spamsift.training.jobs import Dataset, ScoredRow, score_rows, split_dataset, train_job
from spamsift.training.scoring import CHUNK
from spamsift.training.trainer import TrainOptions

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator

__all__ = ["connect", "score_on_cluster", "load_dataset_on_cluster", "count_tables",
           "install_tables", "train_job_on_cluster", "CountTables", "Partitions",
           "CONNECT_TIMEOUT"]

#: Seconds to wait for the scheduler to answer and for a first worker to join.
CONNECT_TIMEOUT = 10.0


@contextmanager
def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Iterator[Any]:
    """A Dask client of the scheduler at ``address``, closed on exit.

    Raises
    ------
    ConfigError
        No scheduler answered within ``timeout`` seconds, the address is not one, or
        the scheduler has no worker.
    """
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=True)
    except (OSError, TimeoutError, ValueError) as e:
        raise ConfigError(f"--dask {address!r}: no Dask scheduler answered within "
                          f"{timeout:g} s ({type(e).__name__}: {e})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"--dask {address!r}: the scheduler has no worker after "
                              f"{timeout:g} s ({type(e).__name__})") from None
        yield client
    finally:
        client.close()


def _in_flight(client: Any) -> int:
    return 2 * max(sum(client.nthreads().values()), 1) + 1


def _ordered(client: Any, tasks: Iterable[tuple[Callable[..., Any], tuple[Any, ...]]]
             ) -> Iterator[Any]:
    """Submit ``(function, args)`` tasks, keep a bounded window in flight, and yield the
    results in submission order."""
    limit = _in_flight(client)
    pending: deque[Any] = deque()
    for fn, args in tasks:
        pending.append(client.submit(fn, *args, pure=False))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


# -- scoring -------------------------------------------------------------------------
def _score_part(model: SpamModel, sources: list[str], datas: list[bytes],
                auth: Authenticator | None = None) -> list[ScoredRow]:
    X = _work(model.featurizer, datas, with_meta=False, auth=auth)[0]
    return score_rows(model, X, sources)


def score_on_cluster(client: Any, model: SpamModel, messages: Iterable[RawMessage],
                     chunk_size: int = CHUNK, progress: Callable[[int], None] | None = None,
                     auth: Authenticator | None = None
                     ) -> Iterator[ScoredRow]:
    """Scored rows of ``messages`` in input order, each partition scored on a worker.

    The same per-partition code as :func:`spamsift.training.scoring.score_stream`, so
    the scores are the same numbers.
    """
    shipped = client.scatter(model, broadcast=True)
    tasks = ((_score_part, (shipped, [m.source for m in b], [m.data for m in b], auth))
             for b in chunks(messages, chunk_size))
    for rows in _ordered(client, tasks):
        yield from rows
        if progress:
            progress(len(rows))


# -- training ------------------------------------------------------------------------
@dataclass(frozen=True)
class Partitions:
    """Featurised partitions left on the workers: futures of ``(X, meta)`` and the
    first dataset row of each."""

    futures: list[Any]
    offsets: list[int]


def _featurize_part(featurizer: MessageFeaturizer, datas: list[bytes],
                    auth: Authenticator | None = None
                    ) -> tuple[sp.csr_matrix, list[MessageMeta]]:
    return _work(featurizer, datas, with_meta=True, auth=auth)


def load_dataset_on_cluster(client: Any, messages: Iterable[RawMessage],
                            featurizer: MessageFeaturizer, report: IngestReport | None = None,
                            progress: Callable[[int], None] | None = None,
                            chunk_size: int = CHUNK, auth: Authenticator | None = None
                            ) -> tuple[Dataset, Partitions]:
    """:func:`spamsift.training.jobs.load_dataset` (labelled) with the featurising done
    on the workers: the same Dataset, rows in input order, and the partitions, which
    stay on the workers for :func:`count_tables`.

    The client holds the sparse matrix and the labels; of the raw messages, only
    the partitions being sent.
    """
    report = report or IngestReport()
    sources: list[str] = []
    labels: list[int] = []
    splits: list[str | None] = []

    def labelled() -> Iterator[RawMessage]:
        for m in messages:
            if m.label not in ("spam", "ham"):
                report.skip(m.source, "no label")
                continue
            sources.append(m.source)
            labels.append(int(m.label == "spam"))
            splits.append(m.split)
            yield m

    futures: list[Any] = []
    offsets: list[int] = []
    limit = _in_flight(client)
    parts: list[sp.csr_matrix] = []
    meta: list[MessageMeta] = []

    def take(f: Any) -> None:
        X, mm = f.result()
        parts.append(X)
        meta.extend(mm)
        if progress:
            progress(X.shape[0])

    n = 0
    for b in chunks(labelled(), chunk_size):
        futures.append(client.submit(_featurize_part, featurizer, [m.data for m in b], auth,
                                     pure=False))
        offsets.append(n)
        n += len(b)
        if len(futures) - len(parts) >= limit:
            take(futures[len(parts)])
    for f in futures[len(parts):]:
        take(f)
    X = (sp.vstack(parts, format="csr") if parts
         else sp.csr_matrix((0, featurizer.layout.n_features)))
    fp = fingerprint((s, m.exact_key) for s, m in zip(sources, meta, strict=True))
    ds = Dataset(sources, np.asarray(labels, dtype=int), splits, X, meta, fp, featurizer,
                 report)
    return ds, Partitions(futures, offsets)


@dataclass(frozen=True)
class CountTables:
    """The count tables of a trained model that are sums over its training messages."""

    class_count: np.ndarray             # (2,): ham, spam messages
    token_count: sp.csr_matrix          # (2, n_tokens): messages of each class with a token
    rep_spam: np.ndarray                # (n_rep,): spam messages per hashed sender key
    rep_ham: np.ndarray

    def __add__(self, other: CountTables) -> CountTables:
        return CountTables(self.class_count + other.class_count,
                           (self.token_count + other.token_count).tocsr(),
                           self.rep_spam + other.rep_spam, self.rep_ham + other.rep_ham)


def _part_tables(part: tuple[sp.csr_matrix, Any], y: np.ndarray, rows: np.ndarray,
                 lay: Layout) -> CountTables:
    """What Naive Bayes and sender reputation count on these rows, as their fits do:
    tokens once per message (``SpamClassifier`` binarises them), reputation keys by
    their values (``SenderReputation._counts``)."""
    X = sp.csr_matrix(part[0])[rows]
    y = np.asarray(y, dtype=int)
    tokens = X[:, lay.tokens].tocsr(copy=True)
    tokens.data[:] = 1.0
    by_class = sp.csr_matrix(np.vstack([1 - y, y]).astype(np.float64))
    rep = X[:, lay.reputation(0).start:lay.reputation(len(REPUTATION_KEYS) - 1).stop]
    yf = y.astype(np.float64)
    return CountTables(np.bincount(y, minlength=2).astype(np.float64),
                       (by_class @ tokens).tocsr(),
                       np.asarray(rep.T @ yf).ravel(), np.asarray(rep.T @ (1.0 - yf)).ravel())


def _add(a: CountTables, b: CountTables) -> CountTables:
    return a + b


def count_tables(client: Any, parts: Partitions, y: np.ndarray, train_rows: np.ndarray,
                 layout: Layout) -> CountTables:
    """The count tables of the training rows (dataset row numbers), counted on the
    workers that hold the partitions and added up pairwise on the cluster (a tree
    reduction): only the tables travel, never the matrix."""
    train_rows = np.sort(np.asarray(train_rows, dtype=int))
    if not len(train_rows):
        raise TrainingError("no training rows to count")
    ends = [*parts.offsets[1:], len(y)]
    level = []
    for f, lo, hi in zip(parts.futures, parts.offsets, ends, strict=True):
        rows = train_rows[(train_rows >= lo) & (train_rows < hi)]
        if len(rows):
            level.append(client.submit(_part_tables, f, y[rows], rows - lo, layout,
                                       pure=False))
    while len(level) > 1:
        pairs = [client.submit(_add, a, b, pure=False)
                 for a, b in zip(level[::2], level[1::2], strict=False)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0].result()


def install_tables(clf: SpamClassifier, t: CountTables) -> SpamClassifier:
    """Put reduced count tables into a fitted classifier and re-derive NB's weights.

    Raises
    ------
    TrainingError
        The tables are not the ones the fit counted on the gathered matrix: a
        partition was lost or counted twice.
    """
    n_tokens = clf.layout.n_tokens
    tokens = np.asarray(t.token_count.toarray())
    ok = (np.array_equal(clf.reputation_.spam_, t.rep_spam)
          and np.array_equal(clf.reputation_.ham_, t.rep_ham))
    if "nb" in clf.member_names_:
        ok = ok and (np.array_equal(clf.nb_count_[:, :n_tokens], tokens)
                     and np.array_equal(clf.nb_class_count_, t.class_count))
    if not ok:
        raise TrainingError("the count tables summed on the workers differ from the fitted "
                            "model's: a partition was lost or counted twice")
    state = clf.get_state()
    if "nb" in clf.member_names_:
        state["nb_count"] = state["nb_count"].copy()
        state["nb_count"][:, :n_tokens] = tokens
        state["nb_class_count"] = t.class_count.copy()
    state["reputation_spam"], state["reputation_ham"] = t.rep_spam.copy(), t.rep_ham.copy()
    return clf.set_state(state)


def train_job_on_cluster(client: Any, ds: Dataset, parts: Partitions, how: str,
                         settings: Settings, options: TrainOptions | None = None
                         ) -> tuple[SpamModel, dict[str, Any], np.ndarray]:
    """:func:`spamsift.training.jobs.train_job` with the search on the workers and the
    count tables reduced on them (see the module docstring)."""
    import joblib

    options = options or TrainOptions()
    options = replace(options, search_n_jobs=-1)
    with joblib.parallel_backend("dask"), dask_client(client):
        model, details, te = train_job(ds, how, settings, options)
    tr, _, _ = split_dataset(ds, how, settings.seed)
    tables = count_tables(client, parts, ds.y, tr, model.classifier.layout)
    install_tables(model.classifier, tables)
    details["reduced_tables"] = {"messages": int(tables.class_count.sum()),
                                 "partitions": len(parts.futures)}
    return model, details, te
