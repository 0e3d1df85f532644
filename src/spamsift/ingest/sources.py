"""One entry point for every source: name a path, get a stream of messages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spamsift.exceptions import IngestError
from spamsift.ingest.datasets import read_text_dataset
from spamsift.ingest.detect import KINDS, detect_kind
from spamsift.ingest.files import read_directory, read_file, read_stdin
from spamsift.ingest.folders import read_labelled_folders
from spamsift.ingest.index import read_index
from spamsift.ingest.limits import DEFAULT_MAX_BYTES
from spamsift.ingest.maildir import read_maildir
from spamsift.ingest.mbox import read_mbox
from spamsift.ingest.message import RawMessage
from spamsift.ingest.report import IngestReport

__all__ = ["open_source"]

_READERS = {
    "file": read_file,
    "directory": read_directory,
    "mbox": read_mbox,
    "maildir": read_maildir,
    "folders": read_labelled_folders,
    "index": read_index,
    "dataset": read_text_dataset,
}


def open_source(
    path: str | os.PathLike[str],
    kind: str = "auto",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
    **options: Any,
) -> Iterator[RawMessage]:
    """Stream the messages of any source, telling its kind from the path by default.

    Parameters
    ----------
    path : path-like
        A file, a directory, or ``-`` for standard input.
    kind : str
        ``"auto"`` (see :func:`~spamsift.ingest.detect.detect_kind`) or one of
        :data:`~spamsift.ingest.detect.KINDS`. An ``index`` given as a directory reads
        its ``index.csv``, with the directory as root.
    max_bytes : int
        The per-message size cap.
    report : IngestReport, optional
        Counts what was read and what was skipped, with why.
    **options
        Passed on to the reader for that kind, for example ``split_column`` and
        ``only_split`` for an index, ``label`` for a file, mbox or Maildir.

    Raises
    ------
    IngestError
        Nothing exists at ``path``, ``kind`` is unknown, or the reader refuses the source.

    Examples
    --------
    >>> report = IngestReport()
    >>> messages = open_source("../shared/corpora/spamassassin", report=report,
    ...                        split_column="random_split")  # doctest: +SKIP
    >>> sum(1 for _ in messages), report.summary()  # doctest: +SKIP
    (6046, 'read 6046 messages, skipped 0')
    """
    if kind == "auto":
        kind = detect_kind(path)
    elif kind not in KINDS:
        raise IngestError(f"expected kind 'auto' or one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "stdin":
        return read_stdin(max_bytes=max_bytes, report=report, **options)
    if kind == "index" and Path(path).is_dir():
        options.setdefault("root", path)
        path = Path(path) / "index.csv"
    return _READERS[kind](path, max_bytes=max_bytes, report=report, **options)
