"""What one message's extraction may still spend, and where a part's text goes.

One :class:`Budget` per message holds the caps of :class:`~spamsift.config.ParseLimits`
that are shared by all of its attachments (characters, decompressed bytes, parts)
and the flags that say which were reached. Each extractor writes into a
:class:`Sink`, which cuts text at the budget as it arrives, so whatever was
extracted before a deadline or an error is kept.
"""

from __future__ import annotations

import re

from spamsift.config import ParseLimits
from spamsift.parse.marks import cap_mark_runs
from spamsift.parse.urls import find_urls

__all__ = ["Budget", "Sink", "Broken"]

# URLs kept per part, before the message's own max_urls cap.
_MAX_PART_URLS = 200
# Lone surrogates (a broken PDF font map makes them) cannot be encoded by any later stage.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Broken(Exception):
    """An extractor found its input unreadable (flag ``extract:broken:KIND``)."""


class Budget:
    """Caps shared by every attachment of one message."""

    def __init__(self, limits: ParseLimits, flags: set[str]) -> None:
        self.limits = limits
        self.flags = flags
        self.chars_left = limits.max_extract_chars
        self.expanded_left = limits.max_expanded_bytes
        self.parts_left = limits.max_extract_parts

    def flag(self, name: str) -> None:
        self.flags.add(name)

    @property
    def full(self) -> bool:
        """Whether no more text can be taken."""
        return self.chars_left <= 0

    def expand(self, n: int) -> bool:
        """Count ``n`` decompressed bytes; False (and flagged) once past the cap."""
        self.expanded_left -= n
        if self.expanded_left < 0:
            self.flag("truncated:expanded_bytes")
            return False
        return True


class Sink:
    """The text and links of one part as an extractor finds them."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._chunks: list[str] = []
        self._links: list[str] = []
        self._url_text: list[str] = []

    def text(self, s: str) -> bool:
        """Add ``s`` (cut to the budget); False once the budget is spent."""
        b = self.budget
        if b.chars_left <= 0:
            b.flag("truncated:extract")
            return False
        if len(s) > b.chars_left:
            s = s[: b.chars_left]
            b.flag("truncated:extract")
        b.chars_left -= len(s)
        self._chunks.append(_SURROGATE.sub("\ufffd", s))
        return b.chars_left > 0

    def link(self, url: str) -> None:
        """A link target the document names outside its text (annotation, relationship)."""
        url = _SURROGATE.sub("\ufffd", url.strip())
        if url and len(self._links) < _MAX_PART_URLS:
            self._links.append(url[:2048])

    def url_text(self, s: str) -> None:
        """Text that is searched for URLs but is not shown (field codes)."""
        if sum(map(len, self._url_text)) < 64 * 1024:
            self._url_text.append(_SURROGATE.sub("\ufffd", s[:64 * 1024]))

    def result(self) -> tuple[str, list[str]]:
        """The part's text (mark runs capped, as the body's are) and its URLs."""
        text, n_runs = cap_mark_runs("".join(self._chunks))
        if n_runs:
            self.budget.flag("truncated:marks")
        urls = list(self._links)
        for chunk in (text, *self._url_text):
            urls += find_urls(chunk, _MAX_PART_URLS)
        return text, list(dict.fromkeys(urls))[:_MAX_PART_URLS]
