"""Parsing in worker processes with hard limits: the bound behind every other bound.

The caps in :mod:`spamsift.parse.mime`, :mod:`~spamsift.parse.html_bounds` and
:mod:`~spamsift.parse.marks` keep every known hostile construction linear, and
the walk checks the clock between parts. What neither can stop is the unknown: a
construction that makes one call into C (the MIME parser, Lexbor, a codec) run for
minutes or take gigabytes, where no clock check reaches. A daemon that parsed such a
message in its own process would stall every other client and keep the memory.

:class:`ParseSandbox` parses a message in a worker process of its own, under a
wall-clock deadline (past it the worker is killed) and an address-space limit
(``RLIMIT_AS``: an allocation past it fails inside the worker). Workers are recycled
after ``max_tasks`` messages, so whatever memory a message made a worker keep goes
back to the system with it. When a worker runs out of time or memory, or dies, the
message is parsed again in the calling process from its first
:data:`FALLBACK_BYTES` (small enough that the in-process caps keep it cheap), and
flagged ``truncated:time``, ``truncated:memory`` or ``parser:crash``: it is always
scored, on what could be read.

Every door sends messages of ``min_bytes`` or more through the sandbox (the
daemons before batching, ``classify``, and the batch jobs' featurising in each of
their processes) and parses smaller ones in-process: with the caps, a small
message cannot cost much (each hostile class of ``benchmarks/hostile.py`` costs
under 0.4 s at 10 MiB, so milliseconds at 256 KiB), and the round trip to a worker
would cost the common case more than it saves.

Workers are fresh interpreters (``python -m spamsift.parse.sandbox``) that import
the parser only: never forks of the daemon, whose threads (uvicorn, libmilter) a
``fork`` could copy mid-lock, and not ``multiprocessing`` children, which re-run
the daemon's main module. They talk over two pipes of their own, so nothing a library
prints reaches the answers.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import queue
import resource
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from spamsift.config import ParseLimits, Settings
from spamsift.parse.message import ParsedMessage
from spamsift.parse.mime import parse_message

__all__ = ["ParseSandbox", "FALLBACK_BYTES"]

log = logging.getLogger(__name__)

# What is parsed in-process when a worker gives up: the headers and the start of
# the body, where spam says what it has to say.
FALLBACK_BYTES = 64 * 1024

Parse = Callable[[bytes, ParseLimits], ParsedMessage]
# How long a new worker may take to import the parser and say so (0.2-0.3 s here; a
# loaded machine is slower). Not part of any message's deadline.
_START_SECONDS = 60.0


def _serve(inbox: Connection, outbox: Connection, parse: Parse, memory_bytes: int) -> None:
    """A worker's loop: (raw, limits) in, ("ok", ParsedMessage) or (error kind, text) out."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_size() + memory_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    outbox.send(("ready", None))  # started: the deadline counts parsing only
    while True:
        try:
            raw, limits = inbox.recv()
        except (EOFError, OSError):
            return
        try:
            outbox.send(("ok", parse(raw, limits)))
        except MemoryError:
            outbox.send(("memory", "out of memory"))
            return  # the heap may be in pieces: let a fresh worker take over
        except Exception as exc:  # parse_message never raises; an injected parse may
            outbox.send(("error", f"{type(exc).__name__}: {exc}"))


