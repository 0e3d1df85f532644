"""A linear pre-scan that bounds what HTML can make the parser do.

Lexbor parses in linear time in most cases, but two constructions make an HTML5
tree builder do work that grows faster than the input, and both run inside one
call into C, where no clock check reaches:

- **Deep nesting.** Every start tag is checked against the stack of open elements
  ("has an element in scope"), so 200,000 nested ``<div>`` cost the square of that:
  40,000 levels took 2.5 s here, 200,000 over a minute.
- **Reconstructing the active formatting elements.** Formatting elements
  (``<b>``, ``<font a=1>`` ...) left open when a block closes are cloned into every
  later block before its text: N distinct open ``<font>`` and M later
  ``<div>x</div>`` build N x M elements. 49 KB of such HTML took 5.8 s and 1.8 GB
  here (N = M = 2,000); the HTML spec's "Noah's Ark" clause only stops identical
  copies.

:func:`bound_html` reads the tags once (a regular expression over the text, each
tag matched once) and keeps a conservative model of both: the depth of open
elements and the number of formatting elements left open. Past a bound the
document is cut there, or the extra formatting tags are dropped (they hold no
text), and a flag says which. The bounds are far above real mail (the SpamAssassin
corpus's largest figures are in the comments below) and keep the tree builder's
work proportional to the input.
"""

from __future__ import annotations

import re

__all__ = ["bound_html", "scan_figures", "MAX_DEPTH", "MAX_ELEMENTS", "MAX_OPEN_FORMATTING",
           "MAX_RECONSTRUCT", "MAX_TAG_CHARS"]

# Largest figures of any HTML part in the SpamAssassin corpus, by this scan's own
# model (benchmarks/hostile.py --corpus-stats): depth 43, 1,181 start tags, 39
# formatting elements open at once, 5,369 estimated clones, a 3,349-character tag.
# Every bound is 2.5 to 40 times that; none is hit by any corpus message.
#
# Blink stops nesting at 512 levels (its HTML parser's maximum DOM depth), so no
# page a browser shows needs more.
MAX_DEPTH = 512
# Start tags read before the rest is cut.
MAX_ELEMENTS = 50_000
# Formatting elements open at once; further ones are dropped (they hold no text).
MAX_OPEN_FORMATTING = 100
# Estimated clones from reconstruction: the formatting elements open at each
# block-level start tag, summed; a cap on the product N x M above. 250,000 clones
# cost Lexbor 0.14 s and 100 MB here.
MAX_RECONSTRUCT = 200_000
# One tag (name and attributes) longer than this is where the document is cut.
MAX_TAG_CHARS = 64 * 1024

# The HTML spec's formatting elements (the list of active formatting elements).
_FORMATTING = frozenset({"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small",
                         "strike", "strong", "tt", "u"})
# Void elements: never open.
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                   "meta", "param", "source", "track", "wbr", "keygen", "frame", "image"})
# Elements a start tag of the same kind closes (optional end tags): at most one
# of each counts as open, so ``<p>a<p>b`` (flat to a browser) is not deep.
_SELF_CLOSING_KIND = frozenset({"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th",
                                "thead", "tbody", "tfoot", "rb", "rt", "rp", "colgroup"})
