"""Talking to a :class:`SpamdServer` run in this process, over loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator

from spamsift.serving.spamd.server import SpamdServer

__all__ = ["running", "exchange", "request", "read_all"]


@contextlib.contextmanager
def running(server: SpamdServer) -> Iterator[int]:
    """``server`` on a free loopback port, in a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    listening = asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(10)
    try:
        yield listening.sockets[0].getsockname()[1]
    finally:
        async def stop() -> None:
            listening.close()
            await listening.wait_closed()
            await server.stop()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def exchange(port: int, data: bytes, *, shut: bool = True, timeout: float = 20) -> bytes:
    """Send ``data`` (then end our side), read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        return read_all(s)


def read_all(s: socket.socket) -> bytes:
    chunks = []
    while chunk := s.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def request(method: str, body: bytes = b"", *headers: str, version: str = "1.5") -> bytes:
    head = [f"{method} SPAMC/{version}", f"Content-length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body
