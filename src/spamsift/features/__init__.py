"""Features: a ParsedMessage (or raw bytes) to one sparse row.

Hashed namespaced tokens (text in every script, headers, URLs), structural numbers
(binned later by the classifier), sender-reputation keys and, optionally, byte
n-grams of the raw message; computed in batches and in parallel by :mod:`.batch`.
"""

from __future__ import annotations

from spamsift._lazy import lazy_names

# Each public name, and the module that holds it.
_WHERE = {
    "MessageFeaturizer": "featurizer",
    "Layout": "featurizer",
    "REPUTATION_KEYS": "featurizer",
    "ByteNgrams": "bytegrams",
    "featurize": "batch",
    "featurize_stream": "batch",
    "MessageMeta": "batch",
    "exact_key": "dedup",
    "content_key": "dedup",
    "duplicate_of": "dedup",
    "structure_names": "structure",
}

__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
