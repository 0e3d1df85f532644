"""Maildir folders: the messages in ``cur/`` and ``new/``, and Maildir++ subfolders on request."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from spamsift.exceptions import IngestError
from spamsift.ingest.files import check_dir, check_label, read_message_file, walk_files
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, check_max_bytes
from spamsift.ingest.message import RawMessage
from spamsift.ingest.report import IngestReport, ensure_report

__all__ = ["read_maildir", "is_maildir"]

# tmp/ is left out: a message there is still being delivered and may be incomplete.
_SUBDIRS = ("cur", "new")


def is_maildir(path: Path) -> bool:
    """Whether ``path`` is a directory holding a ``cur/`` or ``new/`` directory."""
    return any((path / sub).is_dir() for sub in _SUBDIRS)


def read_maildir(
    path: str | os.PathLike[str],
    *,
    subfolders: bool = False,
    label: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield the messages of a Maildir: ``cur/`` then ``new/``, names in sorted order.

    Maildir names begin with the delivery time, so sorted order is close to arrival
    order. The flags after ``:2,`` in a name (``S`` seen, ``R`` replied...) go to
    ``meta["flags"]``.

    Parameters
    ----------
    path : path-like
        The Maildir. Each ``source`` is relative to it: ``cur/NAME``, ``new/NAME``.
    subfolders : bool
        Also read Maildir++ subfolders (``.Sent/``, ``.Lists.python/``...), after the
        top folder, with the folder's name (``Sent``) in ``meta["folder"]``.
    label : str, optional
        A label to give every message (``spam``/``ham``/``1``/``0``).
    max_bytes : int
        The per-message size cap.
    report : IngestReport, optional
        Counts what was read and what was skipped, with why.

    Raises
    ------
    IngestError
        The path does not exist or has neither ``cur/`` nor ``new/``.
    """
    path = Path(path)
    check_max_bytes(max_bytes)
    label = check_label(label)
    check_dir(path, "a Maildir")
    if not is_maildir(path):
        raise IngestError(f"expected a Maildir with cur/ and new/, but {path} has neither")
    return _iter_maildir(path, subfolders, label, max_bytes, ensure_report(report))


def _iter_maildir(
    root: Path, subfolders: bool, label: str | None, max_bytes: int, report: IngestReport
) -> Iterator[RawMessage]:
    folders = [(root, "", None)]
    if subfolders:
        # Only this one listing of the top folder is held, for the sort.
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if e.name.startswith(".") and e.is_dir())
        folders += [(root / n, n + "/", n[1:]) for n in names if is_maildir(root / n)]
    for folder, prefix, folder_name in folders:
        for sub in _SUBDIRS:
            if not (folder / sub).is_dir():
                continue
            for file, source in walk_files(folder / sub, f"{prefix}{sub}/", report):
                meta = _flags(file.name)
                if folder_name is not None:
                    meta["folder"] = folder_name
                message = read_message_file(file, source, report, max_bytes, label=label, meta=meta)
                if message is not None:
                    yield report.record(message)


def _flags(name: str) -> dict[str, str]:
    # "!" stands in for ":" where file systems forbid colons (Windows Maildir clients).
    for mark in (":2,", "!2,"):
        if mark in name:
            return {"flags": name.rsplit(mark, 1)[1]}
    return {}
