"""Tests for spamsift.parse.urls: URLs found in text and their hosts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.config import ParseLimits
from spamsift.parse import parse_message
from spamsift.parse.urls import find_urls, url_host


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("http://Example.COM/path?q=1", "example.com", id="lower-cased"),
        pytest.param("https://user:pw@mail.example.org:8443/x", "mail.example.org",
                     id="credentials-and-port"),
        pytest.param("www.example.net/offer", "www.example.net", id="www-form"),
        pytest.param("WWW.Example.net", "www.example.net", id="www-upper"),
        pytest.param("  http://example.org./  ", "example.org", id="trailing-dot-and-spaces"),
        pytest.param("http://192.168.0.1:8080/", "192.168.0.1", id="ip"),
        pytest.param("//cdn.example/x.js", "cdn.example", id="scheme-relative"),
        pytest.param("mailto:a@example.org", "", id="mailto"),
        pytest.param("cid:logo@x", "", id="cid"),
        pytest.param("/relative/path", "", id="relative"),
        pytest.param("http://[::1", "", id="bad-ipv6"),
        pytest.param("", "", id="empty"),
    ],
)
def test_url_host(url: str, host: str) -> None:
    assert url_host(url) == host


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        pytest.param("go to http://a.example/x now", ["http://a.example/x"], id="plain"),
        pytest.param("HTTPS://A.example/Y", ["HTTPS://A.example/Y"], id="upper-scheme"),
        pytest.param("see www.b.example.", ["www.b.example"], id="www-trailing-dot"),
        pytest.param("(http://c.example/p)", ["http://c.example/p"], id="parenthesised"),
        pytest.param("<http://d.example/>", ["http://d.example/"], id="angle-brackets"),
        pytest.param('href="http://e.example/q"', ["http://e.example/q"], id="quoted"),
        pytest.param("http://f.example/a, http://g.example/b; ftp://h.example/c!?",
                     ["http://f.example/a", "http://g.example/b", "ftp://h.example/c"],
                     id="punctuation-between"),
        pytest.param("http://i.example/x?a=1&b=2#frag", ["http://i.example/x?a=1&b=2#frag"],
                     id="query-and-fragment"),
        pytest.param("http://... and http:// alone", [], id="bare-schemes"),
        pytest.param("example.com without scheme", [], id="no-scheme"),
    ],
)
def test_find_urls(text: str, urls: list[str]) -> None:
    assert find_urls(text, 100) == urls


def test_find_urls_limit() -> None:
    text = " ".join(f"http://h{i}.example/" for i in range(50))
    assert find_urls(text, 5) == [f"http://h{i}.example/" for i in range(5)]


def test_urls_are_cut_at_2048_characters() -> None:
    [url] = find_urls("http://a.example/" + "x" * 5000, 10)
    assert len(url) == len("http://") + 2048


def test_message_urls_put_html_links_first_and_honour_the_cap() -> None:
    data = b"""\
Subject: s
Content-Type: multipart/alternative; boundary=B

--B
Content-Type: text/plain

Visit www.plain.example/offer, or http://plain2.example/.
--B
Content-Type: text/html

<a href="http://html.example/">here</a>
--B--
"""
    assert parse_message(data).urls == ["http://html.example/", "www.plain.example/offer",
                                        "http://plain2.example/"]
    assert parse_message(data, ParseLimits(max_urls=2)).urls == [
        "http://html.example/", "www.plain.example/offer"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("htpw:/.,;!?()<>\"' a@x")), max_size=300))
def test_found_urls_are_pieces_of_the_text(text: str) -> None:
    for url in find_urls(text, 50):
        assert url in text
        assert url.lower().startswith(("http://", "https://", "ftp://", "www."))
        assert not url.endswith(tuple(".,;:!?*"))
        url_host(url)  # never raises
