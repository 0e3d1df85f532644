"""What an attachment really is: its first bytes first, then its declared type and name.

Senders lie about types (an "invoice.pdf" that is a zip, a PDF sent as
application/octet-stream), so magic bytes decide wherever a format has them. HTML
and SVG have none that is reliable; they go by declared type, name, or a leading
tag. A zip container is told apart (docx, xlsx, pptx, OpenDocument, plain
archive) by its member names, in :mod:`~spamsift.parse.extract.office`.
"""

from __future__ import annotations

import re

__all__ = ["sniff", "extension", "ZIP", "IMAGE", "UNSUPPORTED"]

#: A zip file: Office Open XML, OpenDocument or an archive.
ZIP = "zip"
#: A raster image (the images extractor's).
IMAGE = "image"
#: Formats recognised but not extracted (flag ``extract:skipped:KIND``).
UNSUPPORTED = frozenset({"ole", "rar", "7z", "gzip", "cab", "exe"})

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", ZIP), (b"PK\x05\x06", ZIP),
    (b"{\\rtf", "rtf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),  # legacy Office, or encrypted OOXML
    (b"\x89PNG\r\n\x1a\n", IMAGE), (b"\xff\xd8\xff", IMAGE), (b"GIF87a", IMAGE),
    (b"GIF89a", IMAGE), (b"II*\x00", IMAGE), (b"MM\x00*", IMAGE),
    (b"Rar!\x1a\x07", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\x1f\x8b", "gzip"),
    (b"MSCF", "cab"), (b"MZ", "exe"),
)
_BY_EXT = {
    "pdf": "pdf", "rtf": "rtf", "htm": "html", "html": "html", "xhtml": "html",
    "shtml": "html", "svg": "svg", "docx": ZIP, "docm": ZIP, "xlsx": ZIP, "xlsm": ZIP,
    "pptx": ZIP, "pptm": ZIP, "odt": ZIP, "ods": ZIP, "odp": ZIP, "zip": ZIP,
}
_BY_TYPE = {
    "application/pdf": "pdf", "application/rtf": "rtf", "text/rtf": "rtf",
    "text/html": "html", "application/xhtml+xml": "html", "image/svg+xml": "svg",
    "application/zip": ZIP, "application/x-zip-compressed": ZIP,
}
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body)\b", re.I)
_SVG_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}>\s*)?(?:<!--.{0,500}?-->\s*)?"
                        rb"(?:<!doctype\s+svg[^>]{0,300}>\s*)?<svg\b", re.I | re.S)


def extension(filename: str) -> str:
    """The lower-case extension of ``filename`` ('' if none)."""
    base = filename.rpartition("/")[2]
    return base.rpartition(".")[2].lower()[:10] if "." in base else ""


def sniff(content: bytes, content_type: str, filename: str) -> str | None:
    """The kind of an attachment: ``pdf``, ``rtf``, ``html``, ``svg``, :data:`ZIP`,
    :data:`IMAGE`, one of :data:`UNSUPPORTED`, or None for anything else.

    >>> sniff(b"%PDF-1.7 ...", "application/octet-stream", "scan.bin")
    'pdf'
    >>> sniff(b"PK\\x03\\x04...", "application/pdf", "invoice.pdf")
    'zip'
    >>> sniff(b"<html><body>hi", "application/octet-stream", "")
    'html'
    """
    head = content[:1024]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "exe" and not _plausible_exe(content):
                break
            return kind
    # Acrobat takes the header anywhere in the first kilobyte; so do droppers. (After
    # the magic at the start: a zip's first member may be a stored PDF.)
    if b"%PDF-" in head:
        return "pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE
    if _SVG_START.match(head):
        return "svg"
    if _HTML_START.match(head):
        return "html"
    declared = _BY_TYPE.get(content_type.lower()) or _BY_EXT.get(extension(filename))
    if declared in ("pdf", "rtf", ZIP):
        # Claimed but without the magic: read it anyway, so that it is flagged broken.
        return declared
    if declared in ("html", "svg"):
        return declared
    if content_type.lower().startswith("image/"):
        return IMAGE
    return None


def _plausible_exe(content: bytes) -> bool:
    # "MZ" opens plenty of text; a PE file says where its "PE\0\0" header is.
    if len(content) < 64:
        return False
    off = int.from_bytes(content[60:64], "little")
    return content[off:off + 4] == b"PE\x00\x00"
