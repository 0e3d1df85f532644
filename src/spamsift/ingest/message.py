"""The unit every ingest source yields: raw bytes plus where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RawMessage", "LABELS"]

#: The two labels spamsift knows, as they appear in indexes, datasets and feedback.
LABELS = ("ham", "spam")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as read from a source, before any parsing.

    Parameters
    ----------
    source : str
        Where it came from: a path relative to the source root, ``mbox:PATH#N``,
        ``stdin``, or ``dataset:PATH#LINE``. Used as the row id in score files.
    data : bytes
        The raw RFC 822 bytes (for header-less text datasets, a synthetic message).
    label : str or None
        ``"spam"``, ``"ham"`` or None when unknown.
    split : str or None
        The value of the index's split column for this row (``train``/``test``/...), if any.
    meta : dict
        Extra columns of an index row (for example ``era``).
    """

    source: str
    data: bytes
    label: str | None = None
    split: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
