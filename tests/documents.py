"""Documents the tests and benchmarks write themselves: PDF, OOXML, OpenDocument, RTF,
zip archives, and messages that carry them.

Every builder writes the smallest file a reader accepts, by hand (the PDF's
objects and cross-reference table; the Office files' XML inside a zip), so a test
says exactly what is in the file it feeds the extractors, and hostile variants
(compression bombs, huge page trees, deep nesting) are a parameter away.
"""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from collections.abc import Sequence

__all__ = ["pdf", "docx", "xlsx", "pptx", "odf", "rtf", "zip_of", "message_with",
           "pdf_escape", "OOXML_TYPES"]


def pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(text: str) -> bytes:
    lines = text.split("\n")
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        ops.append(f"({pdf_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1", "replace")


def _assemble(objects: Sequence[bytes], root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF file of ``objects`` (object i+1 is objects[i]) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root %d 0 R " % (len(objects) + 1, root) + trailer_extra
            + b">>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


def _stream(data: bytes, compress: bool, extra: bytes = b"") -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pdf(pages: Sequence[str] = ("Hello",), *, links: Sequence[str] = (), compress: bool = False,
        raw_content: bytes | None = None, n_pages: int | None = None) -> bytes:
    """A PDF with one page per text (Helvetica, one line per ``\\n``).

    ``links``: URI link annotations on the first page. ``raw_content``: this content
    stream (already encoded, compressed with ``compress``) on every page instead of
    the texts. ``n_pages``: that many pages sharing the first page's content stream
    (a huge page count at a few bytes a page).
    """
    # 1 catalog, 2 page tree, 3 font, then each page and its content stream.
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    annots = []
    for url in links:
        objects.append(b"<< /Type /Annot /Subtype /Link /Rect [72 600 300 620] /Border [0 0 0]"
                       b" /A << /S /URI /URI (" + pdf_escape(url).encode("latin-1") + b") >> >>")
        annots.append(len(objects))
    kids = []
    texts = list(pages)
    count = n_pages if n_pages is not None else len(texts)
    content_ref = None
    for i in range(count):
        if content_ref is None or n_pages is None:
            data = raw_content if raw_content is not None else _content(texts[i % len(texts)])
            objects.append(_stream(data, compress))
            content_ref = len(objects)
        annot = (b" /Annots [" + b" ".join(b"%d 0 R" % a for a in annots) + b"]"
                 if annots and i == 0 else b"")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources"
                       b" << /Font << /F1 3 0 R >> >> /Contents %d 0 R%s >>"
                       % (content_ref, annot))
        kids.append(len(objects))
    objects[1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                  + b"] /Count %d >>" % len(kids))
    return _assemble(objects)


def pdf_nested(depth: int) -> bytes:
    """A one-page PDF whose page dictionary holds an array nested ``depth`` deep."""
    nest = b"[" * depth + b"]" * depth
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Deep " + nest + b" >>",
               _stream(_content("nested"), False)]
    return _assemble(objects)


def pdf_deep_pages(depth: int) -> bytes:
    """A PDF whose page tree is a chain of ``depth`` /Pages nodes above one page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for i in range(depth):
        parent = b" /Parent %d 0 R" % (i + 1) if i else b""
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (i + 3, parent))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>"
                   % (depth + 1, depth + 3))
    objects.append(_stream(_content("deep page"), False))
    return _assemble(objects)


# Office Open XML: the parts a reader needs, and the XML the text lives in.

OOXML_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_R = "http://schemas.openxmlformats.org/package/2006/relationships"
_HYPERLINK = _R + "/hyperlink"


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rels(links: Sequence[str]) -> str:
    rel = "".join(f'<Relationship Id="rId{i}" Type="{_HYPERLINK}" Target="{_x(u)}" '
                  f'TargetMode="External"/>' for i, u in enumerate(links, start=10))
    return (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_R}">{rel}'
            "</Relationships>")


def _zip(files: dict[str, str | bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def docx(paragraphs: Sequence[str], links: Sequence[str] = (), *, prolog: str = "",
         macros: bool = False) -> bytes:
    """A Word document: one paragraph per string, ``links`` as external hyperlinks.

    ``prolog`` goes between the XML declaration and the root (a DOCTYPE, for the
    entity tests).
    """
    body = "".join(f"<w:p><w:r><w:t>{_x(p)}</w:t></w:r></w:p>" for p in paragraphs)
    body += "".join(f'<w:p><w:hyperlink r:id="rId{i}"><w:r><w:t>link</w:t></w:r></w:hyperlink>'
                    f"</w:p>" for i, _ in enumerate(links, start=10))
    doc = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document xmlns:w="{_W}" '
           f'xmlns:r="{_R}"><w:body>{body}</w:body></w:document>')
    files: dict[str, str | bytes] = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.'
                               'openxmlformats.org/package/2006/content-types"/>',
        "word/document.xml": doc,
        "word/_rels/document.xml.rels": _rels(links),
    }
    if macros:
        files["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b"\0" * 60
    return _zip(files)


def xlsx(cells: Sequence[str], links: Sequence[str] = ()) -> bytes:
    """A workbook whose shared strings are ``cells`` (one sheet using them)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sst = "".join(f"<si><t>{_x(c)}</t></si>" for c in cells)
    rows = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>'
                   for i in range(len(cells)))
    return _zip({
        "[Content_Types].xml": "<Types/>",
        "xl/workbook.xml": f'<workbook xmlns="{ns}"/>',
        "xl/sharedStrings.xml": f'<sst xmlns="{ns}" count="{len(cells)}">{sst}</sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData>'
                                    f"</worksheet>",
        "xl/worksheets/_rels/sheet1.xml.rels": _rels(links),
    })


