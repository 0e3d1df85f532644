"""Parsers for the sandbox tests: each misbehaves on a marker, as an unknown
pathology inside one call into C would, and parses normally otherwise.

Module-level functions, so the sandbox's workers can import them by name.
"""

from __future__ import annotations

import os
import re

from spamsift.config import ParseLimits
from spamsift.parse import ParsedMessage, parse_message

# Catastrophic backtracking: one call into the regex engine's C code that holds
# the interpreter for far longer than any test waits, out of reach of any clock check.
_SLOW = re.compile(r"(a|aa)+$")


def misbehaving(raw: bytes, limits: ParseLimits) -> ParsedMessage:
    if b"X-Test: spin" in raw:
        _SLOW.match("a" * 60 + "b")
    elif b"X-Test: hog" in raw:
        blocks = []
        while True:  # until the address-space limit says no
            blocks.append(bytearray(64 << 20))
    elif b"X-Test: die" in raw:
        os._exit(3)
    return parse_message(raw, limits)
