"""Hostile attachments: every one gives a ParsedMessage, flagged, within the caps.

Bombs, huge page counts, deep nesting and work floods, each small enough to be
parsed in-process as a message under the sandbox's size would be. The assertions
are on flags and bounds, not on time (``benchmarks/extract.py`` measures that); the
hang guard and the deadline keep a regression from hanging the suite.
"""

from __future__ import annotations

import time

import pytest

from documents import OOXML_TYPES, docx, message_with, pdf, pdf_deep_pages, pdf_nested, zip_of
from spamsift.config import ParseLimits
from spamsift.parse import ParsedMessage, parse_message
from spamsift.parse.extract.deadline import Expired, deadline

from ._checks import check_parsed

pytestmark = pytest.mark.usefixtures("hang_guard")
PDF = "application/pdf"
LIMITS = ParseLimits()


def parse_with(*attachments: tuple[str, str, bytes],
               limits: ParseLimits = LIMITS) -> ParsedMessage:
    m = parse_message(message_with(attachments), limits)
    check_parsed(m, limits)
    assert m.subject == "Documents"
    return m


def test_zip_bomb_member_is_stopped_by_ratio() -> None:
    # 64 MiB of zeros in a ~65 KiB zip, declared honestly: the ratio stops it.
    data = zip_of({"bomb.html": b"\0" * (64 << 20)})
    assert len(data) < 100_000
    m = parse_with(("b.zip", "application/zip", data),
                   limits=ParseLimits(max_attachment_bytes=128 << 20))
    assert "extract:bomb" in m.flags


def test_zip_bomb_past_the_expanded_bytes_cap() -> None:
    # Each member compresses only ~4x (random-ish text), so only the total stops it.
    member = bytes(range(256)) * 4096  # 1 MiB
    data = zip_of({f"{i}.html": member for i in range(6)})
    m = parse_with(("z.zip", "application/zip", data),
                   limits=ParseLimits(max_expanded_bytes=3 << 20))
    assert "truncated:expanded_bytes" in m.flags


def test_office_xml_bomb_is_cut_at_the_character_cap() -> None:
    data = docx(["spam and eggs " * 20] * 20_000)  # 5.6 MB of XML in ~100 KB
    m = parse_with(("big.docx", OOXML_TYPES["docx"], data))
    assert "truncated:extract" in m.flags
    assert len(m.parts[0].text) == LIMITS.max_extract_chars


def test_pdf_compression_bomb() -> None:
    # One content stream inflating to 64 MiB from ~64 KiB: past pypdf's 4 MiB cap.
    data = pdf(raw_content=b" " * (64 << 20), compress=True)
    assert len(data) < 100_000
    m = parse_with(("bomb.pdf", PDF, data))
    assert m.flags & {"truncated:pdf_limits", "extract:broken:pdf"}


def test_pdf_huge_page_count_reads_the_first_pages() -> None:
    data = pdf(["page text"], n_pages=20_000)  # 20,000 pages sharing one stream
    m = parse_with(("many.pdf", PDF, data), limits=ParseLimits(max_attachment_bytes=8 << 20))
    assert "truncated:pdf_pages" in m.flags
    assert m.parts[0].text.count("page text") == LIMITS.max_pdf_pages


@pytest.mark.parametrize("depth", [500, 100_000])
def test_pdf_deeply_nested_objects(depth: int) -> None:
    # pypdf reads nested arrays recursively: refused (its own limits, or Python's
    # recursion limit caught), never a crash.
    m = parse_with(("deep.pdf", PDF, pdf_nested(depth)))
    assert "extract:broken:pdf" in m.flags


def test_pdf_deep_page_tree() -> None:
    m = parse_with(("deep.pdf", PDF, pdf_deep_pages(2_000)))
    assert "truncated:pdf_pages" in m.flags


def test_pdf_page_tree_cycle() -> None:
    data = pdf(["x"]).replace(b"/Kids [5 0 R]", b"/Kids [5 0 R 2 0 R]")
    assert data != pdf(["x"])
    m = parse_with(("cycle.pdf", PDF, data))
    assert m.parts[0].text.count("x") == 1


def test_pdf_operator_flood_stops_at_the_deadline() -> None:
    # pypdf spends ~2 s a page here: the deadline stops it where it stands.
    flood = b"(hello world) Tj\n" * 120_000
    data = pdf(["a"] * 5, raw_content=flood, compress=True)
    limits = ParseLimits(extract_seconds=0.3)
    m = parse_with(("flood.pdf", PDF, data), limits=limits)
    assert "truncated:extract_time" in m.flags  # how long it took: benchmarks/extract.py


def test_rtf_group_flood_and_unclosed_fields() -> None:
    fields = b"{\\rtf1 " + b"{\\field{\\*\\fldinst{x HYPERLINK \"a" * 30_000
    deep = b"{\\rtf1 start " + b"{" * 100_000 + b"deep}"
    m = parse_with(("f.rtf", "application/rtf", fields), ("d.rtf", "application/rtf", deep))
    assert "truncated:rtf_depth" in m.flags
    assert "start" in m.parts[0].text


def test_many_zip_members() -> None:
    data = zip_of({f"f{i}.txt": b"" for i in range(5_000)})
    m = parse_with(("many.zip", "application/zip", data))
    assert "truncated:archive_members" in m.flags
    assert len(m.parts[0].text.split()) == LIMITS.max_archive_members


def test_deadline_stops_a_python_loop_and_leaves_nothing_pending() -> None:
    start = time.monotonic()
    with pytest.raises(Expired):
        with deadline(0.05):
            while True:
                pass
    assert time.monotonic() - start < 30  # stopped, not hung (timing: benchmarks)
    # A block that ends in time is never interrupted later.
    for _ in range(200):
        with deadline(0.001):
            pass
    time.sleep(0.05)
    total = sum(range(10**6))
    assert total == 499999500000


def test_a_deadline_swallowed_once_fires_again() -> None:
    # CPython may deliver the exception where it is swallowed (a finaliser, a callback,
    # a library's bare except): the deadline must still end the block.
    swallowed = 0
    start = time.monotonic()
    with pytest.raises(Expired):
        with deadline(0.05):
            while time.monotonic() - start < 0.3:
                try:
                    time.sleep(0.001)
                except BaseException:  # noqa: B036 - what a finaliser does to it
                    swallowed += 1
            while time.monotonic() - start < 60:  # then plain work, stopped again
                pass
    assert swallowed >= 1
