"""``url:`` evidence: each trait of a link, on URLs and messages written here."""

from __future__ import annotations

import pytest

from documents import message_with, pdf
from spamsift.features.links import SHORTENERS, decode_host, link_tokens, url_traits
from spamsift.features.tokens import tokenize
from spamsift.parse import parse_message


@pytest.mark.parametrize(("url", "want"), [
    pytest.param("http://www.example.com/a", [], id="plain"),
    pytest.param("http://xn--pypal-4ve.com/", ["url:idn", "url:mixed_script",
                                               "url:confusable:paypal"], id="punycode"),
    pytest.param("http://раураl.com/", ["url:idn", "url:mixed_script",
                                       "url:confusable:paypal"], id="unicode-host"),
    pytest.param("http://аррӏе.com/", ["url:idn"], id="all-cyrillic-no-latin-spelling"),
    pytest.param("http://почта.рф/", ["url:idn"], id="real-cyrillic-domain"),
    pytest.param("http://bücher.example/", ["url:idn"], id="latin-idn"),
    pytest.param("http://192.0.2.7/login", ["url:ip_host"], id="ipv4"),
    pytest.param("http://[2001:db8::1]/", ["url:ip_host"], id="ipv6"),
    pytest.param("http://3221225991/", ["url:ip_host", "url:ip_obfuscated"], id="decimal-ip"),
    pytest.param("http://0xc0.0x0.0x2.0x7/", ["url:ip_host", "url:ip_obfuscated"], id="hex-ip"),
    pytest.param("https://bit.ly/3xYz", ["url:shortener"], id="shortener"),
    pytest.param("https://www.tinyurl.com/x", ["url:shortener"], id="shortener-subdomain"),
    pytest.param("data:text/html;base64,PGI+", ["url:data_uri", "url:data_uri:text/html"],
                 id="data-uri"),
    pytest.param("DATA:,hello", ["url:data_uri", "url:data_uri:none"], id="data-no-type"),
    pytest.param("javascript:alert(1)", ["url:javascript"], id="javascript"),
    pytest.param("http://www.paypal.com@198.51.100.9/", ["url:userinfo", "url:ip_host"],
                 id="userinfo"),
])
def test_url_traits(url: str, want: list[str]) -> None:
    assert url_traits(url) == want


def test_decode_host_keeps_a_bad_label() -> None:
    assert decode_host("xn--pypal-4ve.xn--zzzzzzzz.com") == "pаypal.xn--zzzzzzzz.com"


def test_shorteners_are_hosts() -> None:
    assert all("." in h and h == h.lower() and "/" not in h for h in SHORTENERS)


def test_message_evidence_once_each_with_the_text_mismatch() -> None:
    html = ("<a href='http://evil.example/a'>www.paypal.com</a>"
            "<a href='http://evil.example/b'>https://paypal.com/login</a>"
            "<a href='https://bit.ly/1'>x</a><a href='https://bit.ly/2'>y</a>")
    m = parse_message(message_with([], html=html))
    assert m.html.mismatched_links == 2
    assert m.html.mismatched_hosts == [("www.paypal.com", "evil.example"),
                                       ("paypal.com", "evil.example")]
    tokens = link_tokens(m)
    assert tokens == ["url:shortener", "url:text_mismatch", "url:text_shows:paypal.com"]


def test_attachment_urls_are_evidence_under_their_source() -> None:
    m = parse_message(message_with(
        [("a.pdf", "application/pdf", pdf(["Log in: http://3221225991/x now"],
                                          links=["https://bit.ly/pdf"]))]))
    tokens = tokenize(m)
    assert {"pdf:part", "pdf:url_host:bit.ly", "pdf:url_host:ip", "pdf:log", "pdf:now",
            "pdf:url", "url:shortener", "url:ip_obfuscated"} <= set(tokens)
    # Its words and hosts count as the body's too: a model trained on mail without
    # attachments knows body words only.
    assert {"now", "log", "url_host:bit.ly"} <= set(tokens)


def test_no_parts_no_part_tokens() -> None:
    tokens = tokenize(parse_message(message_with([], body="just text")))
    assert not [t for t in tokens if t.endswith(":part")]
