"""Featurise many messages on every core: parsing and tokenising dominate the cost.

Each worker also returns what training needs to know about a message besides its
features (duplicate keys, date, subject), so nothing is parsed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import scipy.sparse as sp
from joblib import Parallel, delayed

from spamsift.features.featurizer import MessageFeaturizer

__all__ = ["MessageMeta", "featurize", "chunks"]

T = TypeVar("T")

# Messages per task: large enough that process hand-off is a small share of the
# work, small enough to balance two cores.
_CHUNK = 256


@dataclass(frozen=True, slots=True)
class MessageMeta:
    exact_key: str
    content_key: str | None
    timestamp: float | None
    subject: str
    flags: tuple[str, ...]


def chunks(items: Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    """Lists of up to ``size`` consecutive items, read lazily."""
    batch: list[T] = []
    for it in items:
        batch.append(it)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _work(featurizer: MessageFeaturizer, datas: Sequence[bytes], with_meta: bool = True
          ) -> tuple[sp.csr_matrix, list[MessageMeta]]:
    from spamsift.training.dedup import content_key, exact_key

    msgs = [featurizer.parse(d) for d in datas]
    if not with_meta:  # scoring needs no duplicate keys: skip re-normalising every body
        return featurizer.transform_parsed(msgs), []
    meta = [MessageMeta(exact_key(d), content_key(m),
                        m.date.timestamp() if m.date is not None else None,
                        (m.subject or "")[:200], tuple(sorted(m.flags)))
            for d, m in zip(datas, msgs, strict=True)]
    return featurizer.transform_parsed(msgs), meta


def featurize(featurizer: MessageFeaturizer, datas: Sequence[bytes], n_jobs: int = -1,
              progress: Callable[[int], None] | None = None, with_meta: bool = True
              ) -> tuple[sp.csr_matrix, list[MessageMeta]]:
    """The feature matrix of raw messages (rows in input order) and their metadata.

    ``progress`` is called with the number of messages each finished chunk held.
    """
    if len(datas) <= _CHUNK or n_jobs == 1:
        out = _work(featurizer, datas, with_meta)
        if progress:
            progress(len(datas))
        return out
    parts = []
    for part in Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_work)(featurizer, c, with_meta) for c in chunks(datas)):
        parts.append(part)
        if progress:
            progress(part[0].shape[0])
    X = sp.vstack([p[0] for p in parts], format="csr")
    return X, [m for p in parts for m in p[1]]
