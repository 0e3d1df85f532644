"""The one exception tree of spamsift.

Every error spamsift raises on purpose derives from :class:`SpamsiftError`, so a
front end (CLI, REST, mail protocols) can map the whole family in one place::

    SpamsiftError
     ├── ConfigError          a setting has a bad value
     ├── InputError           input that is not what was asked for
     │    ├── IngestError     a source (file, folder, mbox, index, dataset) cannot be read
     │    └── MessageError    bytes that cannot be treated as a message at all
     ├── ModelError           a model file cannot be used
     │    ├── ModelFormatError    unknown format version, missing or malformed parts
     │    └── ModelIntegrityError checksum mismatch: the file was altered
     ├── TrainingError        training cannot proceed (one class only, too few rows, ...)
     ├── CorpusError          a corpus cannot be found, fetched or verified
     ├── WorkerError          a worker process died mid-task (killed: usually out of memory)
     └── StoreError           the database (feedback, keys, shared models) cannot do what was asked
          ├── NotFoundError       no event, classification, key or version with that id
          └── IdempotencyError    a client_event_id reused for a different event

Messages say what was expected and what arrived.
"""

from __future__ import annotations

__all__ = [
    "SpamsiftError",
    "ConfigError",
    "InputError",
    "IngestError",
    "MessageError",
    "ModelError",
    "ModelFormatError",
    "ModelIntegrityError",
    "TrainingError",
    "CorpusError",
    "WorkerError",
    "StoreError",
    "NotFoundError",
    "IdempotencyError",
]


class SpamsiftError(Exception):
    """Root of every error spamsift raises on purpose."""


class ConfigError(SpamsiftError):
    """A setting has a value spamsift cannot use."""


class InputError(SpamsiftError):
    """Input that is not what the call expected."""


class IngestError(InputError):
    """A source of mail (file, folder, mbox, Maildir, index, dataset) cannot be read."""


class MessageError(InputError):
    """Bytes that cannot be treated as a message at all."""


class ModelError(SpamsiftError):
    """A model file cannot be used."""


class ModelFormatError(ModelError):
    """A model file has an unknown format version or missing or malformed parts."""


class ModelIntegrityError(ModelError):
    """A model file's contents do not match the checksums in its manifest."""


class TrainingError(SpamsiftError):
    """Training cannot proceed with the data given."""


class CorpusError(SpamsiftError):
    """A corpus cannot be found, fetched or verified."""


class WorkerError(SpamsiftError):
    """A worker process (featurising, parsing) died before it answered: killed by a
    signal, most often the kernel's out-of-memory killer."""


class StoreError(SpamsiftError):
    """The database cannot be opened, migrated or written (after retries)."""


class NotFoundError(StoreError):
    """No feedback event, classification or API key has the id given."""


class IdempotencyError(StoreError):
    """A ``client_event_id`` already names an event with other content or another key."""
