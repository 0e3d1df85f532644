"""``GET /v1/stats`` (read scope): the last hour of this process, a row a minute.

Prometheus (``/metrics``) keeps counters since start, which a scraper turns into
rates; a person opening the dashboard has no scraper. So the process also keeps,
for each of the last 60 minutes, the messages it classified by verdict and the time
its classify requests took (median and 95th percentile of a sample of at most 512 a
minute), in memory. With several workers each answers for itself, as for
``/metrics``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from spamsift.serving.api.auth import Caller, require
from spamsift.serving.api.errors import error_responses
from spamsift.serving.api.schemas import StatsMinute, StatsResponse, StoreCounts
from spamsift.serving.api.state import get_state

__all__ = ["MinuteStats", "router", "CLASSIFY_ROUTES"]

router = APIRouter(prefix="/v1", tags=["dashboard"])

ReadCaller = Annotated[Caller, Depends(require("read"))]

# The requests whose time is charted: scoring mail, not the dashboard's own calls.
CLASSIFY_ROUTES = frozenset({"/v1/classify", "/v1/classify/batch"})
_VERDICTS = ("ham", "unsure", "spam")


@dataclass
class _Minute:
    verdicts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_VERDICTS, 0))
    requests: int = 0
    latencies: list[float] = field(default_factory=list)


class MinuteStats:
    """Per-minute counts of verdicts and classify latencies, for the last ``window`` minutes.

    Thread-safe: verdicts are counted on the scoring threads, latencies on the event
    loop.

    Example
    -------
    >>> stats = MinuteStats(clock=lambda: 600.0)
    >>> stats.verdict("spam"); stats.latency(0.004)
    >>> row = stats.minutes()[-1]
    >>> row["spam"], row["requests"], row["latency_ms_p50"]
    (1, 1, 4.0)
    """

    def __init__(self, window: int = 60, samples: int = 512,
                 clock: Callable[[], float] = time.time) -> None:
        self.window = window
        self.samples = samples
        self.clock = clock
        self.started_at = datetime.fromtimestamp(clock(), UTC)
        self.totals = dict.fromkeys(_VERDICTS, 0)
        self._minutes: OrderedDict[int, _Minute] = OrderedDict()
        self._lock = threading.Lock()
        self._random = random.Random(0)

    def _current(self) -> _Minute:
        now = int(self.clock() // 60)
        minute = self._minutes.get(now)
        if minute is None:
            minute = self._minutes[now] = _Minute()
            while next(iter(self._minutes)) <= now - self.window:
                self._minutes.popitem(last=False)
        return minute

    def verdict(self, verdict: str) -> None:
        with self._lock:
            self._current().verdicts[verdict] += 1
            self.totals[verdict] += 1

    def latency(self, seconds: float) -> None:
        with self._lock:
            minute = self._current()
            minute.requests += 1
            # Reservoir sampling: every request of the minute equally likely kept.
            if len(minute.latencies) < self.samples:
                minute.latencies.append(seconds)
            else:
                j = self._random.randrange(minute.requests)
                if j < self.samples:
                    minute.latencies[j] = seconds

    def minutes(self) -> list[dict[str, Any]]:
        """The last ``window`` minutes, oldest first, empty ones included."""
        now = int(self.clock() // 60)
        with self._lock:
            kept = {k: (dict(m.verdicts), m.requests, sorted(m.latencies))
                    for k, m in self._minutes.items()}
        out = []
        for k in range(now - self.window + 1, now + 1):
            verdicts, requests, lat = kept.get(k, (dict.fromkeys(_VERDICTS, 0), 0, []))
            out.append({"start": datetime.fromtimestamp(k * 60, UTC), **verdicts,
                        "requests": requests, "latency_ms_p50": _quantile(lat, 0.5),
                        "latency_ms_p95": _quantile(lat, 0.95)})
        return out


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return round(sorted_values[i] * 1000, 3)


@router.get("/stats", summary="This server's last hour: messages, verdicts, latency",
            responses=error_responses(401, 403, 429))
async def stats(request: Request, caller: ReadCaller) -> StatsResponse:
    """Messages a minute by verdict and classify latency, from this process's own counts."""
    state = get_state(request)
    minutes = state.metrics.minutes
    counts = None
    store = state.feedback
    if store is not None and hasattr(store, "counts"):
        c = await run_in_threadpool(store.counts)
        counts = StoreCounts(classifications=c.classifications, events=c.events, spam=c.spam,
                             ham=c.ham, conflicts=c.conflicts)
    return StatsResponse(started_at=minutes.started_at,
                         model_version=state.holder.current.version,
                         totals=dict(minutes.totals),
                         minutes=[StatsMinute(**m) for m in minutes.minutes()],
                         history_days=state.settings.history_days, store=counts)
