"""Zip files read within bounds: the container of Office files, and archives one level down.

A member is decompressed in chunks and counted against the message's
decompressed-bytes budget as it is, so its declared size (which a zip bomb lies
about) never matters. Past its first 64 KiB, a member that has grown more than
``max_expansion_ratio`` times its compressed size is a bomb (flag
``extract:bomb``) and is not read further. Encrypted members are skipped (flag
``zip:encrypted``). Only the first ``max_archive_members`` entries are looked at.

An archive's member names become a part of their own (source ``zip``), and its
members that are documents are extracted as attachments are, one level down: an
archive inside an archive is not opened (flag ``extract:nested_archive``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

from spamsift.parse.extract.budget import Broken, Budget, Sink
from spamsift.parse.extract.sniff import extension

__all__ = ["open_zip", "member_chunks", "read_member", "extract_archive", "MEMBER_EXTENSIONS"]

_CHUNK = 64 * 1024
# Extensions of members worth reading out of an archive: documents and images.
MEMBER_EXTENSIONS = frozenset({
    "pdf", "rtf", "htm", "html", "xhtml", "shtml", "svg", "docx", "docm", "xlsx", "xlsm",
    "pptx", "pptm", "odt", "ods", "odp", "png", "jpg", "jpeg", "gif", "bmp", "webp",
    "tif", "tiff", "zip",
})

# (content, content type, filename) -> nothing: extracts one member as an attachment.
Extract = Callable[[bytes, str, str], None]


def open_zip(content: bytes, budget: Budget) -> zipfile.ZipFile:
    """The zip file ``content`` holds; :class:`Broken` if it holds none.

    The central directory is read whole by the zipfile module (Python; ~2 µs an
    entry, under the watchdog's deadline); entries past ``max_archive_members``
    are then ignored.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            NotImplementedError, UnicodeDecodeError) as exc:
        raise Broken(f"not a zip file: {exc}") from None
    if len(zf.filelist) > budget.limits.max_archive_members:
        budget.flag("truncated:archive_members")
        del zf.filelist[budget.limits.max_archive_members:]
    return zf


def member_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget,
                  max_bytes: int | None = None) -> Iterator[bytes]:
    """The decompressed bytes of one member in chunks, within the budget and ratio.

    Stops quietly (flagged) at a cap. Raises :class:`Broken` for a member that
    cannot be read (bad data, unsupported method); skips an encrypted one.
    """
    if info.flag_bits & 0x1:
        budget.flag("zip:encrypted")
        return
    limit = budget.limits
    cap = max_bytes if max_bytes is not None else limit.max_expanded_bytes
    read = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(min(_CHUNK, cap - read + 1))
                if not chunk:
                    return
                read += len(chunk)
                if read > cap:
                    budget.flag("extract:too_big")
                    return
                if not budget.expand(len(chunk)):
                    return
                if read > _CHUNK and read > limit.max_expansion_ratio * max(info.compress_size, 1):
                    budget.flag("extract:bomb")
                    return
                yield chunk
    except Exception as exc:
        # Whatever the decompressors raise on hostile data: zipfile.BadZipFile (CRC,
        # headers), zlib.error, lzma.LZMAError, NotImplementedError (an unknown
        # method), EOFError, ... The deadline's Expired is not an Exception.
        raise Broken(f"member {info.filename!r}: {type(exc).__name__}: {exc}") from None


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget,
                max_bytes: int) -> bytes | None:
    """A whole member (for a document inside an archive), or None past a cap."""
    out = bytearray()
    for chunk in member_chunks(zf, info, budget, max_bytes):
        out += chunk
    if len(out) != info.file_size:
        return None  # cut at a cap (flagged) or shorter than declared
    return bytes(out)


def extract_archive(zf: zipfile.ZipFile, filename: str, sink: Sink, budget: Budget,
                    extract: Extract, nested: bool) -> None:
    """Member names into ``sink``; document members through ``extract``, one level down."""
    members = [i for i in zf.filelist if not i.is_dir()]
    for info in members:
        if not sink.text(info.filename[:255] + "\n"):
            break
    if nested:
        budget.flag("extract:nested_archive")
        return
    for info in members:
        if budget.full:
            break
        ext = extension(info.filename)
        if ext not in MEMBER_EXTENSIONS:
            continue
        if ext == "zip":
            budget.flag("extract:nested_archive")
            continue
        if budget.parts_left <= 0:
            budget.flag("truncated:extract_parts")
            break
        if info.file_size > budget.limits.max_attachment_bytes:
            budget.flag("extract:too_big")
            continue
        try:
            data = read_member(zf, info, budget, budget.limits.max_attachment_bytes)
        except Broken:
            budget.flag("extract:broken:zip")
            continue
        if data is not None:
            extract(data, "", f"{filename or 'archive.zip'}/{info.filename[:255]}")
