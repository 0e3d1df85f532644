"""What the app serves with, handed to :func:`create_app` and reached from routes.

The feedback store is a duck type (:class:`FeedbackStore`) so the HTTP layer does not
depend on how feedback is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from fastapi import Request

from spamsift.config import Settings
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving.api.ratelimit import RateLimiter
from spamsift.serving.model_holder import ModelHolder

if TYPE_CHECKING:
    from spamsift.serving.api.auth import KeyVerifier
    from spamsift.serving.api.batching import Prepare, ScoreBatcher
    from spamsift.serving.api.metrics import ApiMetrics

__all__ = ["ApiState", "FeedbackStore", "FeedbackEvent", "get_state"]


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

    def record_classification(self, raw: bytes, score: float, verdict: str,
                              model_version: str, *, clues: list[tuple[str, float]],
                              flags: list[str]) -> str: ...


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
    batcher: ScoreBatcher = field(init=False)  # set by create_app: it needs the state
    # What each message goes through before it is scored: the sandbox for a large
    # one, then its authentication results (batching.sandboxed); set by create_app.
    prepare: Prepare = field(init=False)


def get_state(request: Request) -> ApiState:
    return request.app.state.spamsift  # type: ignore[no-any-return]
