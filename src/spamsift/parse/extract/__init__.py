"""Attachment text: what a PDF, an Office file, an RTF, an HTML page or a zip says.

Phishing hides where a spam filter does not look: the text and the link are in
the attachment. :func:`extract_attachments` runs during parsing
(:func:`spamsift.parse.parse_message`) over every attachment of a message, in
order, and returns :class:`~spamsift.parse.message.ExtractedPart`\\ s whose text and
URLs become evidence (``pdf:invoice``, ``pdf:url_host:example.com``).

The kind is sniffed from the bytes first (:mod:`.sniff`), then the declared type
and name. One extractor per format, each a small module: :mod:`.pdf` (pypdf),
:mod:`.office` (docx, xlsx, pptx) and :mod:`.odf` (odt, ods, odp) over :mod:`.xmltext`
(expat, DTDs refused), :mod:`.rtf` (a linear scanner), HTML and SVG through the
body's own :func:`~spamsift.parse.html.html_to_text`, and :mod:`.archives` (zip,
one level down). Images are the images extractor's (QR codes, OCR).

All input is hostile. Caps in :class:`~spamsift.config.ParseLimits`: bytes of an
attachment, parts, characters, PDF pages, zip members, decompressed bytes and
expansion ratio, and one wall-clock deadline for the whole message
(:mod:`.deadline`). Past a cap what was read is kept and a flag says why
(``truncated:extract``, ``truncated:extract_time``, ``extract:bomb``, ...);
unreadable files are flagged ``extract:broken:KIND``, encrypted ones
``pdf:encrypted``, ``zip:encrypted`` or ``office:encrypted``. Nothing raises.
"""

from __future__ import annotations

from spamsift.config import ParseLimits
from spamsift.parse.charsets import decode_text
from spamsift.parse.extract.archives import extract_archive, open_zip
from spamsift.parse.extract.budget import Broken, Budget, Sink
from spamsift.parse.extract.deadline import Expired, deadline
from spamsift.parse.extract.odf import ODF_KINDS, extract_odf
from spamsift.parse.extract.office import OOXML_KINDS, extract_ooxml, zip_kind
from spamsift.parse.extract.pdf import extract_pdf
from spamsift.parse.extract.rtf import extract_rtf
from spamsift.parse.extract.sniff import IMAGE, UNSUPPORTED, ZIP, extension, sniff
from spamsift.parse.html import html_to_text
from spamsift.parse.message import ExtractedPart
from spamsift.parse.urls import find_urls

__all__ = ["extract_attachments", "sniff", "SOURCES", "FLAGS"]

#: Every ``source`` an extracted part can have here (the images extractor adds ``qr``
#: and ``ocr``).
SOURCES = ("pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "rtf", "html-attachment",
           "svg", "zip")
#: Every flag extraction can set.
FLAGS = frozenset({
    # caps reached: what was read before is kept
    "truncated:extract", "truncated:extract_time", "truncated:extract_parts",
    "truncated:expanded_bytes", "truncated:pdf_pages", "truncated:pdf_limits",
    "truncated:archive_members", "truncated:rtf_depth", "extract:too_big", "extract:bomb",
    "extract:nested_archive",
    # unreadable, or not read
    "extract:xml_dtd", *(f"extract:broken:{k}" for k in SOURCES),
    *(f"extract:skipped:{k}" for k in UNSUPPORTED),
    # what the files hold
    "pdf:encrypted", "pdf:locked", "pdf:javascript", "pdf:launch", "pdf:embedded_file",
    "zip:encrypted", "office:encrypted", "office:macros", "rtf:object",
    "html-attachment:form", "html-attachment:script",
})
_OOXML_EXT = {"docx": "docx", "docm": "docx", "xlsx": "xlsx", "xlsm": "xlsx",
              "pptx": "pptx", "pptm": "pptx"}
_CHARSET_PARAM = "charset="


