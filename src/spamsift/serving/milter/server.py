"""``spamsift milter``: the Sendmail/Postfix milter protocol, on the live service of a data folder.

The protocol itself is Sendmail's libmilter, through pymilter: libmilter owns the
socket, the option negotiation and one thread per MTA connection; this module
only turns its callbacks into a message (:mod:`~spamsift.serving.milter.message`),
scores it with the same live service as ``spamsift serve`` and ``spamsift spamd``
(:func:`~spamsift.serving.live.open_live`), and answers at end of message:

- add spamd's ``X-Spam-*`` / ``X-Spamsift-*`` headers (after deleting incoming
  headers of those names, which a sender can forge);
- then accept, quarantine or reject (:mod:`~spamsift.serving.milter.policy`).

Scoring runs in a small thread pool behind the spamd daemon's
:class:`~spamsift.serving.spamd.batches.Batcher` (on an event loop of its own), so
messages that arrive together through several MTA connections are scored in one
call, as with spamd and the REST API. The same loop follows the registry: a version
activated elsewhere is served within ``settings.model_poll_seconds``.

A scan that fails accepts the message unmarked (and logs why), as spamc passes mail
through when spamd fails: losing mail is worse than letting one spam by. The MTA's
``milter_default_action`` decides what happens while the milter is down.

libmilter allows one milter per process, so :func:`run` is for a process of its
own (``spamsift milter``); tests start it as one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import Milter

from spamsift.config import Settings
from spamsift.exceptions import ConfigError
from spamsift.mailauth import Envelope
from spamsift.parse.extract.ocr import warm_up
from spamsift.parse.message import ParsedMessage
from spamsift.serving.batching import Batcher
from spamsift.serving.live import Live, StoresFactory, configure_logging, open_live
from spamsift.serving.markup import Scan, header_lines, scan_many
from spamsift.serving.milter.message import MessageBuffer
from spamsift.serving.milter.policy import Action, MilterOptions, decide
from spamsift.serving.model_holder import follow_registry
from spamsift.serving.service import prepare_sync

__all__ = ["MilterScanner", "SpamsiftMilter", "socket_spec", "run", "DEFAULT_PORT"]

log = logging.getLogger("spamsift.milter")

DEFAULT_PORT = 11332  # where rspamd's milter listens by default; no port is registered
# What the milter may do to a message, and no more: the MTA is told so at negotiation.
ACTIONS = Milter.ADDHDRS | Milter.CHGHDRS | Milter.QUARANTINE
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class MilterScanner:
    """Scores messages for the libmilter threads, batched, on a loop of its own.

    Parameters
    ----------
    live : Live
        The data folder's live service.
    settings : Settings
        ``top_clues`` and ``model_poll_seconds`` are read.
    options : MilterOptions
        ``threads`` and ``max_batch``.
    """

    def __init__(self, live: Live, settings: Settings, options: MilterOptions) -> None:
        self.live = live
        self.settings = settings
        self.options = options
        self.pool = ThreadPoolExecutor(options.threads, thread_name_prefix="milter-scan")
        self.batcher: Batcher[Scan] = Batcher(self.scan_many, pool=self.pool,
                                              slots=options.threads,
                                              max_batch=options.max_batch)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="milter-loop", daemon=True)
        self._poller: concurrent.futures.Future[None] | None = None

    def start(self) -> None:
        self.live.start()  # follow the feedback other processes give
        warm_up(self.settings.limits.images.ocr)
        self._thread.start()
        self._poller = asyncio.run_coroutine_threadsafe(
            follow_registry(self.live.holder, self.settings.model_poll_seconds), self.loop)

    def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.live.stop()

    def scan_many(self, items: list[bytes | ParsedMessage]) -> list[Scan]:
        return scan_many(self.live.holder, items, self.settings.top_clues)

    def scan(self, raw: bytes, envelope: Envelope | None = None) -> Scan:
        """The scan of ``raw``; blocks the calling (libmilter) thread.

        A large message is parsed in the sandbox on this thread first
        (:mod:`spamsift.parse.sandbox`), so its time is its own connection's; so are
        its authentication checks (SPF with the SMTP ``envelope``, when known).
        """
        item = prepare_sync(self.live.holder.current.model, raw, self.live.sandbox,
                            self.live.auth, envelope)
        fut = asyncio.run_coroutine_threadsafe(self.batcher.submit(item), self.loop)
        return fut.result(timeout=self.options.timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()


class SpamsiftMilter(Milter.Base):
    """One MTA connection (libmilter makes one per connection, from :data:`Milter.factory`).

    A connection can carry several messages: each starts at ``envfrom``.
    """

    scanner: MilterScanner  # set on the class by run()
    options: MilterOptions

    def __init__(self) -> None:
        self.buf: MessageBuffer | None = None
        self.queue_id = "-"
        # The SMTP session, for SPF: the client's address, its HELO, the MAIL FROM.
        self.client_ip = ""
        self.helo = ""
        self.mail_from = ""

    def negotiate(self, opts: list[int]) -> int:
        rc = super().negotiate(opts)
        opts[0] = self._actions = opts[0] & ACTIONS
        return int(rc)

    @Milter.noreply
    def connect(self, hostname: str, family: Any, hostaddr: Any) -> int:
        # An IP client gives (address, port[, flow, scope]); a local socket a path.
        if family in (socket.AF_INET, socket.AF_INET6) and isinstance(hostaddr, tuple):
            self.client_ip = str(hostaddr[0])
        return Milter.CONTINUE

    @Milter.noreply
    def hello(self, hostname: str) -> int:
        self.helo = hostname
        return Milter.CONTINUE

    def envfrom(self, mailfrom: str, *params: str) -> int:
        self.buf = MessageBuffer(self.options.max_size)
        self.mail_from = mailfrom.strip().strip("<>")
        return Milter.CONTINUE

    @Milter.nocallback
    def envrcpt(self, to: str, *params: str) -> int:
        return Milter.CONTINUE

    @Milter.decode("bytes")  # the value's bytes as sent, whatever their charset
    @Milter.noreply
    def header(self, name: str, value: bytes) -> int:
        if self.buf is not None:
            self.buf.header(name, value)
        return Milter.CONTINUE

    @Milter.noreply
    def eoh(self) -> int:
        if self.buf is not None:
            self.buf.end_of_headers()
        return Milter.CONTINUE

    @Milter.noreply
    def body(self, chunk: bytes) -> int:
        if self.buf is not None:
            self.buf.body(chunk)
        return Milter.CONTINUE

    def eom(self) -> int:
        buf, self.buf = self.buf, None
        if buf is None:  # no MAIL FROM seen: nothing to scan
            return Milter.ACCEPT
        self.queue_id = self.getsymval("i") or "-"
        try:
            envelope = Envelope(self.client_ip, self.helo, self.mail_from) \
                if self.client_ip else None
            scan = self.scanner.scan(buf.raw(), envelope)
        except Exception:
            log.exception("%s: scan failed; accepted unmarked", self.queue_id)
            return Milter.ACCEPT
        for name, index in reversed(buf.markup):  # forged markup out, by index
            self.chgheader(name, index, "")
        for name, value in _fields(header_lines(scan)):
            self.addheader(name, value)
        action = decide(scan, self.options)
        log.info("%s: %s score=%.1f %s%s, %d bytes", self.queue_id, scan.verdict.verdict,
                 scan.shown, action.value, " (truncated)" if buf.truncated else "", buf.size)
        if action is Action.REJECT:
            self.setreply("550", "5.7.1", self.options.reject_message)
            return Milter.REJECT
        if action is Action.QUARANTINE:
            self.quarantine(f"spamsift: spam, score {scan.shown:.1f}")
        return Milter.ACCEPT

    def abort(self) -> int:
        self.buf = None
        return Milter.CONTINUE


def _fields(lines: list[str]) -> list[tuple[str, str]]:
    """Header lines (continuations start with a tab) as (name, folded value) pairs."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and out:
            name, value = out[-1]
            out[-1] = (name, value + "\n" + line)
        else:
            name, _, value = line.partition(":")
            out.append((name, value.lstrip(" ")))
    return out


