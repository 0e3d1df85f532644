"""Messages kept one to a file: a single file, stdin, or a directory tree of them."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from spamsift.exceptions import IngestError
from spamsift.ingest.labels import normalise_label
from spamsift.ingest.limits import DEFAULT_MAX_BYTES, capped_meta, check_max_bytes, read_capped
from spamsift.ingest.message import RawMessage
from spamsift.ingest.report import IngestReport, ensure_report

__all__ = ["read_file", "read_stdin", "read_directory"]

# O_NONBLOCK so that a FIFO named by an index row cannot hang the read at open();
# it changes nothing for regular files. Neither flag exists everywhere.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_file(
    path: str | os.PathLike[str],
    *,
    label: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield the one message held in a file.

    Parameters
    ----------
    path : path-like
        The message file. Its ``source`` is this path as given, in posix style.
    label : str, optional
        A label for the message (``spam``/``ham``/``1``/``0``), for example when learning.
    max_bytes : int
        Read at most this many bytes; a longer file is cut and flagged ``truncated``.
    report : IngestReport, optional
        Counts what was read.

    Raises
    ------
    IngestError
        The path does not exist, is not a regular file, or cannot be read.
    """
    path = Path(path)
    check_max_bytes(max_bytes)
    label = check_label(label)
    check_file(path, "a message file")
    return _iter_file(path, label, max_bytes, ensure_report(report))


def _iter_file(
    path: Path, label: str | None, max_bytes: int, report: IngestReport
) -> Iterator[RawMessage]:
    # A throwaway report: a single-file source that cannot be read is an error, not a skip.
    failed = IngestReport()
    message = read_message_file(path, path.as_posix(), failed, max_bytes, label=label)
    if message is None:
        why = failed.skipped[0]
        raise IngestError(f"cannot read message file {path}: {why.reason} ({why.detail})")
    yield report.record(message)


def read_stdin(
    *,
    label: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield the one message on standard input, with ``source="stdin"``.

    Parameters are as for :func:`read_file`. Standard input is read when iteration
    starts, not when this function is called.
    """
    check_max_bytes(max_bytes)
    label = check_label(label)
    return _iter_stdin(label, max_bytes, ensure_report(report))


def _iter_stdin(label: str | None, max_bytes: int, report: IngestReport) -> Iterator[RawMessage]:
    data, truncated = read_capped(sys.stdin.buffer, max_bytes)
    yield report.record(RawMessage("stdin", data, label, None, capped_meta({}, truncated)))


def read_directory(
    root: str | os.PathLike[str],
    *,
    label: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[RawMessage]:
    """Yield every message file under ``root``, recursively, in a reproducible order.

    Names are visited depth first in sorted order. Dotfiles and dot-directories are
    passed over without a report (they are editor, VCS and mail-client litter);
    symlinked directories are not followed (a cycle would never end) and are reported.
    Only one directory's listing is held at a time, never the messages.

    Parameters
    ----------
    root : path-like
        The top directory. Each ``source`` is the file's path relative to it, posix style.
    label : str, optional
        A label to give every message, as for :func:`read_file`.
    max_bytes : int
        The per-message size cap.
    report : IngestReport, optional
        Counts what was read and what was skipped, with why.

    Raises
    ------
    IngestError
        ``root`` does not exist or is not a directory.
    """
    root = Path(root)
    check_max_bytes(max_bytes)
    label = check_label(label)
    check_dir(root, "a directory of message files")
    return iter_tree(root, "", label, max_bytes, ensure_report(report))


def iter_tree(
    top: Path, prefix: str, label: str | None, max_bytes: int, report: IngestReport
) -> Iterator[RawMessage]:
    """Yield the messages under ``top``, each ``source`` being ``prefix`` + relative path."""
    for path, source in walk_files(top, prefix, report):
        message = read_message_file(path, source, report, max_bytes, label=label)
        if message is not None:
            yield report.record(message)


def walk_files(top: Path, prefix: str, report: IngestReport) -> Iterator[tuple[Path, str]]:
    """Yield ``(path, prefix + relative posix path)`` for each regular file under ``top``."""
    try:
        with os.scandir(top) as entries:
            ordered = sorted(entries, key=lambda entry: entry.name)
    except OSError as exc:
        report.skip(prefix.rstrip("/") or ".", "unreadable", exc.strerror or repr(exc))
        return
    for entry in ordered:
        if entry.name.startswith("."):
            continue
        source = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from walk_files(Path(entry.path), source + "/", report)
        elif entry.is_file():
            yield Path(entry.path), source
        elif entry.is_dir():
            report.skip(source, "not followed", "symlink to a directory")
        elif entry.is_symlink():
            report.skip(source, "missing file", "broken symlink")
        else:
            report.skip(source, "not a file", "not a regular file")


def read_message_file(
    path: Path,
    source: str,
    report: IngestReport,
    max_bytes: int,
    *,
    label: str | None = None,
    split: str | None = None,
    meta: dict[str, str] | None = None,
) -> RawMessage | None:
    """The message in ``path``, or None with the reason recorded in ``report``.

    Does not count the message as read: the caller does, as it yields it.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        report.skip(source, "missing file", "no such file")
        return None
    except OSError as exc:
        report.skip(source, "unreadable", exc.strerror or repr(exc))
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        report.skip(source, "not a file", "a directory or device, not a regular file")
        return None
    with open(fd, "rb") as stream:
        try:
            data, truncated = read_capped(stream, max_bytes)
        except OSError as exc:
            report.skip(source, "unreadable", exc.strerror or repr(exc))
            return None
    return RawMessage(source, data, label, split, capped_meta(dict(meta or {}), truncated))


def check_label(label: str | None) -> str | None:
    """``label`` normalised to ``spam``/``ham``, None kept; an :class:`IngestError` otherwise."""
    if label is None:
        return None
    known = normalise_label(label)
    if known is None:
        raise IngestError(f"label must be spam, ham, 1 or 0, got {label!r}")
    return known


def check_file(path: Path, what: str) -> None:
    """Raise an :class:`IngestError` naming ``path`` unless it is an existing file."""
    if not path.exists():
        raise IngestError(f"expected {what}, but {path} does not exist")
    if path.is_dir():
        raise IngestError(f"expected {what}, but {path} is a directory")
    if not path.is_file():
        raise IngestError(f"expected {what}, but {path} is not a regular file")


def check_dir(path: Path, what: str) -> None:
    """Raise an :class:`IngestError` naming ``path`` unless it is an existing directory."""
    if not path.exists():
        raise IngestError(f"expected {what}, but {path} does not exist")
    if not path.is_dir():
        raise IngestError(f"expected {what}, but {path} is not a directory")
