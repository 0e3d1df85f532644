"""Helpers of the REST API tests: keys with known secrets, settings, a fake store.

The fake feedback store keeps everything in dicts and follows the duck type
:class:`spamsift.serving.api.state.FeedbackStore` as :mod:`spamsift.feedback` does:
a known ``client_event_id`` is replayed, a label the message has already is a
duplicate, live events with both labels a conflict, unknown ids ``NotFoundError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from spamsift.config import Settings
from spamsift.exceptions import InputError, NotFoundError
from spamsift.feedback import FeedbackResult, NewClassification, RetractResult, message_id
from spamsift.feedback.labels import LABELS, LabelState, resolve, voter_of
from spamsift.serving.api import InMemoryKeys

SECRETS = {"classify": "classify-secret", "feedback": "feedback-secret",
           "admin": "admin-secret"}


#: ``make_client(holder=..., feedback=..., address=..., **settings)``, the conftest fixture.
MakeClient = Callable[..., TestClient]


def bearer(scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRETS[scope]}"}


class FakeFeedbackStore:
    """In-memory stand-in for the feedback store: the part of its contract the API
    uses, with the real store's record types and label rule
    (:func:`spamsift.feedback.labels.resolve`). ``tests/feedback/test_store_contract.py``
    runs it through the same tests as the real store."""

    def __init__(self) -> None:
        self.classifications: dict[str, tuple[bytes, float, str, str]] = {}
        self.named = 0
        self.events: dict[str, FeedbackResult] = {}
        self.voters: dict[str, str] = {}
        self.added: list[dict[str, Any]] = []
        self.by_client_id: dict[str, FeedbackResult] = {}
        self.retracted: set[str] = set()

    def record_classification(self, raw: bytes, score: float, verdict: str,
                              model_version: str, *, clues: Any = None,
                              flags: Any = None) -> str:
        new = self.new_classification(raw, score, verdict, model_version)
        self.record_classifications([new])
        return new.id

    def new_classification(self, raw: bytes, score: float, verdict: str,
                           model_version: str, *, clues: Any = None,
                           flags: Any = None) -> NewClassification:
        if not raw:
            raise InputError("message: expected the bytes of a message, got nothing")
        self.named += 1  # ids in the order they are handed out, as the real store's uuids
        return NewClassification(f"c{self.named}", message_id(raw), raw, score, verdict,
                                 model_version, datetime.now(UTC))

    def record_classifications(self, new: list[NewClassification]) -> None:
        for c in new:
            self.classifications[c.id] = (c.body, c.score, c.verdict, c.model_version)

    def add_feedback(self, raw: bytes | None = None, *, label: str,
                     classification_id: str | None = None, user: str | None = None,
                     source: str = "api", key_id: str | None = None,
                     client_event_id: str | None = None) -> FeedbackResult:
        self.added.append({"raw": raw, "label": label, "classification_id": classification_id,
                           "user": user, "source": source, "key_id": key_id,
                           "client_event_id": client_event_id})
        if label not in LABELS:
            raise InputError(f"label: expected one of {LABELS}, got {label!r}")
        if classification_id is not None:
            if classification_id not in self.classifications:
                raise NotFoundError(f"no classification with id {classification_id!r}")
            raw = self.classifications[classification_id][0]
        if not raw:
            raise InputError("no message")
        if client_event_id in self.by_client_id:
            mid = self.by_client_id[client_event_id].message_id
            now = self._state(mid)
            return dataclasses.replace(self.by_client_id[client_event_id], replayed=True,
                                       conflict=now.conflict, effective_label=now.label,
                                       previous_label=now.label)
        mid = message_id(raw)
        before = self._state(mid)
        eid = f"e{len(self.events) + 1}"
        self.voters[eid] = voter_of(user, key_id)
        self.events[eid] = FeedbackResult(eid, mid, label, False, False, None)
        after = self._state(mid)
        event = FeedbackResult(eid, mid, label, before.label == label and after.label == label,
                               after.conflict, after.label, previous_label=before.label)
        self.events[eid] = event
        if client_event_id is not None:
            self.by_client_id[client_event_id] = event
        return event

    def _state(self, mid: str) -> LabelState:
        return resolve((self.voters[e.event_id], e.label) for e in self.events.values()
                       if e.message_id == mid and e.event_id not in self.retracted)

    def retract(self, event_id: str, by: str | None = None) -> RetractResult:
        if event_id not in self.events:
            raise NotFoundError(f"no feedback event with id {event_id!r}")
        mid = self.events[event_id].message_id
        before = self._state(mid)
        was = event_id in self.retracted
        self.retracted.add(event_id)
        after = self._state(mid)
        return RetractResult(event_id, mid, after.label, after.conflict, before.label, was)


def make_keys() -> InMemoryKeys:
    keys = InMemoryKeys()
    for scope, secret in SECRETS.items():
        keys.add(f"{scope}-key", {scope}, secret=secret, key_id=f"id-{scope}")
    return keys


def api_settings(**overrides: Any) -> Settings:
    """Settings for API tests: no rate limit, no registry polling, no DNS checks
    (these tests compare the API with the model alone; authentication at the door is
    tested in tests/mailauth/test_doors.py, against a loopback DNS server), unless asked."""
    values: dict[str, Any] = {"rate_limit_per_minute": 0, "model_poll_seconds": 0,
                              "top_clues": 4, "auth_verify": "never"}
    return Settings(**{**values, **overrides})


