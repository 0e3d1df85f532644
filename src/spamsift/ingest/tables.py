"""Opening the CSV files that indexes and text datasets come in."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from spamsift.exceptions import IngestError
from spamsift.ingest.report import IngestReport

__all__ = ["open_csv", "csv_header", "csv_rows"]


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


def csv_rows(path: Path, report: IngestReport) -> Iterator[tuple[str, dict[str, str]]]:
    """``(PATH#LINE, row)`` for each data row, keyed by the stripped header names.

    Rows that are not CSV or have the wrong number of fields are reported as
    ``malformed row`` and skipped; blank lines are not rows.
    """
    with open_csv(path) as stream:
        rows = csv.reader(stream)
        header = [name.strip() for name in next(rows, [])]
        while True:
            where = f"{path.as_posix()}#{rows.line_num + 1}"
            try:
                values = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:
                report.skip(where, "malformed row", str(exc))
                continue
            if not values:
                continue
            if len(values) != len(header):
                detail = f"{len(values)} fields where the header has {len(header)}"
                report.skip(where, "malformed row", detail)
                continue
            yield where, dict(zip(header, values, strict=True))
