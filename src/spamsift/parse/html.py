"""HTML to the text a reader sees, keeping what the markup gives away.

Parsing is selectolax's Lexbor engine (C, linear time), never the standard
library's ``html.parser``, which goes super-linear on long runs of '<'.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from spamsift.parse.html_bounds import bound_html
from spamsift.parse.message import HtmlSignals
from spamsift.parse.urls import url_host

__all__ = ["html_to_text", "strip_comments", "site", "MAX_MISMATCHED_HOSTS"]

#: Mismatched links kept by host pair per message (all are counted): evidence names
#: the hosts, and a few say it.
MAX_MISMATCHED_HOSTS = 10

# Spam splits words with comments ("V<!-- x -->iagra"): drop them before parsing
# so the word comes back whole.
_BLOCK = re.compile(
    r"<(?=/?(?:p|div|br|td|th|tr|li|table|h[1-6]|ul|ol|hr|title|blockquote|center|pre)\b)",
    re.I,
)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](?:\.\d+)?(?:px|pt)?\s*(?:;|$)",
    re.I,
)
_HOSTLIKE = re.compile(r"(?:https?://)?((?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24})\b", re.I)
_COUNTED_TAGS = ("table", "font", "center", "iframe", "object", "embed", "map", "base", "meta")


def strip_comments(html: str) -> tuple[str, int]:
    """Remove ``<!-- ... -->`` comments in one linear pass; return text and count."""
    out: list[str] = []
    pos = n = 0
    while True:
        start = html.find("<!--", pos)
        if start < 0:
            out.append(html[pos:])
            break
        end = html.find("-->", start + 4)
        out.append(html[pos:start])
        n += 1
        if end < 0:  # unterminated: the rest is a comment, as browsers treat it
            break
        pos = end + 3
    return "".join(out), n


def html_to_text(html: str, max_bytes: int, flags: set[str] | None = None
                 ) -> tuple[str, HtmlSignals, list[str]]:
    """Visible text, markup signals and link targets of one HTML part.

    What the pre-scan (:func:`~spamsift.parse.html_bounds.bound_html`) had to cut
    is added to ``flags``.
    """
    sig = HtmlSignals()
    if len(html) > max_bytes:
        html = html[:max_bytes]
    html, sig.n_comments = strip_comments(html)
    html, bound_flags = bound_html(html)
    if flags is not None:
        flags |= bound_flags
    html = _BLOCK.sub(" <", html)
    tree = LexborHTMLParser(html)
    links: list[str] = []
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href:
            continue
        sig.n_links += 1
        links.append(href[:2048])
        shown = _HOSTLIKE.search(a.text(deep=True)[:300] or "")
        target = url_host(href)
        if shown and target and not _same_site(shown.group(1).lower(), target):
            sig.mismatched_links += 1
            if len(sig.mismatched_hosts) < MAX_MISMATCHED_HOSTS:
                sig.mismatched_hosts.append((shown.group(1).lower()[:255], target))
    for img in tree.css("img"):
        sig.n_images += 1
        src = img.attributes.get("src")
        if src:
            links.append(src[:2048])
    sig.n_forms = len(tree.css("form"))
    for tag in _COUNTED_TAGS:
        k = len(tree.css(tag))
        if k:
            sig.tags[tag] = k
    # Reverse document order: a node comes after its ancestors, so children go
    # before their parents and no removal reaches into a subtree already cut
    # out (nested hidden blocks would be counted twice otherwise).
    for node in reversed(tree.css("script, style, noscript, head")):
        if node.tag == "script":
            sig.n_scripts += 1
        node.decompose()
    hidden_root = False
    root_id = tree.root.mem_id if tree.root is not None else None
    for node in reversed(tree.css("[style]")):
        if _HIDDEN_STYLE.search(node.attributes.get("style") or ""):
            sig.hidden_chars += len(node.text(deep=True))
            if node.mem_id == root_id:  # <html style=display:none>: cannot be removed
                hidden_root = True
            else:
                node.decompose()
    if hidden_root:
        return "", sig, links
    root = tree.body or tree.root
    text = root.text(deep=True, separator="") if root is not None else ""
    return text, sig, links


# Second-level labels under which registrations sit a level lower, as in
# "paypal.co.uk": without them every .co.uk link would match every other.
_SHARED_SLD = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "ne", "or", "go"})


def _same_site(shown: str, target: str) -> bool:
    # Compare registrable-ish suffixes: "www.paypal.com" vs "paypal.com" is fine.
    return site(shown) == site(target)


def site(host: str) -> str:
    """The registrable-ish part of ``host``: ``www.paypal.co.uk`` -> ``paypal.co.uk``."""
    labels = host.rsplit(".", 3)
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SHARED_SLD else 2
    return ".".join(labels[-keep:])
