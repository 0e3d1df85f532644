"""What the app serves with, handed to :func:`create_app` and reached from routes.

The feedback store is a duck type (:class:`FeedbackStore`) so the HTTP layer does not
depend on how feedback is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from spamsift.config import Settings
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving.api.ratelimit import RateLimiter
from spamsift.serving.model_holder import ModelHolder

if TYPE_CHECKING:
    from spamsift.feedback.records import NewClassification
    from spamsift.serving.api.auth import KeyVerifier
    from spamsift.serving.api.batching import ScoreBatcher
    from spamsift.serving.api.metrics import ApiMetrics
    from spamsift.serving.recorder import ClassificationRecorder
    from spamsift.serving.service import SpamService

__all__ = ["ApiState", "FeedbackStore", "FeedbackEvent", "get_state"]

# Seconds a read waits for the history's writer; past it, it reads what is there.
_FLUSH_WAIT = 5.0


class FeedbackEvent(Protocol):
    """What :meth:`FeedbackStore.add_feedback` returns.

    ``duplicate``: the message had this label already. ``replayed`` (optional): the
    ``client_event_id`` was seen before and nothing was written.
    """

    @property
    def event_id(self) -> object: ...

    @property
    def message_id(self) -> object: ...

    @property
    def label(self) -> str: ...

    @property
    def duplicate(self) -> bool: ...

    @property
    def conflict(self) -> bool: ...

    @property
    def effective_label(self) -> str | None: ...


class FeedbackStore(Protocol):
    """Where feedback and classifications are recorded (:mod:`spamsift.feedback`).

    Errors map as everywhere (:mod:`spamsift.serving.api.errors`): ``InputError``
    400, ``NotFoundError`` (an unknown ``classification_id`` or ``event_id``) 404,
    ``IdempotencyError`` 409, ``StoreError`` 503.

    The dashboard's routes (:mod:`spamsift.serving.api.history`, ``stats``) also read
    ``classifications``, ``get_classification``, ``latest_classification``,
    ``events``, ``conflicts``, ``raw_message`` and ``counts``, and the server purges
    with ``prune_classifications``, as :class:`spamsift.feedback.FeedbackStore`
    has them.
    """

    def add_feedback(self, raw: bytes | None, *, label: str, classification_id: str | None,
                     user: str | None, source: str, key_id: str | None,
                     client_event_id: str | None) -> FeedbackEvent: ...

    def retract(self, event_id: str, by: str | None = None) -> object:
        """An object with ``retracted``, or with ``already_retracted`` (its negation)."""

    def new_classification(self, raw: bytes, score: float, verdict: str,
                           model_version: str, *, clues: list[tuple[str, float]],
                           flags: list[str]) -> NewClassification:
        """A classification checked and named, written later by
        ``record_classifications`` (:mod:`spamsift.serving.recorder`)."""

    def record_classifications(self, new: list[NewClassification]) -> None: ...


@dataclass
class ApiState:
    """Everything a route needs, held on ``app.state.spamsift``."""

    holder: ModelHolder
    keys: KeyVerifier
    settings: Settings
    feedback: FeedbackStore | None
    limiter: RateLimiter
    metrics: ApiMetrics
    sandbox: ParseSandbox
    # The classify path every door shares (serving.service), and REST's batcher and
    # history writer around it; set by create_app.
    service: SpamService = field(init=False)
    batcher: ScoreBatcher = field(init=False)
    recorder: ClassificationRecorder | None = None

    async def history_written(self) -> None:
        """Wait until the classifications answered so far are in the store (read your
        writes: feedback citing an id just given, the history's pages)."""
        if self.recorder is not None:
            await run_in_threadpool(self.recorder.flush, _FLUSH_WAIT)


def get_state(request: Request) -> ApiState:
    return request.app.state.spamsift  # type: ignore[no-any-return]
