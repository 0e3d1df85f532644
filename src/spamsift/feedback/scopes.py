"""What an API key may do: its scopes, what each implies, and how a secret is hashed.

One model for every holder of keys: the database's :class:`~spamsift.feedback.keys.KeyStore`
and the in-memory keys a server holds without one
(:class:`~spamsift.serving.api.auth.InMemoryKeys`). Scopes are described in
:mod:`spamsift.feedback.keys`; ``admin`` implies the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from spamsift.exceptions import InputError

__all__ = ["SCOPES", "KeyInfo", "effective_scopes", "parse_scopes", "digest"]

SCOPES = ("classify", "read", "feedback", "admin")
_IMPLIED = {"admin": frozenset(SCOPES)}


def effective_scopes(granted: Iterable[str]) -> frozenset[str]:
    """``granted`` with what each scope implies (``admin`` → every scope)."""
    out: set[str] = set()
    for s in granted:
        out |= _IMPLIED.get(s, frozenset({s}))
    return frozenset(out)


def parse_scopes(scopes: Iterable[str]) -> frozenset[str]:
    if isinstance(scopes, str):  # "feedback" would otherwise be read letter by letter
        scopes = [scopes]
    got = frozenset(s.strip().lower() for s in scopes)
    unknown = sorted(got - set(SCOPES))
    if unknown or not got:
        raise InputError(f"scope: expected one or more of {', '.join(SCOPES)}, "
                         f"got {', '.join(unknown) if unknown else 'none'}")
    return got


def digest(secret: str) -> str:
    """SHA-256 of a presented secret, hex: what is stored and looked up. Any string
    hashes (a presented secret need not be a well-formed key)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    """Who a verified key is: its id, name and effective scopes."""

    id: str
    name: str
    scopes: frozenset[str]
    granted: frozenset[str]

    @classmethod
    def of(cls, key_id: str, name: str, granted: Iterable[str]) -> KeyInfo:
        granted = frozenset(granted)
        return cls(key_id, name, effective_scopes(granted), granted)

    def allows(self, scope: str) -> bool:
        """Whether this key may make a call needing ``scope``."""
        return scope in self.scopes
