"""Classifications written to the feedback store off the request path, in batches.

A door answers with the classification's id at once: the store names it and checks
it (:meth:`~spamsift.feedback.FeedbackStore.new_classification`: no database, 0.01 ms),
and a thread of its own writes whatever has queued meanwhile in one transaction
(:meth:`~spamsift.feedback.FeedbackStore.record_classifications`). In SQLite, on the
temporal test messages: one a transaction cost 0.69-0.86 ms of CPU a new message
(0.42-0.49 for one already stored), in the request's thread; in batches of 256,
0.23 (0.11), off the request's path.

What can be lost, and when:

- **A clean shutdown loses nothing**: :meth:`close` (the REST app's lifespan end,
  which uvicorn reaches on SIGTERM and SIGINT) writes the queue out first.
- **A crash** (SIGKILL, power) loses what was queued and not yet committed: at most
  ``max_pending`` classifications, in practice the few milliseconds of traffic since
  the last write. Their ids were answered: feedback citing one gets 404 (it can be
  given with the message's bytes instead).
- **A full queue drops** the new classification (counted in :attr:`dropped`; the
  answer carries no id, as when the store is down) rather than making the request
  wait: the queue fills only when the store cannot keep up, and the verdict is what
  the caller is waiting for; holding it up would slow every message down to the
  store's pace, the store's history being the lesser loss.
- A batch the store refuses (down past its retries) is logged and counted in
  :attr:`failed`; its ids were answered and are not found later.

Feedback that cites a classification id first waits for the queue to be written
(:meth:`flush`), so a caller that sends feedback right after the verdict finds it.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any

from spamsift.exceptions import SpamsiftError
from spamsift.models.spam_model import Verdict

__all__ = ["ClassificationRecorder"]

log = logging.getLogger(__name__)

# A batch is what queued while the one before it was written: at 1,000 messages a
# second and 0.23 ms a row, a few dozen. 2,048 is two seconds of that traffic with
# the store stopped (a crash loses at most this many), and 64 MiB bounds what the
# queued messages hold in memory (at the 10 MiB cap, six of them).
MAX_PENDING = 2048
MAX_PENDING_BYTES = 64 << 20
MAX_BATCH = 256


class ClassificationRecorder:
    """Queue classifications and write them in batches from a daemon thread.

    Parameters
    ----------
    store : FeedbackStore
        Has ``new_classification`` and ``record_classifications``
        (:class:`spamsift.feedback.FeedbackStore`).
    max_pending, max_pending_bytes : int
        Bounds of the queue (messages, their bytes); past either, :meth:`record`
        drops.
    max_batch : int
        Classifications written in one transaction, at most.
    """

    def __init__(self, store: Any, *, max_pending: int = MAX_PENDING,
                 max_pending_bytes: int = MAX_PENDING_BYTES,
                 max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.max_batch = max_batch
        self.written = 0  # classifications committed
        self.dropped = 0  # refused because the queue was full
        self.failed = 0  # queued, then lost to a failed write
        self._queue: collections.deque[Any] = collections.deque()
        self._bytes = 0
        self._queued = 0  # ever queued: flush waits until these are written or lost
        self._done = 0
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="spamsift-recorder",
                                        daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Classifications queued and not yet written."""
        return self._queued - self._done

    def record(self, raw: bytes, verdict: Verdict, model_version: str) -> str | None:
        """Queue the classification of ``raw``; its id, or None when it is not kept (the
        store refuses the message, the queue is full, or the recorder is closed)."""
        try:
            new = self.store.new_classification(raw, verdict.score, verdict.verdict,
                                                model_version, clues=verdict.clues,
                                                flags=verdict.flags)
        except SpamsiftError as exc:  # a message over the store's cap, say
            log.warning("classification not recorded: %s", exc)
            return None
        size = len(new.body)
        with self._cond:
            if self._closing:
                return None
            if (len(self._queue) >= self.max_pending
                    or (self._queue and self._bytes + size > self.max_pending_bytes)):
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("classification history behind: %d not recorded so far "
                                "(the store is slower than the traffic)", self.dropped)
                return None
            self._queue.append(new)
            self._bytes += size
            self._queued += 1
            self._cond.notify_all()
        return str(new.id)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written (or lost to a failed write);
        whether it was within ``timeout`` seconds."""
        with self._cond:
            target = self._queued
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Write out the queue, then stop the thread. Later :meth:`record` calls keep
        nothing."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("classification history: %d not written at shutdown (the store did "
                      "not answer within %g s)", self.pending, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return  # closing, and all written
                batch = [self._queue.popleft()
                         for _ in range(min(self.max_batch, len(self._queue)))]
                self._bytes -= sum(len(c.body) for c in batch)
            try:
                self.store.record_classifications(batch)
                ok = True
            except Exception:  # a store down past its retries: never stop the thread
                log.exception("%d classification(s) not recorded", len(batch))
                ok = False
            with self._cond:
                if ok:
                    self.written += len(batch)
                else:
                    self.failed += len(batch)
                self._done += len(batch)
                self._cond.notify_all()
