"""URLs in text and their hosts, with regexes that stay linear on hostile runs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["find_urls", "url_host"]

# One character class, bounded: no nested quantifier, so no backtracking blow-up
# on long runs of repeated characters.
_URL = re.compile(r"(https?://|ftp://|www\.)[^\s<>\"'(){}\[\]|\\^`]{1,2048}", re.I)
_TRAIL = ".,;:!?*"


def find_urls(text: str, limit: int) -> list[str]:
    """Up to ``limit`` URLs found in ``text``, trailing punctuation removed.

    >>> find_urls("see http://a.example/x, or www.b.example.", 10)
    ['http://a.example/x', 'www.b.example']
    """
    out: list[str] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAIL)
        if len(url) <= len(m.group(1)):  # "http://..." with nothing after the scheme
            continue
        out.append(url)
        if len(out) >= limit:
            break
    return out


def url_host(url: str) -> str:
    """The lower-case host of ``url`` ('' if none), without port or credentials."""
    u = url.strip()
    if u[:4].lower() == "www.":
        u = "http://" + u
    try:
        host = urlsplit(u[:2048]).hostname or ""
    except ValueError:
        return ""
    return host.strip(".").lower()[:255]
