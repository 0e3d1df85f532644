"""Score the messages that arrive together in one call, without making anyone wait.

One batcher for every door (REST, spamd, the milter). A call to the model has a fixed
cost several times what one more message adds to it: on the temporal test rows the
bundled model with 8 clues scores 142 messages/s one by one and 478/s in one call (one
core; the verdicts are identical, each row's score depends on its row alone). So the
messages waiting whenever a slot is free are scored together, up to ``max_batch`` and
``max_bytes``: an idle door scores each message at once (no added latency), a busy
one in growing batches.

- ``slots`` batches run at a time (in ``pool``, or the loop's default executor). The
  daemons use one per scoring thread, so a slow message holds up the few that share its
  batch; REST uses one per process, since scoring holds the GIL nearly throughout and
  more cores are used by more worker processes.
- ``key``: a batch holds only items with the same key (REST: the model a request took,
  so a request is scored by the version it was routed to).
- ``linger``: right after a batch of several, wait that long for as many to arrive
  before the next. The callers just answered are about to send again; without the wait
  the first of them is scored alone while the rest queue behind it, and batches
  alternate between one message and all the others (REST: 2 ms).
- A batch whose call raises is scored again one item at a time, so only the item at
  fault fails; a scorer may also return an exception in an item's place.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, Generic, TypeVar

__all__ = ["Batcher"]

T = TypeVar("T")


def _nothing(item: Any) -> int:
    return 0


class Batcher(Generic[T]):
    """Runs ``score_many`` on batches of waiting items.

    Parameters
    ----------
    score_many : callable
        ``list of items -> list of results`` (a result may be an exception), one per
        item, in order; runs in ``pool``.
    pool : Executor or None
        Where ``score_many`` runs; None: the event loop's default executor.
    slots : int
        Batches running at once.
    max_batch : int
        Items per batch, at most.
    max_bytes : int
        Sum of ``size(item)`` per batch, at most (one item over it still goes, alone).
    linger : float
        Seconds to wait, after a batch of several, for as many items to arrive.
    key, size : callable
        An item's batch key (only equal keys share a batch) and its size in bytes.
    """

    def __init__(self, score_many: Callable[[list[Any]], Sequence[T | BaseException]], *,
                 pool: Executor | None = None, slots: int = 1, max_batch: int = 32,
                 max_bytes: int = 1 << 30, linger: float = 0.0,
                 key: Callable[[Any], Any] = _nothing,
                 size: Callable[[Any], int] = _nothing) -> None:
        self.score_many = score_many
        self.pool = pool
        self.slots = slots
        self.max_batch = max_batch
        self.max_bytes = max_bytes
        self.linger = linger
        self.key = key
        self.size = size
        self.batches = 0  # calls made, for tests and metrics
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reset()

    def _reset(self) -> None:
        self._waiting: collections.deque[tuple[Any, asyncio.Future[T]]] = collections.deque()
        self._running = 0
        self._expect = 0
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, item: Any) -> T:
        """The result for ``item``, scored with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first call, or a new loop (test clients run one each)
            self._loop = loop
            self._reset()
        fut: asyncio.Future[T] = loop.create_future()
        self._waiting.append((item, fut))
        if self._timer is not None and len(self._waiting) >= self._expect:
            self._timer.cancel()
            self._timer = None
        self._dispatch()
        return await fut

    def _take(self) -> list[tuple[Any, asyncio.Future[T]]]:
        first = self._waiting.popleft()
        batch, size, key = [first], self.size(first[0]), self.key(first[0])
        while self._waiting and len(batch) < self.max_batch:
            item = self._waiting[0][0]
            if self.key(item) != key or size + self.size(item) > self.max_bytes:
                break
            batch.append(self._waiting.popleft())
            size += self.size(item)
        return [(item, fut) for item, fut in batch if not fut.done()]  # cancelled ones

    def _dispatch(self) -> None:
        loop = self._loop
        assert loop is not None
        while self._waiting and self._running < self.slots and self._timer is None:
            batch = self._take()
            if not batch:
                continue
            self._running += 1
            self.batches += 1
            task = loop.run_in_executor(self.pool, self._score, [item for item, _ in batch])
            task.add_done_callback(lambda t, b=batch: self._done(b, t))  # type: ignore[misc]

    def _score(self, items: list[Any]) -> list[T | BaseException]:
        try:
            out = list(self.score_many(items))
            if len(out) != len(items):
                raise RuntimeError(f"scorer gave {len(out)} results for {len(items)} items")
            return out
        except Exception as exc:
            if len(items) == 1:
                return [exc]
        results: list[T | BaseException] = []
        for item in items:  # find the one at fault; the others get their results
            results.extend(self._score([item]))
        return results

    def _done(self, batch: list[tuple[Any, asyncio.Future[T]]],
              task: asyncio.Future[list[T | BaseException]]) -> None:
        self._running -= 1
        try:
            results: list[T | BaseException] = task.result()
        except BaseException as exc:  # the pool was shut down under us
            results = [exc] * len(batch)
        for (_, fut), result in zip(batch, results, strict=True):
            if fut.done():
                continue
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result)
        expect = min(len(batch), self.max_batch)
        if (self.linger > 0 and len(batch) > 1 and self._running == 0
                and len(self._waiting) < expect and self._loop is not None):
            self._expect = expect
            self._timer = self._loop.call_later(self.linger, self._linger_over)
            return
        self._dispatch()

    def _linger_over(self) -> None:
        self._timer = None
        self._dispatch()
