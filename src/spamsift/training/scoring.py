"""Batch scoring as a stream: read, featurise, score and hand on a chunk at a time.

``score`` used to read every message, featurise them all into one matrix and only
then write; its memory grew with the input. Here the input is cut into chunks of
``chunk_size`` messages (:func:`spamsift.features.batch.chunks`); local worker
processes parse and featurise chunks (the costly part), the parent scores each
chunk's matrix (about 0.1 ms a message) and yields its rows in input order. At most
``2 * n_jobs`` chunks are in flight, so peak memory is set by the chunk size and
the number of workers, not by the input size. Each row's score is computed by the
same row-wise code as on the whole matrix, so the scores are the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from spamsift.config import Settings
from spamsift.features.batch import featurize_stream
from spamsift.ingest import RawMessage
from spamsift.models.spam_model import SpamModel
from spamsift.parse.sandbox import ParseSandbox

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator

__all__ = ["score_stream", "scored", "score_rows", "ScoredRow", "CHUNK"]

# Messages per chunk, as in features.batch: process hand-off stays a small share of
# the work, and a chunk's matrix is a few MB.
CHUNK = 256


@dataclass(frozen=True)
class ScoredRow:
    source: str
    score: float
    verdict: str
    label: int | None = None


def score_rows(model: SpamModel, X: sp.csr_matrix, sources: Sequence[str],
               labels: Sequence[int] | None = None) -> list[ScoredRow]:
    """Score, verdict (and label, when given) of each row of ``X``; no clues."""
    z = model.classifier.decision_function(X) if X.shape[0] else np.zeros(0)
    s = expit(z)
    return [ScoredRow(src, float(si), model.verdict(float(si)),
                      None if labels is None else int(labels[i]))
            for i, (src, si) in enumerate(zip(sources, s, strict=True))]


def score_stream(model: SpamModel, messages: Iterable[RawMessage], n_jobs: int = 1,
                 chunk_size: int = CHUNK, progress: Callable[[int], None] | None = None,
                 sandbox: ParseSandbox | None = None, auth: Authenticator | None = None
                 ) -> Iterator[ScoredRow]:
    """Scored rows of ``messages``, in input order, read lazily chunk by chunk.

    ``n_jobs`` local processes featurise (``-1``: every core, ``1``: this process);
    each parses large messages in ``sandbox`` (:mod:`spamsift.parse.sandbox`);
    ``auth`` fills each message's authentication results (:mod:`spamsift.mailauth`).
    """
    for batch, X, _ in featurize_stream(model.featurizer, messages, chunk_size, n_jobs,
                                        with_meta=False, sandbox=sandbox, auth=auth):
        yield from score_rows(model, X, [m.source for m in batch])
        if progress:
            progress(len(batch))


@contextmanager
def scored(model: SpamModel, messages: Iterable[RawMessage], settings: Settings, *,
           n_jobs: int = 1, dask: str | None = None,
           progress: Callable[[int], None] | None = None, auth: Authenticator | None = None
           ) -> Iterator[Iterator[ScoredRow]]:
    """``spamsift score``: scored rows in input order, from local processes
    (:func:`score_stream`, large messages parsed in a sandbox built from ``settings``)
    or, given a scheduler's address in ``dask``, from its workers
    (:func:`~spamsift.training.cluster.score_on_cluster`). The cluster is reached on
    entering, before the caller opens its output.

    Raises
    ------
    ConfigError
        No scheduler answered at ``dask``.
    """
    if dask is None:
        with ParseSandbox.from_settings(settings) as sandbox:
            yield score_stream(model, messages, n_jobs=n_jobs, progress=progress,
                               sandbox=sandbox, auth=auth)
        return
    from spamsift.training.cluster import connect, score_on_cluster

    with connect(dask, settings.dask_timeout) as client:
        yield score_on_cluster(client, model, messages, progress=progress, auth=auth)
