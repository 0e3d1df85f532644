"""Telling what kind of source a path is, from its shape and first bytes."""

from __future__ import annotations

import os
from pathlib import Path

from spamsift.exceptions import IngestError
from spamsift.ingest.folders import is_labelled_folders
from spamsift.ingest.maildir import is_maildir
from spamsift.ingest.tables import csv_header

__all__ = ["detect_kind", "KINDS"]

#: The kinds of source :func:`detect_kind` tells apart and ``open_source`` reads.
KINDS = ("stdin", "file", "directory", "mbox", "maildir", "folders", "index", "dataset")


def detect_kind(path: str | os.PathLike[str]) -> str:
    """The kind of source at ``path``, one of :data:`KINDS`.

    In order: ``-`` is stdin. A directory is a Maildir if it has ``cur/`` or ``new/``,
    labelled folders if it has ``spam/`` and ``ham/``, an index if it holds
    ``index.csv`` (as the shared corpus does), else a tree of message files. A
    ``.jsonl``/``.ndjson`` file is a dataset; a ``.csv`` file is a dataset if it has a
    ``text`` column, else an index if it has a ``path`` column. Any other file is an
    mbox if it ends in ``.mbox``/``.mbx`` or starts with ``From`` and holds a second
    ``From`` separator in its first MiB (or is larger), else one message.

    Raises
    ------
    IngestError
        Nothing exists at ``path``, or a ``.csv`` has neither ``text`` nor ``path``.
    """
    if os.fspath(path) == "-":
        return "stdin"
    path = Path(path)
    if not path.exists():
        raise IngestError(f"expected a file or directory of mail, but {path} does not exist")
    if path.is_dir():
        if is_maildir(path):
            return "maildir"
        if is_labelled_folders(path):
            return "folders"
        if (path / "index.csv").is_file():
            return "index"
        return "directory"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "dataset"
    if suffix == ".csv":
        header = csv_header(path)
        if "text" in header:
            return "dataset"
        if "path" in header:
            return "index"
        raise IngestError(
            f"expected a CSV with a 'text' column (dataset) or a 'path' column (index) "
            f"in {path}; found {', '.join(header)}"
        )
    if suffix in (".mbox", ".mbx") or _looks_like_mbox(path):
        return "mbox"
    return "file"


# Enough to see a second "From " separator in any mbox of ordinary messages.
_PROBE_BYTES = 1 << 20


def _looks_like_mbox(path: Path) -> bool:
    """Starts with ``From `` and holds a second separator (or is too big to tell).

    Many spools (the SpamAssassin corpus among them) keep single messages with their
    mbox ``From `` line; such a file is one message, not a one-message mbox.
    """
    try:
        with open(path, "rb") as stream:
            head = stream.read(_PROBE_BYTES + 1)
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror or exc!r}") from exc
    if not head.startswith(b"From "):
        return False
    return b"\n\nFrom " in head or b"\r\n\r\nFrom " in head or len(head) > _PROBE_BYTES
