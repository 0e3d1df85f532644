"""Labelled index CSVs: one row per message file, ``path,label`` and any other columns.

The shared SpamAssassin corpus comes with one (``../shared/corpora/spamassassin/index.csv``
from the repository root), headed ``path,label,era,random_split,temporal_split``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePath

from spamsift.exceptions import IngestError
from spamsift.ingest.files import check_dir, check_file, read_message_file
from spamsift.ingest.labels import normalise_label
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, check_max_bytes
from spamsift.ingest.message import RawMessage
from spamsift.ingest.report import IngestReport, ensure_report
from spamsift.ingest.tables import csv_header, csv_rows

__all__ = ["read_index", "INDEX_COLUMNS"]

#: The columns an index must have; any others are carried in ``RawMessage.meta``.
INDEX_COLUMNS = ("path", "label")


def read_index(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    split_column: str | None = None,
    only_split: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield the message named by each row of a labelled index, in row order.

    A row is skipped, and recorded in the report with its reason, when its label is not
    spam/ham/1/0, when it has the wrong number of fields, or when its path is empty,
    absolute, leads outside ``root`` (by ``..`` or by a symlink), or names no readable
    regular file. Nothing is dropped unrecorded and no bad row stops the read.

    Parameters
    ----------
    path : path-like
        The index CSV, with a header line holding at least ``path`` and ``label``.
    root : path-like, optional
        The directory the ``path`` column is relative to; by default the index's own.
    split_column : str, optional
        The column whose value fills ``RawMessage.split`` (``random_split``...).
    only_split : str, optional
        Yield only rows whose ``split_column`` holds this value (``train``...); the
        others are counted in ``report.filtered``.
    max_bytes : int
        The per-message size cap.
    report : IngestReport, optional
        Counts what was read, filtered and skipped.

    Raises
    ------
    IngestError
        The index or root does not exist, the header lacks a required or the named split
        column, or ``only_split`` is given without ``split_column``.

    Examples
    --------
    >>> rows = read_index("../shared/corpora/spamassassin/index.csv",
    ...                   split_column="random_split", only_split="train")  # doctest: +SKIP
    >>> next(rows).source, next(rows).label  # doctest: +SKIP
    ('easy_ham/00001.7c53336b37003a9286aba55d2945844c', 'ham')
    """
    path = Path(path)
    root = path.parent if root is None else Path(root)
    check_max_bytes(max_bytes)
    check_file(path, "an index CSV")
    check_dir(root, "the index's root directory")
    header = csv_header(path)
    missing = [name for name in INDEX_COLUMNS if name not in header]
    if missing:
        raise IngestError(
            f"expected index columns {', '.join(INDEX_COLUMNS)} in {path}, "
            f"missing {', '.join(missing)}; found {', '.join(header)}"
        )
    if split_column is not None and split_column not in header:
        raise IngestError(
            f"split_column {split_column!r} is not a column of {path}; found {', '.join(header)}"
        )
    if only_split is not None and split_column is None:
        raise IngestError(f"only_split={only_split!r} needs split_column to say which column")
    return _iter_index(path, root, split_column, only_split, max_bytes, ensure_report(report))


def _iter_index(
    path: Path,
    root: Path,
    split_column: str | None,
    only_split: str | None,
    max_bytes: int,
    report: IngestReport,
) -> Iterator[RawMessage]:
    real_root = root.resolve()
    for where, row in csv_rows(path, report):
        split = (row[split_column].strip() or None) if split_column else None
        if only_split is not None and split != only_split:
            report.filtered += 1
            continue
        message = _read_row(row, where, root, real_root, split, max_bytes, report)
        if message is not None:
            yield report.record(message)


def _read_row(
    row: dict[str, str],
    where: str,
    root: Path,
    real_root: Path,
    split: str | None,
    max_bytes: int,
    report: IngestReport,
) -> RawMessage | None:
    member = row["path"]
    source = member or where
    label = normalise_label(row["label"])
    if label is None:
        report.skip(source, "unknown label", f"{row['label']!r} is not spam, ham, 1 or 0")
        return None
    problem = _path_problem(member, root, real_root)
    if problem is not None:
        report.skip(source, *problem)
        return None
    meta = {name: value for name, value in row.items() if name not in INDEX_COLUMNS}
    return read_message_file(
        root / member, source, report, max_bytes, label=label, split=split, meta=meta
    )


def _path_problem(member: str, root: Path, real_root: Path) -> tuple[str, str] | None:
    """``(reason, detail)`` when ``member`` must not be read, else None."""
    if not member.strip():
        return "empty path", "the path column is empty"
    if PurePath(member).anchor:
        return "absolute path", f"{member!r} is not relative to the root"
    parts = PurePath(os.path.normpath(member)).parts
    if parts and parts[0] == os.pardir:
        return "escapes root", f"{member!r} leads outside the root through '..'"
    # Lexically inside, but a symlink on the way may still lead out.
    if not (root / member).resolve().is_relative_to(real_root):
        return "escapes root", f"{member!r} leads outside the root through a symlink"
    return None
