"""Request bodies: the size cap, messages in base64, and what counts as a message.

The cap is enforced while the body arrives, before any route runs: a declared
``Content-Length`` over it is refused unread, and a chunked body is refused as soon as
the bytes read pass it, so a 1 GB upload costs at most ``max_request_bytes`` of memory.

What is "not a message at all" (400): an empty body, or one of only whitespace. Any
other bytes get a verdict: the parser never fails, and scores random bytes on what
it can read, flagged (``missing:from``, ``charset:latin1``, ...). Refusing them would
let a spammer probe for inputs that skip the filter.
"""

from __future__ import annotations

import base64
import binascii

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spamsift.exceptions import InputError, MessageError
from spamsift.serving.api.errors import BodyTooLarge, error_response

__all__ = ["BodyLimitMiddleware", "decode_b64", "require_message"]


def require_message(raw: bytes, where: str = "body") -> bytes:
    """``raw`` unchanged, or :class:`MessageError` if it is empty or only whitespace."""
    if not raw.strip():
        what = "an empty body" if not raw else f"{len(raw)} bytes of whitespace only"
        raise MessageError(f"{where}: expected an RFC 822 message, got {what}")
    return raw


def decode_b64(value: str, where: str) -> bytes:
    """Decode standard base64; line breaks and spaces (as MIME wraps it) are allowed.

    Raises
    ------
    InputError
        Not base64.
    MessageError
        Base64 of nothing (or whitespace).
    """
    compact = "".join(value.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{where}: expected standard base64 (A-Z a-z 0-9 + / =), "
                         f"got {compact[:20]!r}{'...' if len(compact) > 20 else ''}: {exc}"
                         ) from exc
    return require_message(raw, where)


class BodyLimitMiddleware:
    """Read each request body up to ``max_bytes``; past that answer 413 unread."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(f"request body of {declared} bytes is over the limit "
                               f"of {self.max_bytes} bytes", scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(f"request body is over the limit of {self.max_bytes} "
                                   "bytes", scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, message: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(BodyTooLarge(message))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
