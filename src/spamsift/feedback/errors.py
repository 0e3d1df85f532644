"""The feedback store's errors, under spamsift's one exception tree::

    SpamsiftError
     ├── InputError                (spamsift.exceptions) a bad label, scope, size...
     └── StoreError                the store cannot do what was asked
          ├── NotFoundError        no event, classification or key with that id
          └── IdempotencyError     a client_event_id reused for a different event

They live here rather than in :mod:`spamsift.exceptions` so the store stays one
subpackage; a front end maps them like the rest (StoreError, say, to HTTP 503,
NotFoundError to 404, IdempotencyError to 409).
"""

from __future__ import annotations

from spamsift.exceptions import SpamsiftError

__all__ = ["StoreError", "NotFoundError", "IdempotencyError"]


class StoreError(SpamsiftError):
    """The feedback store cannot be opened, migrated or written (after retries)."""


class NotFoundError(StoreError):
    """No feedback event, classification or API key has the id given."""


class IdempotencyError(StoreError):
    """A ``client_event_id`` already names an event with other content or another key."""