def socket_spec(host: str, port: int) -> str:
    """libmilter's name for a TCP socket: ``inet:PORT@HOST`` (``inet6:`` for IPv6)."""
    if not 0 < port < 65536:
        raise ConfigError(f"port: expected 1 to 65535, got {port}")
    family = "inet6" if ":" in host else "inet"
    return f"{family}:{port}@{host}"


def run(host: str, port: int, data_dir: str | os.PathLike[str], settings: Settings, *,
        options: MilterOptions | None = None, stores: StoresFactory | None = None,
        log_level: str = "info") -> None:
    """Serve the milter protocol on ``host:port`` for ``data_dir`` until SIGINT/SIGTERM.

    ``data_dir`` is a data folder as for ``spamsift serve``
    (:func:`~spamsift.serving.live.open_live`).
    """
    configure_logging(log_level)
    options = options or MilterOptions(max_size=settings.limits.max_message_bytes)
    spec = socket_spec(host, port)
    live = open_live(data_dir, settings, stores=stores)
    scanner = MilterScanner(live, settings, options)
    SpamsiftMilter.scanner = scanner
    SpamsiftMilter.options = options
    Milter.factory = SpamsiftMilter
    Milter.set_flags(ACTIONS)
    scanner.start()
    try:
        _serve_until_signalled(spec, port, int(options.timeout),
                               lambda: log.info("milter on %s, model %s", spec,
                                                live.holder.current.version))
    finally:
        scanner.stop()
    log.info("milter stopped")