# A tag, or the start of one: '<', an optional '/', a name, then everything up to
# the next '>' (or the end). One character class a piece: linear however hostile.
# The name ends where the HTML tokenizer's does (whitespace, '/' or '>'), so that
# "</div_>" or "</div\x0b>" does not close a <div> here while the parser keeps it open.
_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)([^>]*)(>?)")
# The tokenizer lowercases ASCII letters only ("</DİV>" closes no "<divİ>").
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def bound_html(html: str) -> tuple[str, set[str]]:
    """``html`` cut or thinned so the tree builder's work stays linear; and flags.

    Flags: ``truncated:html_depth``, ``truncated:html_elements``,
    ``truncated:html_tag`` (cut there), ``truncated:html_formatting`` (extra
    formatting tags dropped), ``truncated:html_reconstruct`` (cut where the estimated
    clones pass their cap).

    Examples
    --------
    >>> out, flags = bound_html("<div>" * 1000 + "x")
    >>> out.count("<div>"), sorted(flags)
    (512, ['truncated:html_depth'])
    >>> bound_html("<p>plain <b>bold</b></p>")
    ('<p>plain <b>bold</b></p>', set())
    """
    if html.count("<") <= MAX_DEPTH and len(html) <= MAX_TAG_CHARS:
        return html, set()  # too few tags to reach any bound: the common case
    scan = _Scan(capped=True)
    cut = scan.run(html)
    if not scan.drop:
        return html[:cut], scan.flags
    pieces, pos = [], 0
    for start, end in scan.drop:
        if start >= cut:
            break
        # A '<' or '</' just before a dropped tag would meet the text after it and
        # make a tag this scan never counted ("<<b>div>" would become "<div>"): it goes too.
        keep = start
        while keep > pos and html[keep - 1] in "</":
            keep -= 1
        pieces.append(html[pos:keep])
        pos = end
    pieces.append(html[pos:cut])
    return "".join(pieces), scan.flags


def scan_figures(html: str) -> dict[str, int]:
    """The largest figures the scan meets in ``html``, with no bound applied: the
    depth, start tags, formatting elements open at once, estimated clones and the
    longest tag (what ``benchmarks/hostile.py --corpus-stats`` reports)."""
    scan = _Scan(capped=False)
    scan.run(html)
    return {"depth": scan.max_depth, "elements": scan.elements,
            "formatting": scan.max_formatting, "reconstruct": scan.reconstruct,
            "tag_chars": scan.max_tag}


class _Scan:
    """One pass over the tags, keeping the model of open elements described above."""

    def __init__(self, capped: bool) -> None:
        self.capped = capped
        self.flags: set[str] = set()
        self.drop: list[tuple[int, int]] = []  # spans of formatting tags left out
        self.open: dict[str, int] = {}
        self.depth = self.elements = self.formatting = self.reconstruct = 0
        self.max_depth = self.max_formatting = self.max_tag = 0

    def _over(self, value: int, bound: int, flag: str) -> bool:
        if self.capped and value > bound:
            self.flags.add(flag)
            return True
        return False

    def run(self, html: str) -> int:
        """Scan ``html``; where it is cut (its length when it is not)."""
        for m in _TAG.finditer(html):
            if self._tag(m):
                return m.start()
        return len(html)

    def _tag(self, m: re.Match[str]) -> bool:
        """Account for one tag; whether the document is cut before it."""
        closing, name = m.group(1), m.group(2).translate(_ASCII_LOWER)
        size = m.end() - m.start()
        self.max_tag = max(self.max_tag, size)
        if self._over(size, MAX_TAG_CHARS, "truncated:html_tag"):
            return True
        if closing:
            n = self.open.get(name, 0)
            if n:
                self.open[name] = n - 1
                self.depth -= 1
                if name in _FORMATTING:
                    self.formatting -= 1
            return False
        self.elements += 1
        if self._over(self.elements, MAX_ELEMENTS, "truncated:html_elements"):
            return True
        # A trailing '/' closes nothing in HTML: "<div/>" opens a div, as "<div>" does
        # (only SVG and MathML honour it, and counting those as open only errs high).
        if name in _VOID:
            return False
        if name in _FORMATTING:
            if self.capped and self.formatting >= MAX_OPEN_FORMATTING:
                self.flags.add("truncated:html_formatting")
                self.drop.append(m.span())
                return False
            self.formatting += 1
            self.max_formatting = max(self.max_formatting, self.formatting)
        else:
            self.reconstruct += self.formatting
            if self._over(self.reconstruct, MAX_RECONSTRUCT, "truncated:html_reconstruct"):
                return True
        n = self.open.get(name, 0)
        if name in _SELF_CLOSING_KIND and n:
            return False
        self.open[name] = n + 1
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        return self._over(self.depth, MAX_DEPTH, "truncated:html_depth")
