"""Attachment text: each extractor through parse_message, on documents the tests write.

Each case checks the text and the URLs that reach the ParsedMessage, and the
flags for what is encrypted, broken, lied about or cut.
"""

from __future__ import annotations

import io
import zipfile

import pypdf
import pytest

from documents import OOXML_TYPES, docx, message_with, odf, pdf, pptx, rtf, xlsx, zip_of
from spamsift.config import ParseLimits
from spamsift.parse import ParsedMessage, parse_message
from spamsift.parse.extract import sniff

from ._checks import check_parsed

PDF = "application/pdf"


def parse_with(*attachments: tuple[str, str, bytes], limits: ParseLimits | None = None,
               **kw: str) -> ParsedMessage:
    m = parse_message(message_with(attachments, **kw), limits)
    check_parsed(m, limits)
    return m


def only_part(m: ParsedMessage, source: str):  # type: ignore[no-untyped-def]
    parts = [p for p in m.parts if p.source == source]
    assert len(parts) == 1, [(p.source, p.filename) for p in m.parts]
    return parts[0]


@pytest.mark.parametrize(("name", "ctype", "data", "source", "text", "url"), [
    pytest.param("invoice.pdf", PDF,
                 pdf(["Your mailbox is full", "Log in at http://pdf-text.example/in"],
                     links=["http://pdf-annot.example/go"], compress=True),
                 "pdf", "Your mailbox is full", "http://pdf-annot.example/go", id="pdf"),
    pytest.param("letter.docx", OOXML_TYPES["docx"],
                 docx(["Dear customer", "Pay the invoice"], links=["http://docx.example/p"]),
                 "docx", "Pay the invoice", "http://docx.example/p", id="docx"),
    pytest.param("book.xlsx", OOXML_TYPES["xlsx"],
                 xlsx(["Amount due", "Wire to account 1234"], links=["http://xlsx.example/"]),
                 "xlsx", "Wire to account 1234", "http://xlsx.example/", id="xlsx"),
    pytest.param("deck.pptx", OOXML_TYPES["pptx"],
                 pptx(["Quarterly bonus", "Claim it"], links=["http://pptx.example/c"]),
                 "pptx", "Claim it", "http://pptx.example/c", id="pptx"),
    pytest.param("note.odt", "application/vnd.oasis.opendocument.text",
                 odf(["Password expires today"], links=["http://odt.example/r"]),
                 "odt", "Password expires today", "http://odt.example/r", id="odt"),
    pytest.param("sheet.ods", "application/vnd.oasis.opendocument.spreadsheet",
                 odf(["cell text"], kind="ods"), "ods", "cell text", None, id="ods"),
    pytest.param("memo.rtf", "application/rtf",
                 rtf("Urgent {payment} notice\nSecond line", link="http://rtf.example/f"),
                 "rtf", "Urgent {payment} notice\nSecond line", "http://rtf.example/f",
                 id="rtf"),
    pytest.param("login.html", "text/html",
                 b"<html><body><p>Sign in to continue</p>"
                 b"<a href='http://html-att.example/s'>here</a></body></html>",
                 "html-attachment", "Sign in to continue", "http://html-att.example/s",
                 id="html"),
])
def test_extractor_text_and_urls(name: str, ctype: str, data: bytes, source: str, text: str,
                                 url: str | None) -> None:
    m = parse_with((name, ctype, data))
    part = only_part(m, source)
    assert text in part.text
    assert part.filename == name
    assert part.content_type == ctype
    if url is not None:
        assert url in part.urls
        assert url in m.urls
    assert not {f for f in m.flags if f.startswith(("extract:", "truncated:"))}


def test_pdf_text_urls_join_message_urls_after_the_body() -> None:
    m = parse_with(("a.pdf", PDF, pdf(["go to http://in-pdf.example/x"])),
                   body="body link http://body.example/")
    assert m.urls == ["http://body.example/", "http://in-pdf.example/x"]