def _serve_until_signalled(spec: str, port: int, timeout: int,
                           listening: Callable[[], None]) -> None:
    """Run libmilter in a thread; SIGINT, SIGTERM or SIGHUP stop it cleanly.

    libmilter's own signal thread only hears signals that every other thread
    blocks, and NumPy's BLAS threads, started at import, do not: so the main thread
    takes them (Python's handlers) and asks libmilter to stop. ``listening`` is
    called once the socket is open.
    """
    stop = threading.Event()
    failed: list[BaseException] = []

    def main() -> None:
        try:
            Milter.runmilter("spamsift", spec, timeout=timeout)
        except BaseException as exc:  # reported by the main thread
            failed.append(exc)
        finally:
            stop.set()

    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    worker = threading.Thread(target=main, name="libmilter")
    try:
        worker.start()
        while not stop.is_set() and not _no_delay(port):
            stop.wait(0.05)
        if not stop.is_set():
            listening()
        while not stop.wait(0.5):  # a timed wait, so the handlers get to run
            pass
        Milter.milter.stop()
        worker.join(timeout=max(timeout, 10))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        exc = failed[0]
        if isinstance(exc, Milter.milter.error):
            raise ConfigError(f"milter socket {spec}: {exc}") from None
        raise exc


def _no_delay(port: int) -> bool:
    """Set TCP_NODELAY on libmilter's listening socket; False until it is open.

    libmilter answers end of message with one small write per header it adds, and
    leaves Nagle's algorithm on: each write after the first waits for the MTA's
    delayed ACK, about 40 ms a message (measured: 52 ms median with one MTA
    connection, against 5 ms to score). Accepted sockets inherit the option from
    the listening one on Linux; libmilter does not expose its socket, so it is found
    among this process's descriptors.
    """
    for name in os.listdir("/proc/self/fd"):
        try:
            sock = socket.socket(fileno=os.dup(int(name)))
        except (OSError, ValueError):
            continue
        with sock:
            try:
                if (sock.type == socket.SOCK_STREAM
                        and sock.family in (socket.AF_INET, socket.AF_INET6)
                        and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                        and sock.getsockname()[1] == port):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    return True
            except OSError:
                continue
    return False
