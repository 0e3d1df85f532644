"""The FastAPI application: routers, middleware, error handlers, the model poller.

Layers a request passes, outside in: security headers (on every answer) → metrics
(count, time) → body cap (413 before anything reads a byte too many) → error handlers
(one JSON shape) → routes. OpenAPI at ``/openapi.json``, its browsable form at
``/docs``; the dashboard at ``/`` (:mod:`spamsift.serving.dashboard`). Beside the
model poller, the lifespan runs the history's purge
(:mod:`spamsift.serving.retention`) when there is a feedback store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from spamsift import __version__
from spamsift.config import Settings
from spamsift.mailauth import Authenticator
from spamsift.parse.extract.ocr import warm_up
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving import dashboard
from spamsift.serving.api import classify, health, history, models, stats, votes
from spamsift.serving.api import feedback as feedback_api
from spamsift.serving.api import metrics as metrics_api
from spamsift.serving.api.auth import KeyVerifier
from spamsift.serving.api.batching import ScoreBatcher
from spamsift.serving.api.body import BodyLimitMiddleware
from spamsift.serving.api.errors import install_error_handlers
from spamsift.serving.api.headers import SecurityHeadersMiddleware
from spamsift.serving.api.metrics import ApiMetrics, MetricsMiddleware
from spamsift.serving.api.ratelimit import RateLimiter
from spamsift.serving.api.state import ApiState, FeedbackStore
from spamsift.serving.model_holder import ModelHolder, follow_registry
from spamsift.serving.recorder import ClassificationRecorder
from spamsift.serving.retention import purge_history
from spamsift.serving.service import SpamService

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_DESCRIPTION = """\
Classify raw RFC 822 mail as ham, unsure or spam, with the score, the cut-offs, the
model version and the clues behind it; report mistakes; roll model versions forward
and back.

Authenticate with `Authorization: Bearer KEY`. Scopes: `classify`, `read` (the
history, conflicts and statistics: the dashboard at `/`), `feedback`, `admin` (admin
implies the others). Errors are JSON: `{"error": code, "message": text}`.
"""


def create_app(holder: ModelHolder, *, keys: KeyVerifier, settings: Settings,
               feedback: FeedbackStore | None = None,
               sandbox: ParseSandbox | None = None,
               auth: Authenticator | None = None) -> FastAPI:
    """Build the REST API around a model holder.

    Parameters
    ----------
    holder : ModelHolder
        The model to serve; with a registry, versions can be listed and activated.
    keys : KeyVerifier
        Turns presented API keys into :class:`~spamsift.serving.api.auth.KeyInfo`.
    settings : Settings
        ``classify_requires_key``, ``max_request_bytes``, ``max_batch_messages``,
        ``rate_limit_per_minute``, ``rate_limit_burst``, ``rate_limit_exempt_networks``,
        ``model_poll_seconds``, ``top_clues``, ``history_days``.
    feedback : FeedbackStore, optional
        Where feedback and classifications are recorded; without it the feedback
        routes answer 503 and classifications carry no id.
    sandbox : ParseSandbox, optional
        Where large messages are parsed (:mod:`spamsift.parse.sandbox`); by default
        one built from the ``sandbox_*`` settings.
    auth : Authenticator, optional
        Fills each message's authentication results (:mod:`spamsift.mailauth`); by
        default one built from the settings, verifying unless ``auth_verify`` is
        ``never``.

    Example
    -------
    >>> app = create_app(ModelHolder.fixed(model), keys=InMemoryKeys(),
    ...                  settings=load_settings())                      # doctest: +SKIP
    """
    metrics = ApiMetrics(holder)
    sandbox = sandbox or ParseSandbox.from_settings(settings)
    auth = auth or Authenticator.from_settings(settings, door=True)
    state = ApiState(holder=holder, keys=keys, settings=settings, feedback=feedback,
                     limiter=RateLimiter(settings.rate_limit_per_minute,
                                         settings.rate_limit_burst),
                     metrics=metrics, sandbox=sandbox)
    if feedback is not None:
        state.recorder = ClassificationRecorder(feedback)
    state.service = SpamService(holder, top_clues=settings.top_clues, sandbox=sandbox,
                                auth=auth, recorder=state.recorder,
                                observe=metrics.observe_verdict)
    state.batcher = ScoreBatcher(state.service.classify_many,
                                 prepare=state.service.prepare_async)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_up(settings.limits.images.ocr)
        poller = asyncio.create_task(follow_registry(holder, settings.model_poll_seconds))
        tasks = [poller]
        if feedback is not None and settings.history_days > 0 \
                and hasattr(feedback, "prune_classifications"):
            tasks.append(asyncio.create_task(purge_history(feedback, settings.history_days)))
        # Other processes' feedback on the same store (spamsift.serving.live).
        follower = getattr(feedback, "follower", None)
        if follower is not None:
            follower.start()
        try:
            yield
        finally:
            if follower is not None:
                await run_in_threadpool(follower.stop)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await run_in_threadpool(sandbox.close)
            await run_in_threadpool(state.service.close)
            if state.recorder is not None:  # the history queued so far, written
                await run_in_threadpool(state.recorder.close)

    app = FastAPI(title="spamsift", version=__version__, description=_DESCRIPTION,
                  lifespan=lifespan)
    app.state.spamsift = state
    install_error_handlers(app)
    for module in (classify, feedback_api, votes, models, history, stats, health,
                   metrics_api):
        app.include_router(module.router)
    dashboard.install(app)
    # Added last is outermost: metrics sees every answer, 413s included, and every
    # answer carries the security headers.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
