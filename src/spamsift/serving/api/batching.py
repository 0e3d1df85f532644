"""Score the messages of concurrent ``POST /v1/classify`` calls together.

A call to the model has a fixed cost (sparse-matrix assembly, per-call set-up in the
classifier) several times what one more message adds to it: with the bundled model
about 6 ms for a message alone against 2-3 ms each in a batch of eight. So messages
that arrive while others are being scored wait for that call to finish and are then
scored together, in one call in the thread pool. Nothing waits for company: a message
that finds the scorer idle is scored at once, so a lone client sees no added latency,
and the answers are exactly those of scoring each message alone. Only right after a
batch of several does the scorer wait a moment (``linger``, 2 ms) for the callers it
just answered to send again, so that they share the next batch: otherwise the first
of them is scored alone while the rest queue behind it, and batches alternate between
one message and all the others.

One batch at a time per process: scoring holds the GIL nearly throughout, so threads
taking turns at it only add switching. More cores are used by more worker processes.

A message large enough for the parse sandbox (:mod:`spamsift.parse.sandbox`) is
parsed there before it joins the queue, so the time a hostile one takes is its own:
the batch it then joins holds its parse, not its bytes.

Every request keeps the model it took (:attr:`ModelHolder.current`): a batch only
holds messages taken with the same model. A message the model fails on fails its own
request only: the batch is then scored message by message.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from spamsift.mailauth import Authenticator
from spamsift.models.spam_model import Verdict
from spamsift.parse.message import ParsedMessage
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving.model_holder import LoadedModel
from spamsift.serving.service import authenticated

__all__ = ["ScoreBatcher", "Item", "sandboxed"]

log = logging.getLogger(__name__)

Scored = tuple[Verdict, str | None]
Item = bytes | ParsedMessage
# score(loaded, raws, items): items[i] is raws[i] or its parse.
Scorer = Callable[[LoadedModel, list[bytes], list[Item]], list[Scored | Exception]]
Prepare = Callable[[bytes, LoadedModel], Awaitable[Item]]


async def _as_is(raw: bytes, loaded: LoadedModel) -> Item:
    return raw


def sandboxed(sandbox: ParseSandbox, auth: Authenticator | None = None) -> Prepare:
    """The ``prepare`` that parses large messages in ``sandbox`` with the limits of the
    model that will score them, then (with ``auth``) fills the message's
    authentication results in the thread pool: its DNS waits are its own, not the
    batch's."""
    async def prepare(raw: bytes, loaded: LoadedModel) -> Item:
        item = await sandbox.prepare(raw, loaded.model.featurizer.limits)
        if auth is None:
            return item
        return await run_in_threadpool(authenticated, loaded.model, item, raw, auth)
    return prepare


@dataclass
class _Job:
    loaded: LoadedModel
    raw: bytes
    item: Item
    future: asyncio.Future[Scored]


class ScoreBatcher:
    """Queue of messages to score; one drain task per event loop scores them in batches.

    Parameters
    ----------
    score : callable
        ``score(loaded, raws, items) -> list[Scored | Exception]``, one entry per
        message in order; run in the thread pool. ``items[i]`` is ``raws[i]``, or
        its parse when ``prepare`` parsed it.
    prepare : callable, optional
        ``await prepare(raw, loaded)``: the raw message or its parse (:func:`sandboxed`),
        awaited before the message joins the queue.
    max_messages, max_bytes : int
        Bounds of one batch (a single message over ``max_bytes`` still goes, alone).
    linger : float
        Seconds to wait, after a batch of several, for as many messages to arrive.
    """

    def __init__(self, score: Scorer, *, prepare: Prepare = _as_is, max_messages: int = 32,
                 max_bytes: int = 1 << 20, linger: float = 0.002) -> None:
        self._score = score
        self._prepare = prepare
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.linger = linger
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: collections.deque[_Job] = collections.deque()
        self._arrived = asyncio.Event()
        self._drain_task: asyncio.Task[None] | None = None

    async def score(self, loaded: LoadedModel, raw: bytes) -> Scored:
        """The verdict of ``raw`` under ``loaded`` and its classification id."""
        item = await self._prepare(raw, loaded)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first call, or a new loop (test clients run one each)
            self._loop, self._pending, self._drain_task = loop, collections.deque(), None
            self._arrived = asyncio.Event()
        job = _Job(loaded, raw, item, loop.create_future())
        self._pending.append(job)
        self._arrived.set()
        if self._drain_task is None:
            self._drain_task = loop.create_task(self._drain())
        return await job.future

    def _take(self) -> list[_Job]:
        first = self._pending.popleft()
        batch, size = [first], _size(first)
        while (self._pending and len(batch) < self.max_messages
               and self._pending[0].loaded is first.loaded
               and size + _size(self._pending[0]) <= self.max_bytes):
            job = self._pending.popleft()
            batch.append(job)
            size += _size(job)
        return batch

    async def _gather(self, expected: int) -> None:
        """Wait up to ``linger`` for ``expected`` messages to be pending."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.linger
        while len(self._pending) < expected:
            left = deadline - loop.time()
            if left <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return

    async def _drain(self) -> None:
        last = 0
        try:
            while True:
                if last > 1 and self.linger > 0:
                    # Under load: the clients just answered are about to send again.
                    # A moment's wait lets them share the next batch, where the first
                    # of them would otherwise be scored alone and the rest after it.
                    await self._gather(min(last, self.max_messages))
                if not self._pending:
                    break
                batch = [j for j in self._take() if not j.future.done()]  # cancelled
                last = len(batch)
                if not batch:
                    continue
                try:
                    results = await run_in_threadpool(self._score, batch[0].loaded,
                                                      [j.raw for j in batch],
                                                      [j.item for j in batch])
                except asyncio.CancelledError:
                    for j in batch:
                        j.future.cancel()
                    raise
                except Exception as exc:  # a fault of the scorer itself, not of a message
                    log.exception("scoring a batch of %d messages failed", len(batch))
                    results = [exc] * len(batch)
                for j, r in zip(batch, results, strict=True):
                    if j.future.done():
                        continue
                    if isinstance(r, BaseException):
                        j.future.set_exception(r)
                    else:
                        j.future.set_result(r)
        finally:
            if self._drain_task is asyncio.current_task():
                self._drain_task = None


def _size(job: _Job) -> int:
    # What scoring a job costs is its bytes still to parse; a parse is cheap to score.
    return len(job.raw) if isinstance(job.item, bytes) else 0
