"""Office Open XML (docx, xlsx, pptx): the text of its XML parts, the targets of its links.

Text lives in ``t`` elements of every part that holds any (``w:t`` in Word,
``a:t`` in PowerPoint, ``t`` in Excel's shared and inline strings); paragraphs
and rows end lines. Hyperlinks, and remote templates (a way to fetch a payload
when the file opens), are external targets in the ``.rels`` parts. Word's field
codes (``HYPERLINK "..."``) are searched for URLs. A macro project
(``vbaProject.bin``) is flagged ``office:macros``.
"""

from __future__ import annotations

import re
import zipfile

from spamsift.parse.extract.archives import member_chunks
from spamsift.parse.extract.budget import Broken, Budget, Sink
from spamsift.parse.extract.xmltext import XmlRules, read_xml

__all__ = ["zip_kind", "extract_ooxml", "OOXML_KINDS"]

OOXML_KINDS = ("docx", "xlsx", "pptx")
_ODF_TYPES = {"application/vnd.oasis.opendocument.text": "odt",
              "application/vnd.oasis.opendocument.spreadsheet": "ods",
              "application/vnd.oasis.opendocument.presentation": "odp"}

# The parts that hold text, in reading order (a number in a name sorts as a number).
_TEXT_PARTS = {
    "docx": re.compile(r"word/(?:document|footnotes|endnotes|comments|header\d*|footer\d*)\.xml"),
    "xlsx": re.compile(r"xl/(?:sharedStrings|worksheets/sheet\d+)\.xml"),
    "pptx": re.compile(r"ppt/(?:slides/slide\d+|notesSlides/notesSlide\d+)\.xml"),
}
_RULES = XmlRules(text=frozenset({"t"}), url_text=frozenset({"instrText"}),
                  breaks=frozenset({"p", "si", "row", "tr"}))
_RELS = XmlRules(text=frozenset(), relationships=True)
_NUMBER = re.compile(r"(\d+)")


def zip_kind(zf: zipfile.ZipFile) -> str:
    """``docx``, ``xlsx``, ``pptx``, ``odt``, ``ods``, ``odp`` or ``zip`` (an archive),
    from the member names (and OpenDocument's ``mimetype`` member)."""
    names = {i.filename for i in zf.filelist}
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names or "xl/sharedStrings.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "mimetype" in names:
        info = zf.getinfo("mimetype")
        if info.file_size <= 100:
            try:
                mime = zf.read(info).decode("ascii", "replace").strip()
            except Exception:  # unreadable: then it is no OpenDocument file
                return "zip"
            return _ODF_TYPES.get(mime, "zip")
    return "zip"


def _order(name: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in _NUMBER.split(name)]


def extract_ooxml(zf: zipfile.ZipFile, kind: str, sink: Sink, budget: Budget) -> None:
    """Text and links of an Office Open XML package of ``kind`` into ``sink``."""
    pattern = _TEXT_PARTS[kind]
    infos = zf.filelist
    if any(i.filename.lower().endswith("vbaproject.bin") for i in infos):
        budget.flag("office:macros")
    broken = False
    for info in sorted((i for i in infos if i.filename.endswith(".rels")),
                       key=lambda i: _order(i.filename)):
        try:
            read_xml(member_chunks(zf, info, budget), _RELS, sink)
        except Broken:
            broken = True
    for info in sorted((i for i in infos if pattern.fullmatch(i.filename)),
                       key=lambda i: _order(i.filename)):
        if budget.full:
            break
        try:
            read_xml(member_chunks(zf, info, budget), _RULES, sink)
        except Broken:
            broken = True
    if broken:
        raise Broken("a part could not be read")
