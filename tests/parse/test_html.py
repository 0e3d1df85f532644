"""Tests for spamsift.parse.html: visible text and what the markup gives away."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.parse import parse_message
from spamsift.parse.html import html_to_text, strip_comments

BIG = 1 << 20


def _text(html: str) -> str:
    return " ".join(html_to_text(html, BIG)[0].split())


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("<html><body><p>Hello <b>world</b></p></body></html>", "Hello world",
                     id="inline-tags-join"),
        pytest.param("<p>one</p><p>two</p><div>three</div>four<br>five", "one two three four five",
                     id="block-tags-separate"),
        pytest.param("<td>a</td><td>b</td>", "a b", id="table-cells"),
        pytest.param("caf&eacute; &amp; cr&#232;me &lt;3", "café & crème <3", id="entities"),
        pytest.param("no markup at all", "no markup at all", id="plain"),
        pytest.param("", "", id="empty"),
    ],
)
def test_visible_text(html: str, text: str) -> None:
    assert _text(html) == text


@pytest.mark.parametrize(
    ("html", "text", "n"),
    [
        pytest.param("V<!-- x -->iagra", "Viagra", 1, id="split-word"),
        pytest.param("C<!---->i<!-- a -- b -->alis", "Cialis", 2, id="two-comments"),
        pytest.param("shown<!-- never closed <p>hidden", "shown", 1, id="unterminated"),
        pytest.param("a <!-- <!-- nested --> b", "a b", 1, id="no-nesting"),
    ],
)
def test_comments_are_removed_and_counted(html: str, text: str, n: int) -> None:
    out, sig, _ = html_to_text(html, BIG)
    assert " ".join(out.split()) == text
    assert sig.n_comments == n
    assert strip_comments(html)[1] == n


@pytest.mark.parametrize(
    "style",
    [
        pytest.param("display:none", id="display-none"),
        pytest.param("DISPLAY : NONE", id="upper-spaced"),
        pytest.param("color:red; visibility: hidden", id="visibility-hidden"),
        pytest.param("font-size:0", id="font-size-0"),
        pytest.param("font-size: 1px;", id="font-size-1px"),
    ],
)
def test_hidden_text_is_excluded_and_counted(style: str) -> None:
    out, sig, _ = html_to_text(f'<p>Buy now</p><div style="{style}">lorem ipsum</div>', BIG)
    assert " ".join(out.split()) == "Buy now"
    assert sig.hidden_chars >= len("lorem ipsum")


def test_visible_styles_are_kept() -> None:
    out, sig, _ = html_to_text('<p style="font-size:12px;color:red">Big sale</p>', BIG)
    assert " ".join(out.split()) == "Big sale"
    assert sig.hidden_chars == 0


def test_nested_hidden_text_is_counted_once() -> None:
    html = '<span style="display:none">abc<span style="display:none">def</span></span>ok'
    out, sig, _ = html_to_text(html, BIG)
    assert out.strip() == "ok"
    assert sig.hidden_chars == 6


def test_a_hidden_root_hides_everything() -> None:
    # The root element cannot be removed from the tree; it used to raise.
    out, sig, _ = html_to_text('<html style="display:none"><body>secret</body></html>', BIG)
    assert out == ""
    assert sig.hidden_chars == len("secret")


def test_scripts_styles_and_head_are_removed() -> None:
    html = ("<html><head><title>Title</title><script>var inHead = 1;</script>"
            "<style>p { color: red }</style></head><body><p>Body text</p>"
            "<script>document.write('x')</script><noscript>enable js</noscript></body></html>")
    out, sig, _ = html_to_text(html, BIG)
    assert " ".join(out.split()) == "Body text"
    assert sig.n_scripts == 2


@pytest.mark.parametrize(
    ("anchor", "mismatched"),
    [
        pytest.param('<a href="http://evil.example/login">www.paypal.com</a>', 1,
                     id="other-host"),
        pytest.param('<a href="https://paypal.com.evil.example/">https://paypal.com</a>', 1,
                     id="lookalike-prefix"),
        pytest.param('<a href="http://paypal.co.uk.x/">paypal.co.uk</a>', 1, id="other-tld"),
        pytest.param('<a href="http://evil.co.uk/">paypal.co.uk</a>', 1, id="shared-sld"),
        pytest.param('<a href="https://www.paypal.com/signin">paypal.com</a>', 0,
                     id="same-site"),
        pytest.param('<a href="http://shop.example.co.uk/">www.example.co.uk</a>', 0,
                     id="same-site-co-uk"),
        pytest.param('<a href="http://evil.example/">Click here</a>', 0, id="no-host-shown"),
        pytest.param('<a href="mailto:a@example.org">www.example.org</a>', 0, id="no-host-linked"),
    ],
)
def test_link_host_mismatch(anchor: str, mismatched: int) -> None:
    _, sig, links = html_to_text(f"<p>{anchor}</p>", BIG)
    assert sig.n_links == 1
    assert sig.mismatched_links == mismatched
    assert len(links) == 1


def test_links_images_forms_and_tags() -> None:
    html = ('<table><tr><td><a href="http://a.example/1">one</a> <a href="">empty</a>'
            '<a name="anchor">no href</a></td></tr></table>'
            '<img src="http://img.example/p.gif"><img src="cid:logo@x"><img alt="no src">'
            '<form action="http://f.example"><input></form><font color=red>x</font>'
            '<iframe src="http://frame.example"></iframe>')
    out, sig, links = html_to_text(html, BIG)
    assert (sig.n_links, sig.n_images, sig.n_forms) == (1, 3, 1)
    assert links == ["http://a.example/1", "http://img.example/p.gif", "cid:logo@x"]
    assert sig.tags == {"table": 1, "font": 1, "iframe": 1}
    assert "one" in out and "empty" in out


def test_html_is_cut_at_max_bytes() -> None:
    out, _, _ = html_to_text("<p>" + "word " * 1000 + "</p><p>tail</p>", 100)
    assert "tail" not in out
    assert len(out) <= 100


def test_html_part_through_parse_message() -> None:
    data = b"""\
From: a@example.org
Subject: s
Content-Type: text/html; charset=utf-8

<html><body><p>V<!-- x -->iagra</p><div style="display:none">bayes poison</div>
<a href="http://evil.example/">www.bank.example</a><img src="http://t.example/o.gif">
<script>x()</script></body></html>
"""
    m = parse_message(data)
    assert "Viagra" in m.text_html.split()
    assert "poison" not in m.text_html
    assert m.text_plain == ""
    assert m.body_text == m.text_html
    h = m.html
    assert (h.n_comments, h.n_links, h.mismatched_links, h.n_images, h.n_scripts) == (1, 1, 1,
                                                                                       1, 1)
    assert h.hidden_chars >= len("bayes poison")
    assert m.urls == ["http://evil.example/", "http://t.example/o.gif"]


def test_html_signals_add_up_over_parts() -> None:
    part = b'Content-Type: text/html\n\n<a href="http://x.example/">y.example</a><!-- c -->\n'
    data = (b"Subject: s\nContent-Type: multipart/mixed; boundary=B\n\n--B\n" + part + b"--B\n"
            + part + b"--B--\n")
    h = parse_message(data).html
    assert (h.n_links, h.mismatched_links, h.n_comments) == (2, 2, 2)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>!-/=\"' apbdivstylehrf:none;{}&#x0")),
               max_size=400))
def test_html_to_text_never_raises(html: str) -> None:
    out, sig, links = html_to_text(html, BIG)
    assert isinstance(out, str) and sig.n_links <= len(links)
