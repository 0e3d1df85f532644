"""Prometheus metrics, one registry per app (so tests and apps never share counters).

``GET /metrics`` needs no key: scrapers rarely carry one, and nothing in it names a
message or a caller. With several workers each process answers for itself.

Series::

    spamsift_http_requests_total{method,route,status}     route: the path template
    spamsift_http_request_duration_seconds{method,route}  histogram
    spamsift_verdicts_total{verdict}
    spamsift_score                                        histogram of spam probabilities
    spamsift_feedback_total{label,outcome}                recorded | duplicate | conflict
    spamsift_feedback_retractions_total{retracted}
    spamsift_rate_limited_total
    spamsift_model_info{version}                          1 for the version being served
    spamsift_model_loads_total                            models swapped in since start
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spamsift.models.spam_model import Verdict
from spamsift.serving.api.state import get_state
from spamsift.serving.api.stats import CLASSIFY_ROUTES, MinuteStats
from spamsift.serving.model_holder import ModelHolder

__all__ = ["ApiMetrics", "MetricsMiddleware", "router"]

router = APIRouter(tags=["health"])

# Spam probabilities crowd near 0 and 1; the cut-offs usually sit in the last bins.
_SCORE_BUCKETS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999,
                  1.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiMetrics:
    """The app's collectors, in their own :class:`CollectorRegistry`, and the last
    hour a minute at a time for the dashboard (:class:`MinuteStats`)."""

    def __init__(self, holder: ModelHolder) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("spamsift_http_requests", "HTTP requests answered.",
                                ("method", "route", "status"), registry=r)
        self.latency = Histogram("spamsift_http_request_duration_seconds",
                                 "Time to answer an HTTP request.", ("method", "route"),
                                 registry=r)
        self.verdicts = Counter("spamsift_verdicts", "Messages classified, by verdict.",
                                ("verdict",), registry=r)
        self.scores = Histogram("spamsift_score", "Spam probability of classified messages.",
                                buckets=_SCORE_BUCKETS, registry=r)
        self.feedback = Counter("spamsift_feedback", "Feedback events received.",
                                ("label", "outcome"), registry=r)
        self.retractions = Counter("spamsift_feedback_retractions",
                                   "Feedback retraction requests.", ("retracted",), registry=r)
        self.rate_limited = Counter("spamsift_rate_limited",
                                    "Requests refused by the rate limit.", registry=r)
        r.register(_ModelCollector(holder))
        self.minutes = MinuteStats()

    def observe_verdict(self, v: Verdict) -> None:
        """Count a classification (the service's ``observe``)."""
        self.verdicts.labels(v.verdict).inc()
        self.scores.observe(v.score)
        self.minutes.verdict(v.verdict)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ModelCollector(Collector):
    """Reads the holder at scrape time, so the version shown is the one serving."""

    def __init__(self, holder: ModelHolder) -> None:
        self.holder = holder

    def collect(self) -> Iterator[Metric]:
        info = InfoMetricFamily("spamsift_model", "The model version being served.",
                                labels=())
        if self.holder.ready:
            info.add_metric([], {"version": self.holder.current.version})
        yield info
        yield CounterMetricFamily("spamsift_model_loads", "Models swapped in since start.",
                                  value=self.holder.loads)


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by its route's path template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # Unmatched paths share one label: their number is up to the clients.
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            took = time.perf_counter() - start
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(took)
            if route in CLASSIFY_ROUTES:
                self.metrics.minutes.latency(took)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(get_state(request).metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
