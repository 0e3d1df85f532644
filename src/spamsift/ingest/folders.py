"""Folder-per-label corpora: ``ROOT/spam/...`` and ``ROOT/ham/...``, any depth below."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from spamsift.exceptions import IngestError
from spamsift.ingest.files import check_dir, iter_tree
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, check_max_bytes
from spamsift.ingest.message import LABELS, RawMessage
from spamsift.ingest.report import IngestReport, ensure_report

__all__ = ["read_labelled_folders", "is_labelled_folders"]


def is_labelled_folders(path: Path) -> bool:
    """Whether ``path`` holds both a ``spam/`` and a ``ham/`` directory."""
    return all((path / label).is_dir() for label in LABELS)


def read_labelled_folders(
    root: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield every message under ``root/ham/`` then ``root/spam/``, labelled by folder.

    Below each label folder, files are read as by
    :func:`~spamsift.ingest.files.read_directory`. Anything else in ``root`` that is not
    a dotfile (an ``unsure/`` folder, a README) is reported skipped, not read.

    Parameters
    ----------
    root : path-like
        The directory holding ``spam/`` and ``ham/`` (one of them may be missing).
        Each ``source`` is relative to it: ``spam/0001.eml``.
    max_bytes : int
        The per-message size cap.
    report : IngestReport, optional
        Counts what was read and what was skipped, with why.

    Raises
    ------
    IngestError
        ``root`` does not exist or has neither ``spam/`` nor ``ham/``.
    """
    root = Path(root)
    check_max_bytes(max_bytes)
    check_dir(root, "a directory with spam/ and ham/ folders")
    if not any((root / label).is_dir() for label in LABELS):
        raise IngestError(f"expected spam/ and ham/ folders in {root}, found neither")
    return _iter_folders(root, max_bytes, ensure_report(report))


def _iter_folders(root: Path, max_bytes: int, report: IngestReport) -> Iterator[RawMessage]:
    with os.scandir(root) as entries:
        names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
    for name in names:
        if name in LABELS and (root / name).is_dir():
            yield from iter_tree(root / name, f"{name}/", name, max_bytes, report)
        else:
            report.skip(name, "not a label folder", "only spam/ and ham/ are read")
