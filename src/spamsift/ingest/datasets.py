"""Text datasets (CSV or JSON Lines with ``text`` and ``label``), each row made a message.

Public spam datasets such as the SMS Spam Collection or Enron-spam exports often hold
bodies without headers. Wrapping each in a minimal RFC 822 message lets the rest of
the pipeline treat them like mail; a header names them as synthetic so that features
can tell (and no one mistakes them for real mail).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from email.header import Header
from pathlib import Path
from typing import BinaryIO

from spamsift.exceptions import IngestError
from spamsift.ingest.files import check_file
from spamsift.ingest.labels import normalise_label
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, capped_meta, check_max_bytes
from spamsift.ingest.message import RawMessage
from spamsift.ingest.report import IngestReport, ensure_report
from spamsift.ingest.tables import csv_header, csv_rows

__all__ = ["read_text_dataset", "synthetic_message", "DATASET_COLUMNS", "SYNTHETIC_HEADER"]

#: The columns (CSV) or keys (JSON Lines) every row must have; ``subject`` is optional.
DATASET_COLUMNS = ("text", "label")
#: The header every synthetic message carries, and its value.
SYNTHETIC_HEADER = ("X-Spamsift-Synthetic", "text-dataset")

_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_OWN_FIELDS = (*DATASET_COLUMNS, "subject")


def synthetic_message(text: str, subject: str = "") -> bytes:
    """A minimal RFC 822 message holding ``text`` as its UTF-8 plain-text body.

    Examples
    --------
    >>> synthetic_message("Win now", "Hi").decode().splitlines()[:2]
    ['Subject: Hi', 'X-Spamsift-Synthetic: text-dataset']
    """
    # A line break in a subject would start a header of the data's choosing.
    subject = " ".join(_utf8(subject).decode("utf-8", "replace").split())
    if not subject.isascii():
        subject = Header(subject, "utf-8").encode()
    head = (
        f"Subject: {subject}\n"
        f"{SYNTHETIC_HEADER[0]}: {SYNTHETIC_HEADER[1]}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
    )
    return head.encode("ascii") + _utf8(text)


def _utf8(text: str) -> bytes:
    # Undecodable CSV bytes were kept as surrogate escapes and go back as they came;
    # a lone surrogate from a JSON "\ud800" has no bytes to go back to.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def read_text_dataset(
    path: str | os.PathLike[str],
    *,
    file_format: str = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield each row of a text dataset as a synthetic message, in file order.

    Rows with a label other than spam/ham/1/0, without a text, or that cannot be parsed
    are skipped and recorded in the report with their reason. Columns other than
    ``text``, ``label`` and ``subject`` go to ``meta``.

    Parameters
    ----------
    path : path-like
        The dataset. Each ``source`` is ``PATH#LINE``, the line the row starts on
        (counting from 1, the CSV header being line 1).
    file_format : {"auto", "csv", "jsonl"}
        ``auto`` goes by the suffix: ``.csv``, or ``.jsonl``/``.ndjson``.
    max_bytes : int
        The per-message size cap, applied to the synthetic message. A JSON line longer
        than four times the cap is skipped unread.
    report : IngestReport, optional
        Counts what was read and what was skipped, with why.

    Raises
    ------
    IngestError
        The file does not exist, its format cannot be told, or a CSV header lacks
        ``text`` or ``label``.
    """
    path = Path(path)
    check_max_bytes(max_bytes)
    check_file(path, "a text dataset")
    if file_format == "auto":
        file_format = _FORMATS.get(path.suffix.lower(), "auto")
    report = ensure_report(report)
    if file_format == "csv":
        header = csv_header(path)
        missing = [name for name in DATASET_COLUMNS if name not in header]
        if missing:
            raise IngestError(
                f"expected dataset columns {', '.join(DATASET_COLUMNS)} in {path}, "
                f"missing {', '.join(missing)}; found {', '.join(header)}"
            )
        return _iter_csv(path, max_bytes, report)
    if file_format == "jsonl":
        return _iter_jsonl(path, max_bytes, report)
    raise IngestError(
        f"expected file_format 'csv' or 'jsonl' (or a .csv/.jsonl/.ndjson file), "
        f"got {file_format!r} for {path}"
    )


def _iter_csv(path: Path, max_bytes: int, report: IngestReport) -> Iterator[RawMessage]:
    # csv refuses fields over 128 KiB by default, shorter than many mails. The limit is
    # process-wide; it is only ever raised, so no other reader is hurt.
    if csv.field_size_limit() < max_bytes:
        csv.field_size_limit(max_bytes)
    for where, row in csv_rows(path, report):
        message = _message(row, where, max_bytes, report)
        if message is not None:
            yield report.record(message)


def _iter_jsonl(path: Path, max_bytes: int, report: IngestReport) -> Iterator[RawMessage]:
    limit = 4 * max_bytes
    with open(path, "rb") as stream:
        number = 0
        while line := stream.readline(limit + 1):
            number += 1
            where = f"{path.as_posix()}#{number}"
            if len(line) > limit and not line.endswith(b"\n"):
                _drain_line(stream)
                report.skip(where, "record too long", f"over {limit} bytes")
                continue
            if not line.strip():
                continue  # a blank line is not a record
            try:
                record = json.loads(line)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both
                report.skip(where, "invalid json", str(exc))
                continue
            if not isinstance(record, dict):
                kind = type(record).__name__
                report.skip(where, "malformed row", f"a JSON {kind}, not an object")
                continue
            message = _message(record, where, max_bytes, report)
            if message is not None:
                yield report.record(message)


def _drain_line(stream: BinaryIO) -> None:
    """Read past the rest of the current line without holding it."""
    while (chunk := stream.readline(64 * 1024)) and not chunk.endswith(b"\n"):
        pass


def _message(
    row: Mapping[str, object], where: str, max_bytes: int, report: IngestReport
) -> RawMessage | None:
    text, subject = row.get("text"), row.get("subject") or ""
    if not isinstance(text, str):
        report.skip(where, "missing text", f"text is {type(text).__name__}, not a string")
        return None
    label = normalise_label(row.get("label"))
    if label is None:
        report.skip(where, "unknown label", f"{row.get('label')!r} is not spam, ham, 1 or 0")
        return None
    data = synthetic_message(text, subject if isinstance(subject, str) else str(subject))
    meta = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in row.items()
        if name not in _OWN_FIELDS
    }
    truncated = len(data) > max_bytes
    return RawMessage(where, data[:max_bytes], label, None, capped_meta(meta, truncated))
