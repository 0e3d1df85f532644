"""The feedback store: what users say about messages, kept so the model can learn it.

Feedback events (this message is spam, says this user, through this key, now)
go into one SQL database through SQLAlchemy: SQLite in WAL mode by default
(``DATA_DIR/spamsift.db``), PostgreSQL by a URL; the schema is migrated with
Alembic on open. Events are never deleted, only retracted, so the audit trail is
whole; a message's effective label follows from its live events by one rule
(:mod:`spamsift.feedback.labels`: each voter's latest event counts, agreement
labels, disagreement is a conflict), so learning a message twice counts once and
a retraction unlearns exactly. :meth:`FeedbackStore.effective_labels` is the
training set. :class:`KeyStore` keeps hashed API keys with scopes, and
(The ``spamsift keys`` commands are in :mod:`spamsift.cli.keys`.)

Names are imported on first use, so importing the package does not load SQLAlchemy
and Alembic (0.3 s) into every ``spamsift`` command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spamsift._lazy import lazy_names

# Each public name, and the module that holds it.
_WHERE = {
    "FeedbackStore": "store",
    "VERDICTS": "store",
    "KeyStore": "keys",
    "KeyInfo": "keys",
    "KeyRecord": "keys",
    "SCOPES": "keys",
    "Database": "spamsift.db.database",
    "DB_FILENAME": "spamsift.db.database",
    "default_url": "spamsift.db.database",
    "resolve_url": "spamsift.db.database",
    "FeedbackResult": "records",
    "RetractResult": "records",
    "LabelledMessage": "records",
    "FeedbackEvent": "records",
    "Conflict": "records",
    "Classification": "records",
    "Counts": "records",
    "PruneResult": "records",
    "LabelChangeRecord": "records",
    "NewClassification": "records",
    "LabelState": "labels",
    "LABELS": "labels",
    "resolve": "labels",
    "voter_of": "labels",
    "message_id": "messages",
    "StoreError": "spamsift.exceptions",
    "NotFoundError": "spamsift.exceptions",
    "IdempotencyError": "spamsift.exceptions",
}

__all__ = [
    "FeedbackStore",
    "KeyStore",
    "Database",
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
    "KeyInfo",
    "KeyRecord",
    "LabelState",
    "StoreError",
    "NotFoundError",
    "IdempotencyError",
    "SCOPES",
    "LABELS",
    "VERDICTS",
    "DB_FILENAME",
    "default_url",
    "resolve_url",
    "resolve",
    "voter_of",
    "message_id",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE)


if TYPE_CHECKING:
    from spamsift.db.database import DB_FILENAME, Database, default_url, resolve_url
    from spamsift.exceptions import IdempotencyError, NotFoundError, StoreError
    from spamsift.feedback.keys import SCOPES, KeyInfo, KeyRecord, KeyStore
    from spamsift.feedback.labels import LABELS, LabelState, resolve, voter_of
    from spamsift.feedback.messages import message_id
    from spamsift.feedback.records import (
        Classification,
        Conflict,
        Counts,
        FeedbackEvent,
        FeedbackResult,
        LabelChangeRecord,
        LabelledMessage,
        PruneResult,
        RetractResult,
    )
    from spamsift.feedback.store import VERDICTS, FeedbackStore
