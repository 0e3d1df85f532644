"""Waiting for PostgreSQL notifications, with a plain timed wait as the fallback.

A follower polls the store every few tenths of a second; on PostgreSQL a writer
also ``NOTIFY``s on commit (:data:`~spamsift.feedback.store.CHANGES_CHANNEL`), and
:class:`Notifications` wakes the follower at once. The poll stays as the backstop:
a notification sent while the listening connection was being re-opened is lost,
the next poll is not. On SQLite (no notifications) :meth:`Notifications.wait` is a
timed wait on the stop event.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Self

__all__ = ["Notifications"]

log = logging.getLogger(__name__)
_SLICE = 0.5  # seconds: how soon a wait notices the stop event


class Notifications:
    """``LISTEN`` on ``channels`` of the store's PostgreSQL database, if it is one.

    Parameters
    ----------
    store : object
        Anything with a ``db`` (:class:`~spamsift.db.database.Database`); others
        only wait.
    stop : threading.Event
        Set to end a wait early.
    channels : tuple of str
        Default: the label-change channel.
    """

    def __init__(self, store: Any, stop: threading.Event,
                 channels: tuple[str, ...] | None = None) -> None:
        from spamsift.feedback.store import CHANGES_CHANNEL

        db = getattr(store, "db", None)
        self._url = None
        if db is not None and getattr(db, "backend", None) == "postgresql":
            self._url = db.engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False)
        self._channels = channels or (CHANGES_CHANNEL,)
        self._stop = stop
        self._conn: Any = None

    def __enter__(self) -> Self:
        # Listening before the caller's first read: a change committed after that
        # read is then always notified.
        self._listening()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a notification (True) or the stop event."""
        conn = self._listening()
        if conn is None:
            self._stop.wait(timeout)
            return False
        try:
            got = False
            deadline = time.monotonic() + timeout
            # In slices, so that setting the stop event ends a long wait soon.
            while not got and not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for _ in conn.notifies(timeout=min(left, _SLICE), stop_after=1):
                    got = True
            # Several changes committed at once are one wake-up, not one each.
            for _ in conn.notifies(timeout=0.0):
                pass
            return got
        except Exception as exc:  # the server went away: poll until it is back
            log.warning("lost the PostgreSQL notification connection: %s", exc)
            self._close()
            self._stop.wait(timeout)
            return False

    def _listening(self) -> Any:
        if self._url is None:
            return None
        if self._conn is None:
            import psycopg

            try:
                conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
                for channel in self._channels:
                    conn.execute(f'LISTEN "{channel}"')
                self._conn = conn
            except psycopg.Error as exc:
                log.warning("cannot LISTEN for store notifications (polling only): %s", exc)
                return None
        return self._conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection: nothing left to do
                pass
