"""mbox files, read as a stream: one message in memory at a time, never the whole file.

The stdlib :class:`mailbox.mbox` indexes the whole file before the first message and
has no size cap, so this reader splits on ``From`` lines itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from spamsift.exceptions import IngestError
from spamsift.ingest.files import check_file, check_label
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, capped_meta, check_max_bytes
from spamsift.ingest.message import RawMessage
from spamsift.ingest.report import IngestReport, ensure_report

__all__ = ["read_mbox"]

# Lines are read in chunks of at most this size, so a line without end (a base64 blob
# with no newlines, a binary file read as mbox) cannot take all memory.
_CHUNK = 64 * 1024

# mboxrd quotes every body line matching ^>*From by adding one '>'; removing one '>'
# undoes that exactly, and undoes mboxo's quoting of ^From too (mboxo cannot tell a
# quoted "From " from a ">From " the sender wrote, so nothing can do better there).
_QUOTED_FROM = re.compile(rb">+From ")
_BLANK = (b"\n", b"\r\n")


class _Message:
    """The message being gathered: its chunks up to the cap, and whether more was cut.

    Number -1 stands for the text before the first ``From`` line, which is only
    measured, to report how much was passed over.
    """

    def __init__(self, number: int, envelope: bytes, max_bytes: int) -> None:
        self.number = number
        self.envelope = envelope
        self.max_bytes = max_bytes
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.preamble_text = False

    def add(self, chunk: bytes) -> None:
        if self.number < 0:
            self.size += len(chunk)
            self.preamble_text = self.preamble_text or bool(chunk.strip())
            return
        room = self.max_bytes - self.size
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[:room]
        if chunk:
            self.chunks.append(chunk)
            self.size += len(chunk)


def read_mbox(
    path: str | os.PathLike[str],
    *,
    unquote: bool = True,
    label: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield each message of an mbox file, without its ``From`` separator line.

    A line starting ``From`` separates messages when it follows a blank line, as mbox
    writers leave it, or comes before any message; that blank line belongs to the mbox,
    not the message, and is dropped. Requiring it keeps an unquoted ``From`` inside a body from
    splitting a message. The ``From`` line itself goes to ``meta["mbox_from"]``.

    Parameters
    ----------
    path : path-like
        The mbox file. Each ``source`` is ``PATH#N``, N counting messages from 0.
    unquote : bool
        Remove one ``>`` from body lines matching ``>+From`` (mboxrd and mboxo quoting).
    label : str, optional
        A label to give every message (``spam``/``ham``/``1``/``0``).
    max_bytes : int
        The per-message size cap; past it the message is cut and flagged ``truncated``.
    report : IngestReport, optional
        Counts what was read; text before the first ``From`` line is reported skipped.

    Raises
    ------
    IngestError
        The path does not exist or is not a file.

    Examples
    --------
    >>> for message in read_mbox("archive.mbox"):  # doctest: +SKIP
    ...     print(message.source, len(message.data))
    archive.mbox#0 1822
    """
    path = Path(path)
    check_max_bytes(max_bytes)
    label = check_label(label)
    check_file(path, "an mbox file")
    return _iter_mbox(path, unquote, label, max_bytes, ensure_report(report))


def _iter_mbox(
    path: Path, unquote: bool, label: str | None, max_bytes: int, report: IngestReport
) -> Iterator[RawMessage]:
    name = path.as_posix()
    current = _Message(-1, b"", max_bytes)
    pending = b""  # a blank line held back: it is the separator's if a From line follows
    at_line_start = True  # the next chunk begins a line (a long line comes in chunks)
    after_blank = True  # the last whole line was blank, or there was none
    in_from_line = False  # continuation chunks of a very long From line are dropped
    try:
        stream = open(path, "rb")
    except OSError as exc:
        raise IngestError(f"cannot read mbox file {path}: {exc.strerror or exc!r}") from exc
    with stream:
        for chunk in iter(partial(stream.readline, _CHUNK), b""):
            line_start, at_line_start = at_line_start, chunk.endswith(b"\n")
            if not line_start:
                if not in_from_line:
                    current.add(chunk)
                continue
            in_from_line = False
            if (after_blank or current.number < 0) and chunk.startswith(b"From "):
                yield from _finish(current, name, label, report)
                current = _Message(current.number + 1, chunk, max_bytes)
                pending, after_blank, in_from_line = b"", False, not at_line_start
                continue
            current.add(pending)
            pending = b""
            if chunk in _BLANK:
                pending, after_blank = chunk, True
                continue
            after_blank = False
            if unquote and _QUOTED_FROM.match(chunk):
                chunk = chunk[1:]
            current.add(chunk)
    yield from _finish(current, name, label, report)


def _finish(
    current: _Message, name: str, label: str | None, report: IngestReport
) -> Iterator[RawMessage]:
    if current.number < 0:
        if current.preamble_text:
            why = f"{current.size} bytes before the first From line"
            report.skip(f"{name}#preamble", "not a message", why)
        return
    envelope = current.envelope.rstrip(b"\r\n")[len(b"From ") :].decode("latin-1")
    meta = capped_meta({"mbox_from": envelope}, current.truncated)
    data = b"".join(current.chunks)
    yield report.record(RawMessage(f"{name}#{current.number}", data, label, None, meta))
