"""The HTML pre-scan: each bound cuts or thins where it should, and flags it; HTML
within every bound passes through untouched."""

from __future__ import annotations

import pytest

from spamsift.parse.html import html_to_text
from spamsift.parse.html_bounds import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_OPEN_FORMATTING,
    MAX_TAG_CHARS,
    bound_html,
)

NEWSLETTER = (
    "<html><head><style>p{color:red}</style></head><body><table><tr><td>"
    + "<p><font face=arial><b>Offer</b> number {i}</font></p>" * 800
    + "</td></tr></table><ul><li>one<li>two<li>three</ul></body></html>"
)


@pytest.mark.parametrize("html", [
    pytest.param(NEWSLETTER, id="long-table-newsletter"),
    pytest.param("<p>a<p>b<p>c" * 2000, id="unclosed-paragraphs-are-flat"),
    pytest.param("<li>x" * 5000, id="unclosed-list-items-are-flat"),
    pytest.param("<br>" * 20000, id="void-elements-never-open"),
    pytest.param("<div>x</div>" * 20000, id="closed-blocks"),
])
def test_html_within_the_bounds_is_unchanged(html: str) -> None:
    assert bound_html(html) == (html, set())


def test_depth_cut_keeps_the_text_before_it() -> None:
    html = "<div>" * 10 + "sentinel" + "<div>" * 200_000 + "lost"
    out, flags = bound_html(html)
    assert flags == {"truncated:html_depth"}
    assert out.count("<div>") == MAX_DEPTH and "sentinel" in out and "lost" not in out


def test_element_cut() -> None:
    out, flags = bound_html("<span>x</span>" * (MAX_ELEMENTS + 10))
    assert flags == {"truncated:html_elements"}
    assert out.count("<span>") == MAX_ELEMENTS


def test_open_formatting_past_the_bound_is_dropped_not_the_text() -> None:
    n = MAX_DEPTH + 100  # enough tags that the scan runs (fewer cannot reach a bound)
    html = "".join(f"<font a={i}>w{i} " for i in range(n))
    out, flags = bound_html(html)
    assert flags == {"truncated:html_formatting"}
    assert out.count("<font") == MAX_OPEN_FORMATTING
    assert f"w{n - 1} " in out  # every word is still there


def test_reconstruction_blow_up_is_cut() -> None:
    # N open formatting elements cloned into each of M later blocks: N x M elements.
    n = MAX_OPEN_FORMATTING
    html = "<div>" + "".join(f"<font a={i}>" for i in range(n)) + "</div>" + "<div>x</div>" * 5000
    out, flags = bound_html(html)
    assert "truncated:html_reconstruct" in flags
    assert len(out) < len(html)


def test_a_giant_tag_is_where_the_document_ends() -> None:
    html = "<p>before</p><a href='" + "x" * (MAX_TAG_CHARS + 1) + "'>after</a>"
    out, flags = bound_html(html)
    assert flags == {"truncated:html_tag"}
    assert out == "<p>before</p>"


def test_html_to_text_reports_the_flags() -> None:
    flags: set[str] = set()
    text, _, _ = html_to_text("<div>" * 2000 + "deep", 1 << 20, flags)
    assert flags == {"truncated:html_depth"} and "deep" not in text
