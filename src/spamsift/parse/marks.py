"""Runs of combining marks, cut to the length Unicode's Stream-Safe Text Format allows.

NFKC puts each run of combining marks in canonical order with an insertion sort, so
its time grows with the square of a run's length: 64,000 alternating marks took
3.2 s here, a megabyte of them would take minutes, inside one call into C. UAX #15's
Stream-Safe Text Format allows at most 30 non-starters in a row; no script needs
more than a few, so cutting longer runs to 30 loses no text a reader sees.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np

__all__ = ["cap_mark_runs", "MAX_MARK_RUN"]

MAX_MARK_RUN = 30


_PLANES = 0x20000  # every non-starter lies below (see _mark_ranges)


@cache
def _mark_ranges() -> tuple[tuple[int, int], ...]:
    # Non-starters: canonical combining class above 0, or a compatibility
    # decomposition that begins with one (U+0F73 is two marks under NFKD). All of
    # Unicode 14's 917 lie below U+20000; scanning those planes takes 20 ms, once.
    ranges: list[list[int]] = []
    for c in range(0x20000):
        ch = chr(c)
        if unicodedata.combining(ch) or unicodedata.combining(unicodedata.normalize("NFKD", ch)[0]):
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    return tuple((a, b) for a, b in ranges)


@cache
def _mark_run() -> re.Pattern[str]:
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                  for a, b in _mark_ranges())
    return re.compile(f"[{cls}]{{{MAX_MARK_RUN + 1},}}")


@cache
def _is_mark() -> np.ndarray:
    table = np.zeros(_PLANES, dtype=bool)
    for a, b in _mark_ranges():
        table[a:b + 1] = True
    return table


def _has_long_run(text: str) -> bool:
    """Whether ``text`` holds a run of more than :data:`MAX_MARK_RUN` marks.

    The regex alone took 0.66 ms per non-ASCII corpus body, a tenth of featurising:
    for each character that is not a mark, the engine walks the class's list of
    ranges above U+FFFF. A lookup table over the code points finds the (rare) long
    runs in a few microseconds; only then does the regex cut them.
    """
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    marks = _is_mark()[np.minimum(cps, _PLANES - 1)] & (cps < _PLANES)
    k = MAX_MARK_RUN + 1
    if marks.size < k:
        return False
    seen = np.zeros(marks.size + 1, dtype=np.int64)
    np.cumsum(marks, out=seen[1:])
    return bool((seen[k:] - seen[:-k]).max() == k)


def cap_mark_runs(text: str) -> tuple[str, int]:
    """``text`` with each run of combining marks cut to :data:`MAX_MARK_RUN`; and how many
    runs were cut.

    >>> cap_mark_runs("e" + "\u0301" * 40)[0] == "e" + "\u0301" * 30
    True
    """
    if len(text) <= MAX_MARK_RUN or text.isascii() or not _has_long_run(text):
        return text, 0
    return _mark_run().subn(lambda m: m.group(0)[:MAX_MARK_RUN], text)
