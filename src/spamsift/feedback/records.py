"""What the feedback store hands back: plain frozen records, no database rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "FeedbackResult",
    "RetractResult",
    "LabelledMessage",
    "FeedbackEvent",
    "Conflict",
    "Classification",
    "Counts",
    "PruneResult",
    "LabelChangeRecord",
    "NewClassification",
]


@dataclass(frozen=True)
class FeedbackResult:
    """The outcome of :meth:`FeedbackStore.add_feedback`.

    ``duplicate``: the message already had this effective label, so the event
    changed nothing for training (it is in the audit trail all the same).
    ``effective_label`` is the message's label after the event, None in conflict.
    ``replayed``: the ``client_event_id`` was seen before; nothing was written,
    and the record describes the stored event and the message's current state.
    ``previous_label``: the effective label before the event (what a learner must
    unlearn when it changed); for a replayed event, the current label.
    """

    event_id: str
    message_id: str
    label: str
    duplicate: bool
    conflict: bool
    effective_label: str | None
    replayed: bool = False
    previous_label: str | None = None


@dataclass(frozen=True)
class RetractResult:
    """The outcome of :meth:`FeedbackStore.retract`: the message's state afterwards.

    ``previous_label`` is the effective label before the retraction;
    ``already_retracted`` means an earlier call retracted it and nothing changed.
    """

    event_id: str
    message_id: str
    effective_label: str | None
    conflict: bool
    previous_label: str | None
    already_retracted: bool = False


@dataclass(frozen=True)
class LabelledMessage:
    """One training example: a message and its effective label."""

    message_id: str
    raw: bytes
    label: str
    updated_at: datetime


@dataclass(frozen=True)
class FeedbackEvent:
    """One row of the audit trail."""

    id: str
    message_id: str
    seq: int
    label: str
    user: str | None
    source: str
    key_id: str | None
    client_event_id: str | None
    classification_id: str | None
    duplicate: bool
    created_at: datetime
    retracted_at: datetime | None
    retracted_by: str | None


@dataclass(frozen=True)
class Conflict:
    """A message whose voters disagree, with each voter's latest label."""

    message_id: str
    subject: str
    votes: dict[str, str]
    updated_at: datetime


@dataclass(frozen=True)
class Classification:
    """A verdict given earlier, which feedback can refer to by ``id``.

    ``sender`` (the From address), ``subject``, ``clues`` (``(clue, weight)``, strongest
    first) and ``flags`` are what the history shows; None on rows recorded before
    they were kept (``sender`` and ``subject`` are '' when the message has none).
    """

    id: str
    message_id: str
    score: float
    verdict: str
    model_version: str
    created_at: datetime
    sender: str | None = None
    subject: str | None = None
    clues: tuple[tuple[str, float], ...] | None = None
    flags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Counts:
    """Sizes of the store: ``spam``/``ham``/``conflicts`` count messages, not events."""

    messages: int
    classifications: int
    events: int
    retracted_events: int
    spam: int
    ham: int
    conflicts: int


@dataclass(frozen=True)
class PruneResult:
    """What :meth:`FeedbackStore.prune_classifications` deleted."""

    classifications: int
    messages: int


@dataclass(frozen=True)
class LabelChangeRecord:
    """One change of a message's effective label, as the change log numbers it.

    ``seq`` increases in commit order, so a reader that has applied every change up
    to ``seq`` needs exactly those after it. ``previous_label`` / ``effective_label``
    are None for no label (never labelled, retracted, or in conflict).
    """

    seq: int
    message_id: str
    previous_label: str | None
    effective_label: str | None
    raw: bytes
    created_at: datetime


@dataclass(frozen=True)
class NewClassification:
    """A classification checked and named, not yet written: what
    :meth:`FeedbackStore.new_classification` makes and
    :meth:`FeedbackStore.record_classifications` writes, so a server can answer with
    the id at once and write later (:mod:`spamsift.serving.recorder`).
    """

    id: str
    message_id: str
    body: bytes  # the message as stored (an mbox "From " line taken off)
    score: float
    verdict: str
    model_version: str
    created_at: datetime
    clues: tuple[tuple[str, float], ...] | None = None  # None: not kept
    flags: tuple[str, ...] | None = None