def rewrite(data: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """The zip ``data`` with ``old`` replaced by ``new`` in one member."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                assert old in body
                body = body.replace(old, new)
            dst.writestr(info, body)
    return buf.getvalue()


def test_word_field_codes_give_urls_not_text() -> None:
    # A HYPERLINK field code (w:instrText) in place of a relationship.
    data = rewrite(docx(["x"]), "word/document.xml", b"<w:t>x</w:t>",
                   b'<w:instrText> HYPERLINK "http://field.example/f" </w:instrText>'
                   b"<w:t>shown</w:t>")
    part = only_part(parse_with(("f.docx", OOXML_TYPES["docx"], data)), "docx")
    assert "http://field.example/f" in part.urls
    assert "HYPERLINK" not in part.text and "shown" in part.text


def test_rtf_unicode_escapes_code_page_and_hidden_groups() -> None:
    data = (b"{\\rtf1\\ansi\\ansicpg1251{\\fonttbl{\\f0 Arial;}}{\\*\\generator Hidden;}"
            b"\\uc1\\u1055?\\'f0\\'e8\\'e2\\'e5\\'f2 {\\info{\\title secret}}world}")
    part = only_part(parse_with(("r.rtf", "application/rtf", data)), "rtf")
    assert part.text == "Привет world"


def test_rtf_object_is_flagged() -> None:
    data = b"{\\rtf1 text{\\object\\objemb{\\*\\objdata 0105000002000000}}}"
    m = parse_with(("o.rtf", "application/rtf", data))
    assert "rtf:object" in m.flags
    assert only_part(m, "rtf").text == "text"


def test_office_macros_flagged() -> None:
    m = parse_with(("m.docm", OOXML_TYPES["docx"], docx(["macro doc"], macros=True)))
    assert "office:macros" in m.flags
    assert "macro doc" in only_part(m, "docx").text


def test_html_attachment_form_is_flagged() -> None:
    m = parse_with(("p.htm", "application/octet-stream",
                    b"<html><form action='http://steal.example/'><input name=pw></form>"
                    b"Enter your password</html>"))
    assert "html-attachment:form" in m.flags
    assert "Enter your password" in only_part(m, "html-attachment").text


def test_zip_members_one_level_down() -> None:
    inner = zip_of({"deeper.pdf": pdf(["too deep"])})
    data = zip_of({"docs/scan.pdf": pdf(["zipped invoice text"]),
                   "letter.docx": docx(["zipped docx text"]), "run.exe": b"MZ...",
                   "inner.zip": inner})
    m = parse_with(("bundle.zip", "application/zip", data))
    listing = only_part(m, "zip")
    assert listing.text.split() == ["docs/scan.pdf", "letter.docx", "run.exe", "inner.zip"]
    assert "zipped invoice text" in only_part(m, "pdf").text
    assert only_part(m, "pdf").filename == "bundle.zip/docs/scan.pdf"
    assert "zipped docx text" in only_part(m, "docx").text
    assert "too deep" not in "".join(p.text for p in m.parts)
    assert "extract:nested_archive" in m.flags


def test_declared_type_and_name_do_not_decide() -> None:
    # A PDF sent as octet-stream named .txt is read as a PDF; a "PDF" that is a zip
    # is read as the zip it is.
    m = parse_with(("notes.bin", "application/octet-stream", pdf(["really a pdf"])),
                   ("invoice.pdf", PDF, zip_of({"x.html": b"<html>zipped page</html>"})))
    assert "really a pdf" in only_part(m, "pdf").text
    assert only_part(m, "zip").filename == "invoice.pdf"
    assert "zipped page" in only_part(m, "html-attachment").text


@pytest.mark.parametrize(("content", "ctype", "name", "kind"), [
    (b"%PDF-1.7\n", "application/octet-stream", "", "pdf"),
    (b"junk" * 10 + b"%PDF-1.4", "", "", "pdf"),
    (b"PK\x03\x04rest", "application/pdf", "a.pdf", "zip"),
    (b"{\\rtf1 x}", "text/plain", "a.txt", "rtf"),
    (b"\x89PNG\r\n\x1a\nxxxx", "application/octet-stream", "", "image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword", "a.doc", "ole"),
    (b"  <!DOCTYPE html><p>x", "application/octet-stream", "", "html"),
    (b"<?xml version='1.0'?><svg xmlns='x'>", "application/octet-stream", "", "svg"),
    (b"MZ not an executable", "application/octet-stream", "a.com", None),
    (b"plain words", "application/octet-stream", "a.bin", None),
    (b"plain words", PDF, "", "pdf"),  # claimed, so read, so flagged broken
])
def test_sniff(content: bytes, ctype: str, name: str, kind: str | None) -> None:
    assert sniff(content, ctype, name) == kind


@pytest.mark.parametrize("user_password", ["", "hunter2"])
def test_encrypted_pdf(user_password: str) -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf(["locked text"]))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    m = parse_with(("s.pdf", PDF, buf.getvalue()))
    assert "pdf:encrypted" in m.flags
    if user_password:  # a password to open it: nothing read, and said so
        assert "pdf:locked" in m.flags
        assert not m.parts
    else:  # opens as readers open it, without asking
        assert "locked text" in only_part(m, "pdf").text


def test_encrypted_zip_member_and_encrypted_office_file() -> None:
    data = bytearray(zip_of({"a.pdf": pdf(["x"])}, zipfile.ZIP_STORED))
    # Set the "encrypted" bit in the local and central headers.
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(sig) + off
        data[at] |= 1
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    m = parse_with(("a.zip", "application/zip", bytes(data)),
                   ("secret.docx", OOXML_TYPES["docx"], ole),
                   ("old.doc", "application/msword", ole))
    assert {"zip:encrypted", "office:encrypted", "extract:skipped:ole"} <= m.flags


@pytest.mark.parametrize(("name", "ctype", "data", "kind"), [
    ("b.pdf", PDF, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "pdf"),
    ("b.pdf", PDF, b"no header at all", "pdf"),
    ("b.docx", OOXML_TYPES["docx"], b"PK\x03\x04 truncated zip", "zip"),
    ("b.rtf", "application/rtf", b"not rtf", "rtf"),
    ("b.docx", OOXML_TYPES["docx"],
     rewrite(docx(["x"]), "word/document.xml", b"</w:body>", b"</w:bod>"), "docx"),
])
def test_broken_files_are_flagged_not_raised(name: str, ctype: str, data: bytes,
                                             kind: str) -> None:
    m = parse_with((name, ctype, data))
    assert f"extract:broken:{kind}" in m.flags
    assert m.subject == "Documents"  # the rest of the message is read as usual


def test_xml_dtd_refused() -> None:
    laughs = ('<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;">]>')
    m = parse_with(("l.docx", OOXML_TYPES["docx"], docx(["&c;"], prolog=laughs)))
    assert {"extract:xml_dtd", "extract:broken:docx"} <= m.flags
    assert "aaaa" not in "".join(p.text for p in m.parts)


def test_text_cap_is_shared_by_all_parts() -> None:
    limits = ParseLimits(max_extract_chars=100)
    m = parse_with(("a.pdf", PDF, pdf(["alpha " * 15])), ("b.docx", OOXML_TYPES["docx"],
                   docx(["beta " * 40])), limits=limits)
    assert sum(len(p.text) for p in m.parts) == 100
    assert "truncated:extract" in m.flags
    assert m.parts[0].text.startswith("alpha")


def test_part_and_page_and_member_caps() -> None:
    limits = ParseLimits(max_extract_parts=2, max_pdf_pages=3, max_archive_members=2)
    m = parse_with(("a.pdf", PDF, pdf([f"page{i}" for i in range(10)])),
                   ("z.zip", "application/zip",
                    zip_of({f"{i}.html": b"<html>m</html>" for i in range(5)})),
                   ("c.pdf", PDF, pdf(["never read"])), limits=limits)
    assert [p.source for p in m.parts] == ["pdf", "zip"]
    assert "page2" in m.parts[0].text and "page3" not in m.parts[0].text
    assert m.parts[1].text.split() == ["0.html", "1.html"]
    assert {"truncated:pdf_pages", "truncated:archive_members",
            "truncated:extract_parts"} <= m.flags


def test_attachment_over_the_byte_cap_is_not_read() -> None:
    m = parse_with(("a.pdf", PDF, pdf(["x" * 2000])),
                   limits=ParseLimits(max_attachment_bytes=1000))
    assert not m.parts and "extract:too_big" in m.flags


def test_extraction_can_be_turned_off() -> None:
    m = parse_with(("a.pdf", PDF, pdf(["text"])), limits=ParseLimits(extract=False))
    assert not m.parts and m.attachments[0].filename == "a.pdf"


def test_images_are_left_to_the_images_extractor() -> None:
    m = parse_with(("qr.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100))
    assert not m.parts and not {f for f in m.flags if f.startswith("extract")}


def test_parts_survive_the_sandbox_pickle() -> None:
    import pickle

    m = parse_with(("a.pdf", PDF, pdf(["pickled"])))
    again = pickle.loads(pickle.dumps(m))
    assert again.parts == m.parts
