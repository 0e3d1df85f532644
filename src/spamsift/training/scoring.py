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

import scipy.sparse as sp
from joblib import Parallel, delayed

from spamsift.features.batch import _work, chunks
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import RawMessage
from spamsift.models.spam_model import SpamModel
from spamsift.training.jobs import ScoredRow, score_rows

__all__ = ["score_stream", "CHUNK"]

# Messages per chunk, as in features.batch: process hand-off stays a small share of
# the work, and a chunk's matrix is a few MB.
CHUNK = 256


def _featurize_chunk(featurizer: MessageFeaturizer, sources: list[str], datas: list[bytes]
                     ) -> tuple[list[str], sp.csr_matrix]:
    return sources, _work(featurizer, datas, with_meta=False)[0]


def score_stream(model: SpamModel, messages: Iterable[RawMessage], n_jobs: int = 1,
                 chunk_size: int = CHUNK, progress: Callable[[int], None] | None = None
                 ) -> Iterator[ScoredRow]:
    """Scored rows of ``messages``, in input order, read lazily chunk by chunk.

    ``n_jobs`` local processes featurise (``-1``: every core, ``1``: this process).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
    batches = (([m.source for m in b], [m.data for m in b]) for b in chunks(messages, chunk_size))
    parts: Iterable[tuple[Sequence[str], sp.csr_matrix]]
    if n_jobs == 1:
        parts = (_featurize_chunk(model.featurizer, s, d) for s, d in batches)
    else:
        # return_as="generator" keeps input order; pre_dispatch bounds the chunks read
        # ahead of the one being written.
        parts = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")(
            delayed(_featurize_chunk)(model.featurizer, s, d) for s, d in batches)
    for sources, X in parts:
        yield from score_rows(model, X, sources)
        if progress:
            progress(len(sources))
