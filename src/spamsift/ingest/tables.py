"""Opening the CSV files that indexes and text datasets come in."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

from spamsift.exceptions import IngestError

__all__ = ["open_csv", "csv_header"]


def open_csv(path: Path) -> TextIO:
    """Open a CSV file for :mod:`csv`: UTF-8, a leading BOM ignored, newlines left to csv.

    Bytes that are not UTF-8 are kept as surrogates rather than failing the read:
    encoded back with ``errors="surrogateescape"`` they come out exactly as they were.
    """
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of ``path``, stripped of spaces.

    Raises
    ------
    IngestError
        The file cannot be opened, is empty, or its first line is not CSV.
    """
    try:
        with open_csv(path) as stream:
            header = next(csv.reader(stream), None)
    except (OSError, csv.Error) as exc:
        raise IngestError(f"cannot read the header line of {path}: {exc}") from exc
    if not header:
        raise IngestError(f"expected a header line of column names in {path}, found none")
    return [name.strip() for name in header]
