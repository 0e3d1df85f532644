"""Duplicates: the same message twice must not sit on both sides of a split.

Two keys: the exact bytes (after the mbox separator line, which is storage) and
the normalised subject + body, which catches the same mail with other headers
(re-sent, relayed through another list). The exact key is the feedback store's
message id (:func:`spamsift.parse.identity.message_digest`, the same function):
retraining holds back and matches stored feedback by it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol

from spamsift.features.normalize import normalise
from spamsift.parse import ParsedMessage
from spamsift.parse.identity import message_digest as exact_key

__all__ = ["exact_key", "content_key", "duplicate_of"]

_WS = re.compile(r"\s+")


class _Keyed(Protocol):
    exact_key: str
    content_key: str | None


def content_key(msg: ParsedMessage) -> str | None:
    """Key of the normalised subject and body; None for a near-empty body (no evidence)."""
    body, _ = normalise(msg.body_text[:100_000])
    body = _WS.sub(" ", body).strip()
    if len(body) < 20:
        return None
    subj, _ = normalise(msg.subject or "")
    return hashlib.sha256(f"{_WS.sub(' ', subj).strip()}\n{body}".encode()).hexdigest()


def duplicate_of(meta: Sequence[_Keyed]) -> list[int]:
    """For each message, the index of the first message it duplicates (itself if none)."""
    first: dict[str, int] = {}
    out = []
    for i, m in enumerate(meta):
        keys = [m.exact_key] + ([m.content_key] if m.content_key else [])
        g = next((first[k] for k in keys if k in first), i)
        for k in keys:
            first.setdefault(k, g)
        out.append(g)
    return out
