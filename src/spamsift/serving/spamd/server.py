"""``spamsift spamd``: the spamd protocol over TCP, on the live service of a data folder.

One asyncio loop reads requests; scoring and learning run in a thread pool, the
messages waiting to be scored in batches (:mod:`~spamsift.serving.spamd.batches`),
so a slow message holds up only the few that share its batch. Each connection carries one request,
as with spamd. Limits, each answered in the protocol's terms:

- ``timeout`` seconds to send the whole request (EX_TIMEOUT after that);
- ``max_size`` bytes per message, as sent and once inflated (EX_TOOBIG; spamc
  itself never sends what is over its own ``-s`` limit);
- ``max_connections`` requests in progress at once; more wait to be read.

``TELL`` learns and forgets through the same feedback store as the REST API, as
the request's ``User`` (``spamd`` when there is none), with source ``spamd``. As
with SpamAssassin's spamd, it is off unless the daemon was started with
``--allow-tell`` (EX_NOPERM), and then taken only from loopback, a Unix socket, and
the ``--allowed-ips`` networks: whoever can reach the port could otherwise teach
the model that their spam is ham.

A version activated in the registry (``spamsift models activate``, or through the
REST API) is served within ``settings.model_poll_seconds``; feedback given through
any other process on the same store within ``settings.feedback_poll_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from spamsift.config import MAX_MESSAGE_BYTES, Settings
from spamsift.exceptions import ConfigError, InputError, StoreError
from spamsift.networks import IPNetwork, is_trusted, parse_networks
from spamsift.parse.extract.ocr import warm_up
from spamsift.serving.batching import Batcher
from spamsift.serving.live import (
    Live,
    StoresFactory,
    configure_logging,
    open_live,
)
from spamsift.serving.mailclients import tell
from spamsift.serving.markup import (
    Scan,
    header_lines,
    headers_only,
    mark,
    scan_of,
)
from spamsift.serving.model_holder import LoadedModel, follow_registry
from spamsift.serving.service import Item, SpamService
from spamsift.serving.spamd import protocol as p

__all__ = ["SpamdOptions", "SpamdServer", "run", "DEFAULT_PORT"]

log = logging.getLogger("spamsift.spamd")

DEFAULT_PORT = 783
_LINE_LIMIT = 8192  # spamc's own buffer for one header line
_DRAIN_BYTES = 64 * 1024 * 1024  # read and dropped after an error, at most


@dataclass(frozen=True)
class SpamdOptions:
    """How the daemon treats clients.

    Attributes
    ----------
    max_size : int
        Largest message in bytes (after inflating); larger is EX_TOOBIG.
    timeout : float
        Seconds a client has to send its whole request.
    allow_tell : bool
        Whether TELL (learn, forget) is taken at all; off by default, as in
        SpamAssassin.
    allowed_ips : tuple of networks
        Besides loopback and Unix sockets, the clients TELL is taken from when
        ``allow_tell`` is on (strings are parsed by
        :func:`~spamsift.networks.parse_networks`).
    max_connections : int
        Requests handled at once.
    threads : int
        Scoring and learning threads; as many batches of messages are scored at
        once (:mod:`~spamsift.serving.spamd.batches`), so with 2 or more a slow
        message does not hold up the daemon.
    max_batch : int
        Messages scored in one call, at most.
    """

    max_size: int = MAX_MESSAGE_BYTES
    timeout: float = 30.0
    allow_tell: bool = False
    allowed_ips: tuple[IPNetwork, ...] = ()
    max_connections: int = 64
    threads: int = 2
    max_batch: int = 32

    def __post_init__(self) -> None:
        for name in ("max_size", "max_connections", "threads", "max_batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected 1 or more, got {getattr(self, name)}")
        if not self.timeout > 0:
            raise ConfigError(f"timeout: expected seconds above 0, got {self.timeout}")
        object.__setattr__(self, "allowed_ips",
                           parse_networks(self.allowed_ips, name="allowed_ips"))
        if self.allowed_ips and not self.allow_tell:
            # Unlike SpamAssassin's, the list admits no one to scanning (every client
            # that reaches the port may scan): alone it would silently do nothing.
            raise ConfigError("allowed_ips (--allowed-ips) names who may TELL, but TELL is "
                              "off: expected allow_tell (--allow-tell) with it")

    def may_tell(self, peer: Any) -> bool:
        """Whether a client at ``peer`` (a socket's peer name) may TELL.

        >>> SpamdOptions(allow_tell=True, allowed_ips=("10.0.0.0/8",)).may_tell(
        ...     ("10.1.2.3", 40000))
        True
        """
        if not self.allow_tell:
            return False
        if isinstance(peer, str):
            return True  # a Unix socket's peer is a path (or ''): the machine itself
        host = peer[0] if isinstance(peer, tuple) and peer else None
        return is_trusted(host, self.allowed_ips)


class SpamdServer:
    """The spamd protocol on top of a :class:`~spamsift.serving.live.Live` service.

    Example
    -------
    >>> server = SpamdServer(open_live(data_dir, settings), settings)   # doctest: +SKIP
    >>> asyncio.run(server.serve("127.0.0.1", 783))                     # doctest: +SKIP
    """

    def __init__(self, live: Live, settings: Settings,
                 options: SpamdOptions | None = None) -> None:
        self.live = live
        self.settings = settings
        self.options = options or SpamdOptions(max_size=settings.limits.max_message_bytes)
        # The classify path every door shares (spamsift.serving.service); spamd's
        # answers cite no classification id, so it records none.
        self.service = SpamService(live.holder, top_clues=settings.top_clues,
                                   sandbox=live.sandbox, auth=live.auth)
        self.pool = ThreadPoolExecutor(self.options.threads, thread_name_prefix="spamd")
        self.batcher: Batcher[Scan] = Batcher(
            self.scan_many, pool=self.pool, slots=self.options.threads,
            max_batch=self.options.max_batch, key=lambda job: id(job[0]))
        self.requests = 0
        self.errors = 0
        self._slots: asyncio.Semaphore | None = None
        self._poller: asyncio.Task[None] | None = None

    # -- running ---------------------------------------------------------------

    async def start(self, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0: any free one) and follow the registry.

        Returns the asyncio server; :meth:`stop` ends the rest.
        """
        self._slots = asyncio.Semaphore(self.options.max_connections)
        try:
            server = await asyncio.start_server(self.handle, host, port, limit=_LINE_LIMIT,
                                                reuse_address=True)
        except OSError as e:  # in use, a port below 1024 without the right, no such address
            raise ConfigError(f"spamd cannot listen on {host}:{port}: "
                              f"{e.strerror or e}") from None
        self._poller = asyncio.create_task(
            follow_registry(self.live.holder, self.settings.model_poll_seconds))
        self.live.start()  # follow the feedback other processes give
        warm_up(self.settings.limits.images.ocr)
        return server

    async def stop(self) -> None:
        """Stop following the registry and the store; let the scoring threads finish."""
        await asyncio.get_running_loop().run_in_executor(None, self.live.stop)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.pool.shutdown(wait=True, cancel_futures=True))
        await asyncio.get_running_loop().run_in_executor(None, self.service.close)

    async def serve(self, host: str, port: int, stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set (forever without one)."""
        server = await self.start(host, port)
        addr = ", ".join(f"{s.getsockname()[0]}:{s.getsockname()[1]}" for s in server.sockets)
        log.info("spamd protocol on %s, model %s", addr, self.live.holder.current.version)
        try:
            async with server:
                if stop is None:
                    await server.serve_forever()
                else:
                    await stop.wait()
        finally:
            await self.stop()

    # -- one connection ------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request, answer it, close."""
        assert self._slots is not None, "start() first"
        peer = writer.get_extra_info("peername")
        async with self._slots:
            started = time.monotonic()
            try:
                try:
                    async with asyncio.timeout(self.options.timeout):
                        req, raw = await self._read(reader, peer)
                except TimeoutError:
                    raise p.SpamdError(p.Ex.EX_TIMEOUT, f"({self.options.timeout:g} second "
                                       "socket timeout reading input from client)") from None
                self.requests += 1
                answer = await self._answer(req, raw)
                if answer:
                    writer.write(answer)
                    await writer.drain()
                if req.has_body:
                    log.info("%s for %s in %.3f s, %d bytes", req.method, req.user or "-",
                             time.monotonic() - started, len(raw))
            except p.SpamdError as exc:
                self.errors += 1
                log.warning("%s from %s: %s", exc.code.name, _peer(peer), exc)
                await self._refuse(reader, writer, exc)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                self.errors += 1
                log.warning("client %s went away: %s", _peer(peer), exc or type(exc).__name__)
            except Exception:  # one bad request must not take the daemon down
                self.errors += 1
                log.exception("request from %s failed", _peer(peer))
                await self._refuse(reader, writer, p.SpamdError(
                    p.Ex.EX_SOFTWARE, "(internal error; see the server's log)"))
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader, peer: Any) -> tuple[p.Request, bytes]:
        req = p.parse_request_line(await _line(reader, "request line"))
        if req.has_headers:
            lines = []
            while (line := await _line(reader, "headers")) not in (b"\r\n", b"\n"):
                lines.append(line)
                if len(lines) > p.MAX_HEADERS:
                    break  # parse_headers refuses it
            req = p.parse_headers(req, lines)
        if req.method == "TELL":
            self._check_tell_allowed(peer)  # before reading a message we will not use
        if not req.has_body:
            return req, b""
        limit = self.options.max_size
        n = req.content_length
        if n is not None:
            # Compressed or not: zlib does not make a message much smaller than it
            # can make it bigger, so a compressed body over the limit is refused too.
            if n > limit:
                raise p.SpamdError(p.Ex.EX_TOOBIG, f"(Content-length {n} is over this "
                                   f"server's limit of {limit} bytes)")
            try:
                data = await reader.readexactly(n)
            except asyncio.IncompleteReadError as exc:
                raise p.SpamdError(p.Ex.EX_PROTOCOL, f"(Content-Length mismatch: expected {n} "
                                   f"bytes, got {len(exc.partial)} bytes)") from None
        else:
            data = await reader.read(limit + 1)
            while len(data) <= limit and (more := await reader.read(limit + 1 - len(data))):
                data += more
            if len(data) > limit:
                raise p.SpamdError(p.Ex.EX_TOOBIG, f"(message over this server's limit of "
                                   f"{limit} bytes)")
        return req, p.inflate(data, limit) if req.compress else data

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      exc: p.SpamdError) -> None:
        """Send the error line, then read (and drop) what the client is still sending.

        spamc writes its whole request before it reads: closing on unread data
        would reset the connection and lose the answer. The reading is bounded by
        bytes and time.
        """
        with contextlib.suppress(Exception):
            writer.write(p.error_response(exc.code, str(exc)))
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            left = _DRAIN_BYTES
            async with asyncio.timeout(min(self.options.timeout, 10.0)):
                while left > 0 and (chunk := await reader.read(min(left, 65536))):
                    left -= len(chunk)

    async def _answer(self, req: p.Request, raw: bytes) -> bytes:
        if req.method == "PING":
            return p.pong_response()
        if req.method == "SKIP":
            return b""
        loop = asyncio.get_running_loop()
        if req.method == "TELL":
            did_set, did_remove = await loop.run_in_executor(self.pool, self._tell, req, raw)
            return p.tell_response(did_set, did_remove)
        # Parsed with the served model's limits (a large message in the sandbox) and
        # authenticated (DNS) off the scoring pool: that time is the message's own.
        loaded = self.service.holder.current
        item = await self.service.prepare_async(raw, loaded)
        scan = await self.batcher.submit((loaded, raw, item))
        if req.method in ("PROCESS", "HEADERS"):
            marked, head_len = mark(raw, header_lines(scan))
            out = headers_only(marked, head_len) if req.method == "HEADERS" else marked
            return p.process_response(req, scan, out)
        return p.check_response(req, scan)

    # -- the service calls (in the pool) ---------------------------------------------

    def scan_many(self, jobs: list[tuple[LoadedModel, bytes, Item]]) -> list[Scan]:
        """Classify a batch of ``(model taken, raw message, what prepare made of it)``,
        all taken with one model, in one call."""
        loaded = jobs[0][0]
        scored = self.service.classify_many(loaded, [raw for _, raw, _ in jobs],
                                            [item for _, _, item in jobs])
        return [scan_of(v, loaded.model.spam_cutoff, loaded.version) for v, _ in scored]

    def _tell(self, req: p.Request, raw: bytes) -> tuple[list[str], list[str]]:
        feedback = self.live.feedback
        assert feedback is not None  # checked before the message was read
        user = req.user or "spamd"
        did_set: list[str] = []
        did_remove: list[str] = []
        try:
            # tell() learns the message that was scanned (our markup out), not our verdict.
            if req.set_local and tell(feedback, raw, str(req.message_class), user=user,
                                      source="spamd").changed:
                did_set.append("local")
            if req.remove_local and tell(feedback, raw, "forget", user=user,
                                         source="spamd").changed:
                did_remove.append("local")
        except StoreError as exc:
            raise p.SpamdError(p.Ex.EX_UNAVAILABLE, f"(feedback store: {exc})") from None
        except InputError as exc:
            raise p.SpamdError(p.Ex.EX_DATAERR, f"({exc})") from None
        # Set/Remove: remote (collaborative reporting networks) is not ours to do,
        # so it is never in DidSet/DidRemove and spamc says it could not report.
        return did_set, did_remove

    def _check_tell_allowed(self, peer: Any) -> None:
        # Who asks comes first: a client that may not TELL learns nothing of the setup.
        if not self.options.allow_tell:
            raise p.SpamdError(p.Ex.EX_NOPERM, "(TELL commands are not enabled: start the "
                               "server with --allow-tell)")
        if not self.options.may_tell(peer):
            raise p.SpamdError(p.Ex.EX_NOPERM, f"(TELL is not allowed from {_peer(peer)}: "
                               "only from loopback and the --allowed-ips networks)")
        if self.live.feedback is None:
            raise p.SpamdError(p.Ex.EX_UNAVAILABLE, "(TELL needs a feedback store, and this "
                               "server has none)")


async def _line(reader: asyncio.StreamReader, what: str) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        raise p.SpamdError(p.Ex.EX_PROTOCOL, f"({what}: a line over {_LINE_LIMIT} "
                           "bytes)") from None
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise p.SpamdError(p.Ex.EX_PROTOCOL, f"(EOF during {what})") from None
        raise p.SpamdError(p.Ex.EX_PROTOCOL, f"(closed before {what})") from None
    return line


def _peer(peer: Any) -> str:
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)


def run(host: str, port: int, data_dir: str | os.PathLike[str], settings: Settings, *,
        options: SpamdOptions | None = None, stores: StoresFactory | None = None,
        log_level: str = "info") -> None:
    """Serve the spamd protocol on ``data_dir`` until SIGINT or SIGTERM.

    ``data_dir`` is a data folder as for ``spamsift serve``
    (:func:`~spamsift.serving.live.open_live`); ``stores`` opens its feedback store.
    """
    configure_logging(log_level)
    live = open_live(data_dir, settings, stores=stores)
    server = SpamdServer(live, settings, options)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.serve(host, port, stop)

    asyncio.run(main())
