"""What the pipeline read from a message, as one JSON-ready dict (``spamsift inspect``).

For an admin asking why a verdict went as it did, and for tests: every piece of
text with where it came from (the bodies as sources ``body`` and ``html``, then
each extracted part), every URL, the authentication results, and the flags that
say what was cut or skipped and why.
"""

from __future__ import annotations

from typing import Any

from spamsift.parse.message import ParsedMessage

__all__ = ["inspect_message"]


def _cut(text: str, max_chars: int) -> tuple[str, bool]:
    if max_chars and len(text) > max_chars:
        return text[:max_chars], True
    return text, False


def inspect_message(msg: ParsedMessage, max_chars: int = 4000) -> dict[str, Any]:
    """The inspection of a parsed message; each part's text cut to ``max_chars``
    (0: as extracted, itself bounded by the parse caps).

    >>> from spamsift.parse import parse_message
    >>> r = inspect_message(parse_message(b"Subject: hi\\n\\nsee http://a.example/"))
    >>> r["parts"][0]["source"], r["urls"]
    ('body', ['http://a.example/'])
    """
    parts: list[dict[str, Any]] = []
    bodies = (("body", "text/plain", msg.text_plain), ("html", "text/html", msg.text_html))
    for source, ctype, text in bodies:
        if text.strip():
            shown, cut = _cut(text, max_chars)
            parts.append({"source": source, "content_type": ctype, "filename": "",
                          "text": shown, "chars": len(text), "cut": cut, "urls": []})
    for p in msg.parts:
        shown, cut = _cut(p.text, max_chars)
        parts.append({"source": p.source, "content_type": p.content_type,
                      "filename": p.filename, "text": shown, "chars": len(p.text), "cut": cut,
                      "urls": list(p.urls)})
    return {
        "subject": msg.subject,
        "from": msg.from_addr,
        "to": msg.to_addrs[:20],
        "date": msg.date_raw or None,
        "message_id": msg.message_id or None,
        "size": msg.size,
        "content_types": msg.content_types,
        "attachments": [{"filename": a.filename, "content_type": a.content_type,
                         "size": a.size} for a in msg.attachments],
        "parts": parts,
        "urls": list(msg.urls),
        # What authenticated the message (spamsift.mailauth): empty until the site's
        # trusted headers and its own checks are applied after parsing.
        "auth": msg.auth.as_dict(),
        "flags": sorted(msg.flags),
    }
