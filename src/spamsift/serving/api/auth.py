"""API keys with scopes, sent as ``Authorization: Bearer KEY``.

Scopes: ``classify``, ``read``, ``feedback``, ``admin`` (admin implies the others).
Read, feedback and admin calls always need a key; classify only with
``classify_requires_key``.

Order of checks on every ``/v1`` call: identify the caller (a key that verifies, or
the client address), spend a rate-limit token for it, then judge the credentials. So
guessing keys from one address is rate limited like anything else from it. One
exception: classify calls from loopback or ``rate_limit_exempt_networks`` (the mail
server) spend no token, whatever key they carry; their credentials are judged all
the same. Feedback and admin calls spend one from every caller.

- a malformed or unknown key: 401, even on a call that needs none (it is a mistake the
  client wants to hear about);
- no key where one is needed: 401 with ``WWW-Authenticate: Bearer``;
- a known key without the scope: 403.

Keys come from a :class:`KeyVerifier`; :class:`InMemoryKeys` serves tests and a server
started without a key store.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from spamsift.exceptions import ConfigError
from spamsift.feedback.scopes import SCOPES, KeyInfo, digest
from spamsift.networks import is_trusted
from spamsift.serving.api.errors import Forbidden, NotAuthenticated, RateLimited
from spamsift.serving.api.state import ApiState, get_state

__all__ = ["SCOPES", "KeyInfo", "KeyVerifier", "InMemoryKeys", "Caller", "require",
           "authorize"]

class KeyVerifier(Protocol):
    """Anything that turns a presented secret into a :class:`KeyInfo`, or ``None`` if
    unknown (the database's KeyStore, :class:`InMemoryKeys`)."""

    def verify(self, secret: str, /) -> KeyInfo | None: ...


class InMemoryKeys:
    """Keys held in memory, by SHA-256 of the secret (the secrets themselves are not kept).

    Example
    -------
    >>> keys = InMemoryKeys()
    >>> secret = keys.add("ops", {"admin"})
    >>> keys.verify(secret).name
    'ops'
    """

    def __init__(self) -> None:
        self._by_digest: dict[str, KeyInfo] = {}
        self._ids = itertools.count(1)

    def add(self, name: str, scopes: Iterable[str], *, secret: str | None = None,
            key_id: str | None = None) -> str:
        """Register a key and return its secret (a new random one unless given)."""
        scopes = frozenset(scopes)
        if not scopes or not scopes <= set(SCOPES):
            raise ConfigError(f"scopes: expected a non-empty subset of {sorted(SCOPES)}, "
                              f"got {sorted(scopes)}")
        secret = secret or secrets.token_urlsafe(32)
        info = KeyInfo.of(key_id or f"mem-{next(self._ids)}", name, scopes)
        self._by_digest[digest(secret)] = info
        return secret

    def verify(self, secret: str) -> KeyInfo | None:
        return self._by_digest.get(digest(secret))


@dataclass(frozen=True)
class Caller:
    """Who made a request: the key (``None`` if anonymous) and the rate-limit bucket."""

    key: KeyInfo | None
    bucket: str

    @property
    def key_id(self) -> str | None:
        return self.key.id if self.key else None


# For OpenAPI ("Authorize" in /docs) only: the header is judged in `authorize`.
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`")


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits callers allowed ``scope`` (see the module docstring)."""
    if scope not in SCOPES:
        raise ValueError(f"scope: expected one of {sorted(SCOPES)}, got {scope!r}")

    async def dependency(request: Request, _: Annotated[HTTPAuthorizationCredentials | None,
                                                        Security(_bearer)]) -> Caller:
        return await authorize(request, scope)

    return dependency


async def authorize(request: Request, scope: str) -> Caller:
    """The caller of ``request`` if allowed ``scope`` (the checks above, in that order);
    what :func:`require`'s dependency runs, and what a route that runs no dependencies
    (:mod:`spamsift.serving.api.direct`) calls itself.

    Raises
    ------
    RateLimited, NotAuthenticated, Forbidden
    """
    state = get_state(request)
    key: KeyInfo | None = None
    problem = None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            problem = f"expected 'Authorization: Bearer KEY', got scheme {scheme[:20]!r}"
        else:
            key = await run_in_threadpool(state.keys.verify, secret)
            if key is None:
                problem = "unknown API key"
    address = request.client.host if request.client else "unknown"
    bucket = f"key:{key.id}" if key else f"ip:{address}"
    wait = state.limiter.take(bucket) if _limited(state, scope, address) else 0.0
    if wait > 0:
        state.metrics.rate_limited.inc()
        raise RateLimited(f"over the rate limit of {state.limiter.per_minute:g} requests "
                          f"a minute (bursts of {state.limiter.burst}); retry in "
                          f"{wait:.1f} s", wait)
    if problem:
        raise NotAuthenticated(problem)
    if scope != "classify" or state.settings.classify_requires_key:
        if key is None:
            raise NotAuthenticated(f"this call needs an API key with the {scope!r} scope: "
                                   "send 'Authorization: Bearer KEY'")
        if not key.allows(scope):
            raise Forbidden(f"API key {key.name!r} has scopes {sorted(key.scopes)}; this "
                            f"call needs {scope!r}")
    return Caller(key, bucket)


def _limited(state: ApiState, scope: str, address: str) -> bool:
    # A mail server scores every message it receives: a limit on it holds up mail
    # (past 10 messages a second at the default 600 a minute), and it is trusted by
    # where it is. Teaching the model and changing versions are limited everywhere.
    return scope != "classify" or not is_trusted(address,
                                                 state.settings.rate_limit_exempt_networks)
