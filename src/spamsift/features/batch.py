"""Featurise many messages on every core: parsing and tokenising dominate the cost.

Each worker also returns what training needs to know about a message besides its
features (duplicate keys, date, subject), so nothing is parsed twice.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import scipy.sparse as sp

from spamsift.exceptions import WorkerError
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.parse.sandbox import ParseSandbox

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator

__all__ = ["MessageMeta", "featurize", "featurize_stream", "chunks"]

T = TypeVar("T")


class _HasData(Protocol):
    @property
    def data(self) -> bytes: ...


M = TypeVar("M", bound=_HasData)

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


def _work(featurizer: MessageFeaturizer, datas: Sequence[bytes], with_meta: bool = True,
          sandbox: ParseSandbox | None = None, auth: Authenticator | None = None
          ) -> tuple[sp.csr_matrix, list[MessageMeta]]:
    from spamsift.features.dedup import content_key, exact_key

    limits = featurizer.limits
    msgs = [featurizer.parse(d if sandbox is None else sandbox.prepare_sync(d, limits))
            for d in datas]
    if auth is not None:  # the site's trusted headers (and checks, if asked) as evidence
        msgs = [auth.apply(m, d) for m, d in zip(msgs, datas, strict=True)]
    if not with_meta:  # scoring needs no duplicate keys: skip re-normalising every body
        return featurizer.transform_parsed(msgs), []
    meta = [MessageMeta(exact_key(d), content_key(m),
                        m.date.timestamp() if m.date is not None else None,
                        (m.subject or "")[:200], tuple(sorted(m.flags)))
            for d, m in zip(datas, msgs, strict=True)]
    return featurizer.transform_parsed(msgs), meta


def featurize(featurizer: MessageFeaturizer, datas: Sequence[bytes], n_jobs: int = -1,
              progress: Callable[[int], None] | None = None, with_meta: bool = True,
              sandbox: ParseSandbox | None = None, auth: Authenticator | None = None
              ) -> tuple[sp.csr_matrix, list[MessageMeta]]:
    """The feature matrix of raw messages (rows in input order) and their metadata.

    ``progress`` is called with the number of messages each finished chunk held.
    ``sandbox``: where large messages are parsed (:mod:`spamsift.parse.sandbox`).
    ``auth``: fills each message's authentication results after parsing
    (:class:`~spamsift.mailauth.Authenticator`); None leaves them empty.
    """
    if len(datas) <= _CHUNK or n_jobs == 1:
        out = _work(featurizer, datas, with_meta, sandbox, auth)
        if progress:
            progress(len(datas))
        return out
    parts = []
    for part in _in_processes(((featurizer, c, with_meta, sandbox, auth) for c in chunks(datas)),
                              n_jobs):
        parts.append(part)
        if progress:
            progress(part[0].shape[0])
    X = sp.vstack([p[0] for p in parts], format="csr")
    return X, [m for p in parts for m in p[1]]


def featurize_stream(featurizer: MessageFeaturizer, messages: Iterable[M], chunk_size: int = _CHUNK,
                     n_jobs: int = 1, with_meta: bool = True,
                     sandbox: ParseSandbox | None = None, auth: Authenticator | None = None
                     ) -> Iterator[tuple[list[M], sp.csr_matrix, list[MessageMeta]]]:
    """Each chunk of ``messages`` (objects with ``.data``) with its matrix and metadata, lazily.

    ``n_jobs`` local processes featurise (``-1``: every core, ``1``: this process). At
    most ``2 * n_jobs`` chunks are read ahead of the one handed out, so memory is set
    by the chunk size and the processes, not by the input.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
    batches = chunks(messages, chunk_size)
    if n_jobs == 1:
        for b in batches:
            X, meta = _work(featurizer, [m.data for m in b], with_meta, sandbox, auth)
            yield b, X, meta
        return
    # The chunks sent out, oldest first: results come back in input order, so each
    # belongs to the chunk at the head.
    sent: deque[list[M]] = deque()

    def tasks() -> Iterator[tuple[Any, ...]]:
        for b in batches:
            sent.append(b)
            yield featurizer, [m.data for m in b], with_meta, sandbox, auth

    for X, meta in _in_processes(tasks(), n_jobs):
        yield sent.popleft(), X, meta


def _in_processes(tasks: Iterable[tuple[Any, ...]], n_jobs: int
                  ) -> Iterator[tuple[sp.csr_matrix, list[MessageMeta]]]:
    """:func:`_work` of each task's arguments in ``n_jobs`` processes (joblib's
    meaning: -1 every core), results in input order, at most ``2 * n_jobs`` tasks ahead.

    A process with no thread but its main one forks its workers: they start with
    everything this process imported and loaded, where spawned ones (loky's) import
    numpy, SciPy and spamsift again and read the language model, about 0.9 s of CPU
    each (`spamsift score` of the 2,796 temporal-test messages on 2 cores: 655 -> 803
    msgs/s, start-up included; docs/experiments.md). A process with threads (a server
    retraining) spawns: a fork copies only the forking thread, and a lock another
    thread held (logging's, a database pool's) would never be released in the child.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    pool = _fork_pool(workers)
    if pool is None:
        try:
            yield from Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")(
                delayed(_work)(*t) for t in tasks)
        except BrokenProcessPool as e:  # loky's TerminatedWorkerError derives from it
            raise _died() from e
        return  # loky replaces a broken executor at its next call
    ahead: deque[Future[tuple[sp.csr_matrix, list[MessageMeta]]]] = deque()
    try:
        for t in tasks:
            ahead.append(pool.submit(_work, *t))
            if len(ahead) > 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    except BrokenProcessPool as e:
        # The pool's other workers are gone with it: drop it (its manager thread joined,
        # so the next call may fork again) and say what happened.
        if _POOLS.get(workers) is pool:
            del _POOLS[workers]
        pool.shutdown(wait=True, cancel_futures=True)
        raise _died() from e
    finally:
        for f in ahead:  # a consumer that stopped early: what is queued is not run
            f.cancel()


def _died() -> WorkerError:
    """What a user can act on, in place of the executor's traceback: a worker was
    killed mid-chunk, and the kernel's out-of-memory killer is the usual cause (each
    holds a chunk of up to 256 messages, each up to ``limits.max_message_bytes``)."""
    return WorkerError(
        "a featurising worker process died (killed, most likely out of memory): run "
        "fewer processes (--n-jobs 1, or SPAMSIFT_N_JOBS=1) or lower the parse "
        "limits (limits.max_message_bytes, images.max_total_pixels, SPAMSIFT_OCR=false)")


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _fork_pool(workers: int) -> ProcessPoolExecutor | None:
    """This process's forked workers, kept for its later calls as loky keeps its own
    (what they load on first use, the OCR engine or pypdf, is then loaded once); None
    where forking is unsafe. A pool with the fork method forks all its workers at its
    first task, before its own manager thread starts, so a later call may reuse it
    whatever threads have started since."""
    pool = _POOLS.get(workers)
    if pool is not None and not getattr(pool, "_broken", False):
        return pool
    if threading.active_count() > 1:
        return None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    _POOLS[workers] = pool
    return pool