def extract_attachments(items: list[tuple[bytes, str, str]], limits: ParseLimits,
                        flags: set[str]) -> list[ExtractedPart]:
    """The parts extracted from ``items`` (content, content type, filename), in order.

    Never raises on bad input: flags say what was cut, skipped or broken.
    """
    budget = Budget(limits, flags)
    parts: list[ExtractedPart] = []
    if not items:
        return parts
    images: list[tuple[int, bytes, str, str]] = []  # (where in parts, content, type, name)
    try:
        with deadline(limits.extract_seconds):
            for content, ctype, fname in items:
                if budget.parts_left <= 0 or budget.full:
                    flags.add("truncated:extract_parts" if budget.parts_left <= 0
                              else "truncated:extract")
                    break
                _extract(content, ctype, fname, budget, parts, images, nested=False)
    except Expired:
        flags.add("truncated:extract_time")
    return _with_images(parts, images, limits, flags)


def _with_images(parts: list[ExtractedPart], images: list[tuple[int, bytes, str, str]],
                 limits: ParseLimits, flags: set[str]) -> list[ExtractedPart]:
    """``parts`` with each image's barcodes and text in its place. Images run after the
    deadline above, under their own caps and OCR clock (``limits.images``)."""
    if not images:
        return parts
    from spamsift.parse.extract.images import ImageBudget, extract_image

    budget = ImageBudget(limits.images)
    out: list[ExtractedPart] = []
    done = 0
    for at, content, ctype, fname in images:
        out += parts[done:at]
        done = at
        for part in extract_image(content, ctype.partition(";")[0].strip(), fname[:255],
                                  limits.images, flags, budget):
            part.urls = find_urls(part.text, 50)  # a QR code's link, a picture's URL
            out.append(part)
    return out + parts[done:]


def _extract(content: bytes, ctype: str, fname: str, budget: Budget,
             parts: list[ExtractedPart], images: list[tuple[int, bytes, str, str]],
             nested: bool) -> None:
    """Extract one attachment (or archive member) into ``parts``; images are set aside
    in ``images`` for :func:`_with_images`."""
    kind = sniff(content, ctype, fname)
    if kind is None:
        return
    if kind == IMAGE:
        images.append((len(parts), content, ctype, fname))
        return
    if kind in UNSUPPORTED:
        if kind == "ole" and extension(fname) in _OOXML_EXT:
            budget.flag("office:encrypted")  # an encrypted docx is an OLE file
        else:
            budget.flag(f"extract:skipped:{kind}")
        return
    if len(content) > budget.limits.max_attachment_bytes:
        budget.flag("extract:too_big")
        return
    source = kind
    sink = Sink(budget)
    start = len(parts)
    budget.parts_left -= 1
    try:
        if kind == "pdf":
            extract_pdf(content, sink, budget)
        elif kind == "rtf":
            extract_rtf(content, sink, budget)
        elif kind in ("html", "svg"):
            source = "html-attachment" if kind == "html" else "svg"
            _extract_html(content, ctype, sink, budget)
        else:  # ZIP
            zf = open_zip(content, budget)
            source = zip_kind(zf)
            if source in OOXML_KINDS:
                extract_ooxml(zf, source, sink, budget)
            elif source in ODF_KINDS:
                extract_odf(zf, sink, budget)
            else:
                source = ZIP

                def member(data: bytes, mtype: str, mname: str) -> None:
                    _extract(data, mtype, mname, budget, parts, images, nested=True)

                extract_archive(zf, fname, sink, budget, member, nested)
    except Broken:
        budget.flag(f"extract:broken:{source}")
    except Exception:  # a bug or a library's surprise: the message is still scored
        budget.flag(f"extract:broken:{source}")
    finally:
        # Also on Expired: what was read before the deadline is kept.
        text, urls = sink.result()
        if text.strip() or urls:
            ctype = ctype.partition(";")[0].strip()
            parts.insert(start, ExtractedPart(source, ctype, fname[:255], text, urls))


def _extract_html(content: bytes, ctype: str, sink: Sink, budget: Budget) -> None:
    lower = ctype.lower()
    declared = None
    if _CHARSET_PARAM in lower:
        declared = lower.split(_CHARSET_PARAM, 1)[1].split(";")[0].strip(" \"'")[:40] or None
    limit = budget.limits.max_html_bytes
    text, _ = decode_text(content[: limit * 4], declared, final=len(content) <= limit * 4)
    visible, signals, links = html_to_text(text.replace("\r\n", "\n"), limit, budget.flags)
    if signals.n_forms:
        budget.flag("html-attachment:form")
    if signals.n_scripts:
        budget.flag("html-attachment:script")
    for url in links[:200]:
        sink.link(url)
    sink.text(visible)
