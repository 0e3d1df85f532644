"""What spamd's answers say about a message: headers, symbols and the report.

``PROCESS`` inserts one block of headers at the end of the message's header block,
where SpamAssassin puts its own, in the message's own line ending; every other
byte stays as it was::

    X-Spam-Checker-Version: spamsift 0.1.0
    X-Spam-Flag: YES                           (NO when not spam)
    X-Spam-Level: *********                    (one * per point, as SpamAssassin)
    X-Spam-Status: Yes, score=9.8 required=5.0 tests=rep:from_addr:unknown,
            our,click,... version=spamsift-0.1.0
    X-Spam-Score: 9.8
    X-Spamsift-Verdict: spam                   (spam, unsure or ham)
    X-Spamsift-Probability: 0.973550
    X-Spamsift-Model: 20261128T140102Z-ab12cd
    X-Spamsift-Clues: +1.005 rep:from_addr:unknown, +0.378 our, ...
    X-Spamsift-Flags: truncated:parts          (only when parsing cut something)

Headers of the same names already in the message are left alone (the message is
kept byte for byte); a mail system that trusts ``X-Spam-*`` from outside should
remove them before scanning. :func:`strip_markup` takes our block out again, so a
message learned through ``TELL`` after ``PROCESS`` is the message that was scanned.

Clue names become "symbols" (spamd's rule names) by replacing spaces and commas
with ``_`` and escaping what is not ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spamsift import __version__
from spamsift.models.spam_model import Verdict
from spamsift.parse.message import ParsedMessage
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.score import THRESHOLD, sa_score, shown_score, stars

__all__ = ["Scan", "scan_of", "scan_many", "symbol", "header_lines", "mark", "headers_only",
           "strip_markup", "report"]

_BLANK = re.compile(rb"\n\r?\n")
_CHECKER = b"X-Spam-Checker-Version: spamsift"
_SYMBOL_CHARS = 60
_FOLD = 78


@dataclass(frozen=True)
class Scan:
    """One message's verdict in spamd's terms."""

    verdict: Verdict
    model_version: str
    score: float  # SpamAssassin-style, unrounded
    shown: float  # what the protocol shows: one decimal, on the verdict's side

    @property
    def is_spam(self) -> bool:
        return self.verdict.verdict == "spam"

    @property
    def threshold(self) -> float:
        return THRESHOLD


def scan_of(verdict: Verdict, spam_cutoff: float, model_version: str) -> Scan:
    """The :class:`Scan` of a verdict given by a model with ``spam_cutoff``."""
    score = sa_score(verdict.logit, spam_cutoff)
    return Scan(verdict, model_version, score, shown_score(score, verdict.verdict == "spam"))


def scan_many(holder: ModelHolder, raws: Sequence[bytes | ParsedMessage], top: int
              ) -> list[Scan]:
    """Classify ``raws`` (raw messages or their parses) with the model ``holder`` serves
    now, as the REST API does.

    The whole batch uses one model, whatever swaps meanwhile; one call for many
    messages gives each the verdict it gets alone.
    """
    loaded = holder.current
    verdicts = loaded.model.classify(raws, top=top)
    return [scan_of(v, loaded.model.spam_cutoff, loaded.version) for v in verdicts]


def symbol(clue: str) -> str:
    """A clue's name as a spamd symbol: no spaces or commas, ASCII, at most 60 chars.

    >>> symbol("rep:from_addr:spam_rate 0.02-0.10 seen 6+")
    'rep:from_addr:spam_rate_0.02-0.10_seen_6+'
    """
    name = re.sub(r"[\s,]+", "_", clue.strip()).encode("ascii", "backslashreplace").decode()
    return name[:_SYMBOL_CHARS] or "_"


def _fold(head: str, items: Sequence[str], sep: str, tail: str = "") -> list[str]:
    """``head`` and ``items`` joined by ``sep``, folded (a new line starting with a
    tab) before an item that would take the line past 78 columns."""
    lines = [head]
    for i, item in enumerate(items):
        piece = item + (sep if i < len(items) - 1 else "")
        if len(lines[-1]) + len(piece) > _FOLD and lines[-1] not in (head, "\t"):
            lines[-1] = lines[-1].rstrip()
            lines.append("\t")
        lines[-1] += piece
    if tail:
        if len(lines[-1]) + 1 + len(tail) > _FOLD:
            lines.append("\t" + tail)
        else:
            lines[-1] += " " + tail
    return lines


def header_lines(scan: Scan) -> list[str]:
    """The header block :func:`mark` inserts, one string per physical line."""
    v = scan.verdict
    yes = "Yes" if scan.is_spam else "No"
    tests = [symbol(c) for c, _ in v.clues] or ["none"]
    out = [f"X-Spam-Checker-Version: spamsift {__version__}",
           f"X-Spam-Flag: {'YES' if scan.is_spam else 'NO'}",
           f"X-Spam-Level: {stars(scan.shown)}".rstrip()]
    out += _fold(f"X-Spam-Status: {yes}, score={scan.shown:.1f} required={THRESHOLD:.1f} "
                 "tests=", tests, ",", tail=f"version=spamsift-{__version__}")
    out += [f"X-Spam-Score: {scan.shown:.1f}",
            f"X-Spamsift-Verdict: {v.verdict}",
            f"X-Spamsift-Probability: {v.score:.6f}",
            f"X-Spamsift-Model: {symbol(scan.model_version)}"]
    if v.clues:
        out += _fold("X-Spamsift-Clues: ", [f"{w:+.3f} {symbol(c)}" for c, w in v.clues], ", ")
    if v.flags:
        out += _fold("X-Spamsift-Flags: ", [symbol(f) for f in v.flags], ", ")
    return out


def _header_end(raw: bytes) -> int:
    """Offset of the empty line that ends the header block (``len(raw)`` if none)."""
    if raw.startswith((b"\n", b"\r\n")):
        return 0
    m = _BLANK.search(raw)
    return len(raw) if m is None else m.start() + 1


def _newline(raw: bytes) -> bytes:
    nl = raw.find(b"\n")
    return b"\r\n" if nl > 0 and raw[nl - 1 : nl] == b"\r" else b"\n"


def mark(raw: bytes, lines: Sequence[str]) -> tuple[bytes, int]:
    """``raw`` with header ``lines`` inserted at the end of its header block.

    Returns the new message and the length of its header part up to and including
    the empty line that ends it (what ``HEADERS`` answers). A message with no empty
    line is all header: the block goes at its end, followed by an empty line.
    """
    nl = _newline(raw)
    block = b"".join(line.encode("ascii", "backslashreplace") + nl for line in lines)
    at = _header_end(raw)
    if at == len(raw):
        head = raw if not raw or raw.endswith(b"\n") else raw + nl
        return head + block + nl, len(head) + len(block) + len(nl)
    blank = 2 if raw.startswith(b"\r\n", at) else 1
    return raw[:at] + block + raw[at:], at + len(block) + blank


def headers_only(marked: bytes, header_length: int) -> bytes:
    """What ``HEADERS`` answers: the marked message's header part."""
    return marked[:header_length]


