"""How long classifications are kept: ``history_days``, purged by the running server.

The REST server records every classification (its verdict, sender, subject and
clues, and the message while nothing else refers to it) so feedback can name it and
the dashboard list it. :func:`purge_history` deletes those older than
``history_days`` when the server starts and every hour after
(:meth:`~spamsift.feedback.FeedbackStore.prune_classifications`); feedback events
and the messages they name are never purged: they are the training data and the
audit trail. With several workers or replicas each purges; a second purge of the
same rows finds nothing left.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool

__all__ = ["purge_history", "PURGE_EVERY_SECONDS"]

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 3600.0


async def purge_history(store: Any, days: float, every: float = PURGE_EVERY_SECONDS) -> None:
    """Purge classifications older than ``days``, now and every ``every`` seconds.

    Runs until cancelled; a failed purge (the database down) is logged and tried again
    at the next turn.
    """
    while True:
        try:
            result = await run_in_threadpool(store.prune_classifications,
                                             timedelta(days=days))
            if result.classifications or result.messages:
                log.info("history: purged %d classifications older than %g days and %d "
                         "messages nothing else refers to", result.classifications, days,
                         result.messages)
        except Exception:
            log.exception("history: purging classifications older than %g days failed", days)
        await asyncio.sleep(every)
