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

__all__ = ["cap_mark_runs", "MAX_MARK_RUN"]

MAX_MARK_RUN = 30


@cache
def _mark_run() -> re.Pattern[str]:
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
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                  for a, b in ranges)
    return re.compile(f"[{cls}]{{{MAX_MARK_RUN + 1},}}")


def cap_mark_runs(text: str) -> tuple[str, int]:
    """``text`` with each run of combining marks cut to :data:`MAX_MARK_RUN`; and how many
    runs were cut.

    >>> cap_mark_runs("e" + "\u0301" * 40)[0] == "e" + "\u0301" * 30
    True
    """
    if text.isascii():
        return text, 0
    return _mark_run().subn(lambda m: m.group(0)[:MAX_MARK_RUN], text)
