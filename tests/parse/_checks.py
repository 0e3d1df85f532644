"""What every ParsedMessage promises, however hostile its input; shared by the
hostile-input and fuzz tests."""

from __future__ import annotations

import unicodedata

from spamsift.config import ParseLimits
from spamsift.parse import ParsedMessage
from spamsift.parse.extract import FLAGS as EXTRACT_FLAGS
from spamsift.parse.extract.images import FLAGS as IMAGE_FLAGS
from spamsift.parse.marks import MAX_MARK_RUN

# Long enough for any honest parse here, far too short for a quadratic blow-up.
HANG_SECONDS = 20

# Every flag parse_message can set, read off src/spamsift/parse: each flags.add in
# mime.py, its "missing:{name}" loop over subject, from and date, the charset flags
# decode_text returns (charsets.py) and the pre-scan's (html_bounds.py).
KNOWN_FLAGS = frozenset({
    "empty", "missing:subject", "missing:from", "missing:date", "missing:body",
    "parser:fallback", "parser:raw",
    "charset:unknown", "charset:wrong", "charset:detected", "charset:latin1",
    "truncated:bytes", "truncated:parts", "truncated:depth", "truncated:headers",
    "truncated:text", "truncated:time", "truncated:marks",
    "truncated:html_depth", "truncated:html_elements", "truncated:html_tag",
    "truncated:html_formatting", "truncated:html_reconstruct",
}) | EXTRACT_FLAGS | IMAGE_FLAGS  # and what attachment and image extraction set
# The parse sandbox (sandbox.py) adds truncated:memory and parser:crash as well when
# a worker gives up on a message; parse_message itself never does.


def longest_mark_run(text: str) -> int:
    """The longest run of characters with a combining class above 0."""
    longest = run = 0
    for ch in text:
        run = run + 1 if unicodedata.combining(ch) else 0
        longest = max(longest, run)
    return longest


def check_parsed(m: ParsedMessage, limits: ParseLimits | None = None) -> None:
    """Assert what every ParsedMessage promises under ``limits``, however bad its input."""
    limits = limits or ParseLimits()
    assert isinstance(m, ParsedMessage)
    assert m.flags <= KNOWN_FLAGS, m.flags - KNOWN_FLAGS
    texts = [m.subject or "", m.from_name, m.from_addr, m.reply_to_addr, m.date_raw,
             m.message_id, m.mailer, m.text_plain, m.text_html, *m.to_addrs, *m.urls,
             *m.content_types, *m.charsets, *(a.filename for a in m.attachments),
             *(a.content_type for a in m.attachments), *(k + v for k, v in m.headers)]
    for text in texts:
        text.encode("utf-8")  # no lone surrogates for later stages to trip on
    assert 1 <= m.n_parts <= limits.max_parts + 1
    assert 0 <= m.max_depth <= limits.max_depth
    # Each text part is cut to what is left of the budget; parts are joined by "\n".
    assert len(m.text_plain) + len(m.text_html) <= limits.max_text_chars + m.n_parts
    assert len(m.headers) <= limits.max_headers
    assert all(len(v) <= 1000 for _, v in m.headers)
    assert len(m.urls) <= limits.max_urls
    assert longest_mark_run(m.text_plain) <= MAX_MARK_RUN
    assert longest_mark_run(m.text_html) <= MAX_MARK_RUN
    assert m.date is None or m.date.tzinfo is not None
    assert sum(len(p.text) for p in m.parts) <= limits.max_extract_chars
    assert len(m.parts) <= limits.max_extract_parts
    for p in m.parts:
        (p.text + p.filename + p.content_type + "".join(p.urls)).encode("utf-8")
        assert longest_mark_run(p.text) <= MAX_MARK_RUN
