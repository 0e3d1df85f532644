"""Helpers of the REST API tests: keys with known secrets, settings, a fake store.

The fake feedback store keeps everything in dicts and follows the duck type
:class:`spamsift.serving.api.state.FeedbackStore` as :mod:`spamsift.feedback` does:
a known ``client_event_id`` is replayed, a label the message has already is a
duplicate, live events with both labels a conflict, unknown ids ``NotFoundError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from spamsift.config import Settings
from spamsift.exceptions import InputError
from spamsift.feedback.errors import NotFoundError
from spamsift.serving.api import InMemoryKeys

SECRETS = {"classify": "classify-secret", "feedback": "feedback-secret",
           "admin": "admin-secret"}


#: ``make_client(holder=..., feedback=..., address=..., **settings)``, the conftest fixture.
MakeClient = Callable[..., TestClient]


def bearer(scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRETS[scope]}"}


@dataclasses.dataclass(frozen=True)
class FakeEvent:
    event_id: str
    message_id: str
    label: str
    duplicate: bool
    conflict: bool
    effective_label: str | None
    replayed: bool = False


@dataclasses.dataclass(frozen=True)
class FakeRetraction:
    retracted: bool


class FakeFeedbackStore:
    """In-memory stand-in for the feedback store."""

    def __init__(self) -> None:
        self.classifications: dict[str, tuple[bytes, float, str, str]] = {}
        self.events: dict[str, FakeEvent] = {}
        self.added: list[dict[str, Any]] = []
        self.by_client_id: dict[str, FakeEvent] = {}
        self.retracted: set[str] = set()

    def record_classification(self, raw: bytes, score: float, verdict: str,
                              model_version: str, *, clues: Any = None,
                              flags: Any = None) -> str:
        cid = f"c{len(self.classifications) + 1}"
        self.classifications[cid] = (raw, score, verdict, model_version)
        return cid

    def add_feedback(self, raw: bytes | None, *, label: str, classification_id: str | None,
                     user: str | None, source: str, key_id: str | None,
                     client_event_id: str | None) -> FakeEvent:
        self.added.append({"raw": raw, "label": label, "classification_id": classification_id,
                           "user": user, "source": source, "key_id": key_id,
                           "client_event_id": client_event_id})
        if classification_id is not None:
            if classification_id not in self.classifications:
                raise NotFoundError(f"no classification with id {classification_id!r}")
            raw = self.classifications[classification_id][0]
        if raw is None:
            raise InputError("no message")
        if client_event_id in self.by_client_id:
            return dataclasses.replace(self.by_client_id[client_event_id], replayed=True)
        message_id = hashlib.sha256(raw).hexdigest()[:12]
        before = self._labels(message_id)
        event = FakeEvent(f"e{len(self.events) + 1}", message_id, label, before == {label},
                          bool(before - {label}), None if before - {label} else label)
        self.events[event.event_id] = event
        if client_event_id is not None:
            self.by_client_id[client_event_id] = event
        return event

    def _labels(self, message_id: str) -> set[str]:
        return {e.label for e in self.events.values()
                if e.message_id == message_id and e.event_id not in self.retracted}

    def retract(self, event_id: str, by: str | None = None) -> FakeRetraction:
        if event_id not in self.events:
            raise NotFoundError(f"no feedback event with id {event_id!r}")
        was = event_id in self.retracted
        self.retracted.add(event_id)
        return FakeRetraction(not was)


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


