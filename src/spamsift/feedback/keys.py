"""API keys with scopes, stored hashed.

A key reads ``ss_<id>_<secret>``: ``id`` is 12 hex characters, public (listings
show it, feedback events record it); ``secret`` is 32 random bytes, URL-safe
base64. The key is shown once, at creation; the database keeps its SHA-256.

Why a plain SHA-256 and no slow KDF (bcrypt, scrypt, Argon2): those make each
guess of a *low-entropy* password expensive. A key is 256 random bits; no
number of fast guesses finds it, so a stolen table of hashes gives nothing, and
every request can be checked in microseconds. Hashes are compared with
:func:`hmac.compare_digest`, in constant time.

Scopes: ``classify`` (ask for verdicts), ``read`` (look at what the filter did: the
history of classifications, conflicts, statistics; the dashboard's reader),
``feedback`` (teach and unlearn) and ``admin`` (manage keys and models, prune, read
the audit trail). ``admin`` implies the others: an administrator can do whatever a
key they could create for themselves could. ``feedback`` does not imply ``read``: a
mail client's key that reports spam sees nothing of other people's mail; a person
who teaches from the dashboard gets both. :attr:`KeyInfo.scopes` is the effective
set, so ``"feedback" in info.scopes`` is the whole check; :attr:`KeyInfo.granted` is
what was asked for.
"""

from __future__ import annotations

import builtins
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

from sqlalchemy import Connection, insert, select, update

from spamsift.db.database import Database
from spamsift.db.schema import api_keys
from spamsift.exceptions import InputError, NotFoundError
from spamsift.feedback.scopes import SCOPES, KeyInfo, digest, effective_scopes, parse_scopes

__all__ = ["KeyStore", "KeyInfo", "KeyRecord", "SCOPES", "effective_scopes"]

_KEY = re.compile(r"ss_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")

@dataclass(frozen=True)
class KeyRecord:
    """A key as listed: never its secret, only a prefix to recognise it by."""

    id: str
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


class KeyStore:
    """Create, verify, list and revoke API keys.

    Parameters
    ----------
    database : str or Database
        A database URL, opened here and closed by :meth:`close`, or an open
        :class:`Database` shared with a :class:`FeedbackStore`.
    """

    def __init__(self, database: str | Database, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._owns = not isinstance(database, Database)
        self.db = Database(database) if isinstance(database, str) else database
        self._clock = clock or (lambda: datetime.now(UTC))

    def close(self) -> None:
        """Close the database, if this store opened it."""
        if self._owns:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create(self, scopes: Iterable[str], name: str = "") -> tuple[str, str]:
        """A new key with ``scopes``: returns ``(key_id, key)``; the key is not kept.

        Raises
        ------
        InputError
            No scope, or one that is not in :data:`SCOPES`.
        """
        granted = parse_scopes(scopes)
        if len(name) > 200:
            raise InputError(f"name: expected at most 200 characters, got {len(name)}")

        def tx(conn: Connection) -> tuple[str, str]:
            key_id = secrets.token_hex(6)
            secret = secrets.token_urlsafe(32)
            key = f"ss_{key_id}_{secret}"
            conn.execute(insert(api_keys).values(
                id=key_id, name=name, prefix=f"ss_{key_id}_{secret[:4]}",
                secret_hash=digest(key), scopes=",".join(sorted(granted)),
                created_at=self._clock()))
            return key_id, key

        # An id collision (48 random bits) is a unique violation: try a new id.
        return self.db.run(tx, what="creating an API key", retry_integrity=True)

    def verify(self, key: str) -> KeyInfo | None:
        """The key's identity and scopes, or None if it is malformed, unknown or revoked."""
        m = _KEY.fullmatch(key.strip()) if isinstance(key, str) else None
        if m is None:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == m.group(1))).first()
        if row is None or not hmac.compare_digest(digest(m.group(0)), row.secret_hash):
            return None
        if row.revoked_at is not None:
            return None
        granted = frozenset(row.scopes.split(","))
        return KeyInfo(row.id, row.name, effective_scopes(granted), granted)

    def list(self) -> builtins.list[KeyRecord]:
        """Every key, revoked ones included, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at,
                                                          api_keys.c.id)).all()
        return [KeyRecord(r.id, r.name, r.prefix, frozenset(r.scopes.split(",")),
                          r.created_at, r.revoked_at) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key from now on: True, or False if it was revoked already.

        Raises
        ------
        NotFoundError
            No key has ``key_id``.
        """
        def tx(conn: Connection) -> bool:
            row = conn.execute(select(api_keys.c.revoked_at)
                               .where(api_keys.c.id == key_id)).first()
            if row is None:
                raise NotFoundError(f"no API key with id {key_id!r}")
            if row.revoked_at is not None:
                return False
            conn.execute(update(api_keys).where(api_keys.c.id == key_id)
                         .values(revoked_at=self._clock()))
            return True

        return self.db.run(tx, what="revoking an API key")