def strip_markup(raw: bytes) -> bytes:
    """``raw`` without the header block :func:`mark` inserted (unchanged if none).

    Only a block at the end of the header block that begins with our
    ``X-Spam-Checker-Version: spamsift`` line and holds nothing but ``X-Spam*``
    headers is taken out, so the result is byte for byte the message scanned.
    """
    at = _header_end(raw)
    head = raw[:at]
    last = head.rfind(b"\n" + _CHECKER)
    start = last + 1 if last >= 0 else (0 if head.startswith(_CHECKER) else -1)
    if start < 0:
        return raw  # no block of ours
    for line in head[start:].splitlines():
        if not (line.startswith(b"X-Spam") or line[:1] in (b" ", b"\t")):
            return raw  # something else follows: not the block mark() inserted
    return raw[:start] + raw[at:]


def report(scan: Scan) -> str:
    """spamd's ``REPORT`` body: the verdict and a SpamAssassin-style points table.

    The clues' points are their log-odds weights; the last row holds the rest of
    the score (the model's bias, the cut-off's offset and the clues not shown), so
    the column adds up to the score.
    """
    v = scan.verdict
    lines = [
        f"spamsift {__version__} (model {scan.model_version}) says: {v.verdict}, "
        f"spam probability {v.score:.6f}.",
        "",
        f"Content analysis details:   ({scan.shown:.1f} points, {THRESHOLD:.1f} required)",
        "",
        " pts rule name              description",
        "---- ---------------------- --------------------------------------------------",
    ]
    for clue, w in v.clues:
        name = symbol(clue)
        note = f"weight {w:+.3f}" + (f": {clue}" if name != clue else "")
        lines.append(f"{w:4.1f} {name:<22} {note}")
    rest = scan.score - sum(w for _, w in v.clues)
    lines.append(f"{rest:4.1f} {'spamsift:rest':<22} bias, cut-off offset and the other clues")
    if v.flags:
        lines += ["", "Parsing flags: " + ", ".join(v.flags)]
    return "\n".join(lines) + "\n"
