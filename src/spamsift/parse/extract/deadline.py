"""A wall-clock deadline that stops pure-Python work where it stands.

The extractors run libraries written in Python (pypdf) and loops of our own over
hostile bytes. Checking the clock between pages or members leaves one call
unbounded: pypdf took 28 s for one page whose 13 KiB compressed content stream
holds 300,000 text operators. A trace function that checks the clock would stop
it, but ``sys.settrace`` made ordinary extraction 2.5x slower here.

Instead one watchdog thread per process waits for the nearest deadline and, when
it passes, raises :class:`Expired` in the thread that set it
(``PyThreadState_SetAsyncExc``): CPython delivers it at that thread's next
bytecode boundary, so ordinary work costs nothing. Code running in C (zlib, a
regex, expat) is not interrupted; what it may do is bounded by the size caps. The
daemons' parse sandbox (``spamsift.parse.sandbox``) remains the hard limit behind
this one for large messages.

``Expired`` derives from ``BaseException`` so that a library's ``except
Exception`` does not swallow it.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Expired", "deadline"]


class Expired(BaseException):
    """Raised in a thread whose :func:`deadline` has passed."""


# A pointer argument, so that None passes NULL (which clears a pending exception); the
# object passed is the class Expired, which lives as long as the module.
_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
_set_async_exc.restype = ctypes.c_int


# Seconds between re-firings of a deadline that has passed (not tuned: far below any
# cap, far above the interpreter's switch interval of 5 ms).
_REFIRE = 0.05


class _Watchdog:
    """One daemon thread firing :class:`Expired` into threads whose deadline passed."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int]] = []  # (when, ticket, thread id)
        self._live: set[int] = set()  # tickets not yet cancelled
        self._fired: set[int] = set()  # live tickets that have fired at least once
        self._tickets = itertools.count()
        self._pid = -1

    def _ensure_thread(self) -> None:
        # A child made by fork has no watchdog thread: start one in each process.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._heap.clear()
            self._live.clear()
            self._fired.clear()
            threading.Thread(target=self._run, name="spamsift-deadline", daemon=True).start()

    def arm(self, seconds: float) -> int:
        with self._cond:
            self._ensure_thread()
            ticket = next(self._tickets)
            heapq.heappush(self._heap, (time.monotonic() + seconds, ticket,
                                        threading.get_ident()))
            self._live.add(ticket)
            self._cond.notify()
            return ticket

    def disarm(self, ticket: int) -> None:
        """Cancel ``ticket``; if it fired, withdraw the exception not yet raised.

        May itself raise :class:`Expired` (one fired before the cancel); the ticket is
        cancelled all the same once this returns, and calling it again is harmless.
        """
        with self._cond:
            self._live.discard(ticket)
            fired = ticket in self._fired
            self._fired.discard(ticket)
        if fired:
            # Pending, or raised and being handled: clearing a pending one stops it
            # surfacing later, outside the block.
            _set_async_exc(threading.get_ident(), None)

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                when, ticket, tid = self._heap[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                # Fired again every _REFIRE seconds until disarmed: CPython may deliver
                # the exception inside a finaliser or a callback run by the garbage
                # collector, which swallows it (seen under the test suite: pypdf ran on
                # to its own limits). The block ends at the first one that lands.
                self._fired.add(ticket)
                heapq.heappush(self._heap, (time.monotonic() + _REFIRE, ticket, tid))
                _set_async_exc(tid, id(Expired))


_WATCHDOG = _Watchdog()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Expired` in this thread if the block runs past ``seconds``.

    Catch ``Expired`` around the ``with`` block, not inside it: it may arrive while
    the block is being left.

    >>> try:
    ...     with deadline(0.05):
    ...         while True:
    ...             pass
    ... except Expired:
    ...     print("stopped")
    stopped
    """
    ticket = _WATCHDOG.arm(seconds)
    try:
        yield
    finally:
        # An Expired fired just before the cancel can land inside disarm itself: cancel
        # until it holds, then let the Expired go on to the caller.
        late = False
        while True:
            try:
                _WATCHDOG.disarm(ticket)
                break
            except Expired:
                late = True
        if late and sys.exc_info()[0] is None:
            raise Expired