def pptx(slides: Sequence[str], links: Sequence[str] = ()) -> bytes:
    """A presentation with one text box per slide."""
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    files: dict[str, str | bytes] = {"[Content_Types].xml": "<Types/>",
                                     "ppt/presentation.xml": f'<p:presentation xmlns:p="{p}"/>'}
    for i, text in enumerate(slides, start=1):
        files[f"ppt/slides/slide{i}.xml"] = (
            f'<p:sld xmlns:p="{p}" xmlns:a="{a}"><p:cSld><p:spTree><p:sp><p:txBody>'
            f"<a:p><a:r><a:t>{_x(text)}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree>"
            f"</p:cSld></p:sld>")
        files[f"ppt/slides/_rels/slide{i}.xml.rels"] = _rels(links if i == 1 else ())
    return _zip(files)


ODF_TYPES = {"odt": "application/vnd.oasis.opendocument.text",
             "ods": "application/vnd.oasis.opendocument.spreadsheet",
             "odp": "application/vnd.oasis.opendocument.presentation"}


def odf(paragraphs: Sequence[str], links: Sequence[str] = (), kind: str = "odt") -> bytes:
    """An OpenDocument file (``kind``: odt, ods, odp) of paragraphs and links."""
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    xlink = "http://www.w3.org/1999/xlink"
    body = "".join(f"<text:p>{_x(p)}</text:p>" for p in paragraphs)
    body += "".join(f'<text:p><text:a xlink:href="{_x(u)}">here</text:a></text:p>'
                    for u in links)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               f'xmlns:office="{office}" xmlns:text="{text_ns}" xmlns:xlink="{xlink}">'
               f"<office:body><office:text>{body}</office:text></office:body>"
               f"</office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), ODF_TYPES[kind])  # stored, first
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", "<manifest/>", zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def rtf(text: str, link: str | None = None) -> bytes:
    """An RTF document with ``text`` (one paragraph per line) and a HYPERLINK field."""
    body = "\\par\n".join(text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
                          .split("\n"))
    if link:
        body += ('\\par\n{\\field{\\*\\fldinst{HYPERLINK "' + link + '"}}'
                 '{\\fldrslt{click here}}}')
    return ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times;}}\\f0\\fs24 " + body + "}").encode()


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``members`` (name -> bytes)."""
    return _zip(dict(members), method)  # type: ignore[arg-type]


def message_with(attachments: Sequence[tuple[str, str, bytes]], body: str = "See attached.",
                 subject: str = "Documents", html: str | None = None) -> bytes:
    """A multipart/mixed message: a text body (and ``html``), then each
    ``(filename, content_type, data)`` as a base64 attachment."""
    out = [b"From: Sender <sender@example.org>", b"To: you@example.net",
           b"Subject: " + subject.encode(), b"Date: Mon, 1 Jan 2024 10:00:00 +0000",
           b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="BOUNDARY"', b"",
           b"--BOUNDARY", b"Content-Type: text/plain; charset=utf-8", b"", body.encode()]
    if html is not None:
        out += [b"--BOUNDARY", b"Content-Type: text/html; charset=utf-8", b"", html.encode()]
    for name, ctype, data in attachments:
        out += [b"--BOUNDARY", f'Content-Type: {ctype}; name="{name}"'.encode(),
                b"Content-Transfer-Encoding: base64",
                f'Content-Disposition: attachment; filename="{name}"'.encode(), b"",
                base64.encodebytes(data).rstrip()]
    out += [b"--BOUNDARY--", b""]
    return b"\n".join(out)
