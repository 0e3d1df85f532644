"""The per-message size cap every reader applies, and the capped read behind it."""

from __future__ import annotations

from typing import BinaryIO

from spamsift.config import MAX_MESSAGE_BYTES
from spamsift.exceptions import IngestError

__all__ = ["DEFAULT_MAX_BYTES", "check_max_bytes", "read_capped", "capped_meta"]

# The parser's cap (limits.max_message_bytes), not a larger one of the readers' own:
# the parser looks at no byte past it, so holding more only costs memory (featurising
# holds chunks of 256 messages per worker), and a message cut here is cut exactly
# where every daemon would cut it, flagged ``truncated`` and counted in the report. A
# caller with settings passes ``settings.limits.max_message_bytes`` (as `learn` does).
DEFAULT_MAX_BYTES = MAX_MESSAGE_BYTES


def check_max_bytes(max_bytes: int) -> int:
    """``max_bytes`` if it is a positive int, else an :class:`IngestError` saying so."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise IngestError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
    return max_bytes


def read_capped(stream: BinaryIO, max_bytes: int) -> tuple[bytes, bool]:
    """Read at most ``max_bytes`` from ``stream``; say whether more was left unread.

    Only the cap is ever held in memory: the rest of a 2 GB file is not read at all.
    ``stream`` is a buffered reader (``open(..., "rb")``, ``sys.stdin.buffer``), whose
    ``read(n)`` returns short only at end of file.
    """
    data = stream.read(max_bytes)
    truncated = bool(stream.read(1))
    return data, truncated


def capped_meta(meta: dict[str, str], truncated: bool) -> dict[str, str]:
    """``meta`` with ``truncated="1"`` added when the message was cut at the cap."""
    if truncated:
        meta["truncated"] = "1"
    return meta