def _main(argv: list[str]) -> None:
    """``python -m spamsift.parse.sandbox IN_FD OUT_FD MEMORY_BYTES MODULE:FUNCTION``."""
    in_fd, out_fd, memory, target = int(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    module, _, name = target.partition(":")
    parse = getattr(importlib.import_module(module), name)
    _serve(Connection(in_fd, writable=False), Connection(out_fd, readable=False), parse,
           memory)


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


@dataclass(eq=False)  # identity: workers are kept in a set
class _Worker:
    process: subprocess.Popen[bytes]
    to_worker: Connection
    from_worker: Connection
    tasks: int = 0

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        self.to_worker.close()  # the worker's recv() ends and it exits
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.from_worker.close()


@dataclass
class SandboxStats:
    """Counts since the sandbox started, for metrics and tests."""

    parsed: int = 0
    timeouts: int = 0
    memory: int = 0
    crashes: int = 0
    started: int = 0


class ParseSandbox:
    """Parse messages in worker processes under a deadline and a memory limit.

    Parameters
    ----------
    min_bytes : int
        Messages this large or larger go to a worker (:meth:`wanted`); 0 sends every
        message.
    timeout : float
        Seconds a worker may take for one message before it is killed.
    memory_mb : int
        Address space a worker may add to what it had after start-up.
    workers : int
        Messages parsed at once; more callers wait for a free worker.
    max_tasks : int
        Messages a worker parses before it is replaced.
    parse : callable
        ``parse(raw, limits) -> ParsedMessage``, a module-level function (it is sent
        to the worker by name); :func:`~spamsift.parse.parse_message` by default.

    Examples
    --------
    >>> box = ParseSandbox(timeout=5)                                   # doctest: +SKIP
    >>> box.parse(raw, ParseLimits()).flags                             # doctest: +SKIP
    """

    def __init__(self, *, min_bytes: int = 256 * 1024, timeout: float = 10.0,
                 memory_mb: int = 512, workers: int = 2, max_tasks: int = 100,
                 parse: Parse = parse_message) -> None:
        self.min_bytes = min_bytes
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.workers = workers
        self.max_tasks = max_tasks
        self._parse = parse
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self.busy = 0  # messages in a worker now
        self.stats = SandboxStats()

    def __getstate__(self) -> dict[str, object]:
        # Sent to a worker process of a batch job (joblib) as its settings only: each
        # process starts parse workers of its own, when it first needs one.
        return {"min_bytes": self.min_bytes, "timeout": self.timeout,
                "memory_mb": self.memory_mb, "workers": self.workers,
                "max_tasks": self.max_tasks, "parse": self._parse}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseSandbox:
        """The sandbox the ``sandbox_*`` settings describe."""
        return cls(min_bytes=settings.sandbox_min_bytes, timeout=settings.sandbox_timeout,
                   memory_mb=settings.sandbox_memory_mb, workers=settings.sandbox_workers)

    def wanted(self, raw: bytes) -> bool:
        """Whether ``raw`` is large enough to be parsed in a worker."""
        return len(raw) >= self.min_bytes

    async def prepare(self, raw: bytes, limits: ParseLimits) -> bytes | ParsedMessage:
        """``raw`` itself when it is small, else its parse from a worker.

        Waits in a thread, so the event loop goes on serving other clients.
        """
        if not self.wanted(raw):
            return raw
        return await asyncio.get_running_loop().run_in_executor(None, self.parse, raw, limits)

    def prepare_sync(self, raw: bytes, limits: ParseLimits) -> bytes | ParsedMessage:
        """:meth:`prepare` for a caller on a thread of its own (the milter's)."""
        return self.parse(raw, limits) if self.wanted(raw) else raw

    def parse(self, raw: bytes, limits: ParseLimits) -> ParsedMessage:
        """The parse of ``raw`` from a worker; on timeout, memory or crash, the
        in-process parse of its first :data:`FALLBACK_BYTES`, flagged."""
        with self._slots:
            try:
                worker = self._take()
            except OSError as exc:
                return self._fallback(raw, limits, "crash", str(exc))
            with self._lock:
                self.busy += 1
            try:
                worker.to_worker.send((raw, limits))
                if worker.from_worker.poll(self.timeout):
                    kind, value = worker.from_worker.recv()
                else:
                    kind, value = "timeout", f"no answer in {self.timeout:g} s"
            except (EOFError, OSError) as exc:
                kind, value = "crash", f"worker died: {exc!r}"
            finally:
                with self._lock:
                    self.busy -= 1
            worker.tasks += 1
            if kind == "ok":
                self.stats.parsed += 1
                self._give_back(worker)
                return value  # type: ignore[no-any-return]
            self._retire(worker, kill=kind in ("timeout", "crash"))
        return self._fallback(raw, limits, kind, value)

    def warm(self) -> None:
        """Start every worker now, so the first large messages do not wait for one to
        start (a fresh interpreter: 0.2-0.3 s here)."""
        started = []
        for _ in range(self.workers):
            if self._slots.acquire(blocking=False):
                started.append(self._take())
        for worker in started:
            self._idle.put(worker)
            self._slots.release()

    def __enter__(self) -> ParseSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker; later :meth:`parse` calls start new ones."""
        with self._lock:
            workers, self._all = list(self._all), set()
            while True:
                try:
                    self._idle.get_nowait()
                except queue.Empty:
                    break
        for w in workers:
            w.stop()

    # -- internals -------------------------------------------------------------

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._start()

    def _start(self) -> _Worker:
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        target = f"{self._parse.__module__}:{self._parse.__qualname__}"
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "spamsift.parse.sandbox", str(down_r), str(up_w),
                 str(self.memory_mb << 20), target],
                pass_fds=(down_r, up_w), stdin=subprocess.DEVNULL, close_fds=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
        finally:
            os.close(down_r)
            os.close(up_w)
        worker = _Worker(proc, Connection(down_w, readable=False),
                         Connection(up_r, writable=False))
        try:
            ready = worker.from_worker.poll(_START_SECONDS) and worker.from_worker.recv()
        except (EOFError, OSError):
            ready = None
        if not ready or ready[0] != "ready":
            worker.stop(kill=True)
            raise OSError(f"a parse worker did not start within {_START_SECONDS:g} s")
        with self._lock:
            self._all.add(worker)
            self.stats.started += 1
        return worker

    def _give_back(self, worker: _Worker) -> None:
        if worker.tasks >= self.max_tasks:
            self._retire(worker)
        else:
            self._idle.put(worker)

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop(kill=kill)

    def _fallback(self, raw: bytes, limits: ParseLimits, kind: str, why: str
                  ) -> ParsedMessage:
        flag = {"timeout": "truncated:time", "memory": "truncated:memory"}.get(
            kind, "parser:crash")
        counter = {"timeout": "timeouts", "memory": "memory"}.get(kind, "crashes")
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        log.warning("parse worker gave up on a message of %d bytes (%s); scoring its "
                    "first %d bytes", len(raw), why, FALLBACK_BYTES)
        msg = parse_message(raw[:FALLBACK_BYTES], limits)
        msg.size = len(raw)
        msg.flags.add(flag)
        if len(raw) > FALLBACK_BYTES:
            msg.flags.add("truncated:bytes")
        return msg


if __name__ == "__main__":
    _main(sys.argv[1:])
