"""Writing systems: which scripts a text is written in, and words where scripts have no spaces.

Chinese, Japanese, Thai, Lao, Khmer and Burmese run words together, so a word
pattern sees a whole clause as one "word" (too long to keep). :func:`segment` cuts
such a run into overlapping pairs of characters (for Thai and the others, pairs of
a base letter with its vowel and tone marks), the usual dictionary-free way to
index them. :func:`script_counts` counts the letters of each script, for tokens
such as ``script:han`` and ``script_share:cyrillic:25``.

Scripts are told apart by Unicode block, after NFKC (which folds half-width
katakana and Arabic presentation forms onto the ordinary letters); case folding
has turned A-Z into a-z by then.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MARKS", "UNSPACED", "UNSPACED_CHAR", "UNSPACED_LETTERS", "UNSPACED_RUN",
           "script_counts", "segment", "share_bin"]


def _char_class(ranges: tuple[tuple[int, int], ...], kinds: str) -> str:
    """The code points of ``ranges`` whose general category starts with one of
    ``kinds`` (``"M"``: marks; ``"LMN"``: letters, marks, digits), as regex class ranges.

    For letters, ranges of more than 4,096 code points (Han, Hangul syllables) are
    letters throughout and are taken whole, which keeps the import fast.
    """
    out: list[str] = []
    for lo, hi in ranges:
        if "L" in kinds and hi - lo > 4096:
            out.append(f"{chr(lo)}-{chr(hi)}")
            continue
        start = prev = -2
        for cp in range(lo, hi + 1):
            if unicodedata.category(chr(cp))[0] not in kinds:
                continue
            if cp != prev + 1:
                if start >= 0:
                    out.append(f"{chr(start)}-{chr(prev)}")
                start = cp
            prev = cp
        if start >= 0:
            out.append(f"{chr(start)}-{chr(prev)}")
    return "".join(out)


#: Combining marks of the Basic Multilingual Plane, for use inside a regex character
#: class. Python's ``\w`` holds letters and digits but not the vowel signs of
#: Devanagari, Thai or vocalised Arabic, which would cut their words apart. (Han,
#: Hangul syllables, surrogates and private use hold none.)
MARKS = _char_class(((0x300, 0x33FF), (0xA000, 0xABFF), (0xF900, 0xFFFF)), "M")

# Each script's blocks; of these, its letters, marks and digits (not its punctuation:
# the katakana middle dot, the Thai and Khmer full stops).
_INDIC = ("devanagari", "bengali", "gurmukhi", "gujarati", "oriya", "tamil", "telugu",
          "kannada", "malayalam", "sinhala")
_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "latin": ((0x61, 0x7A), (0xAA, 0xAA), (0xB5, 0xB5), (0xBA, 0xBA), (0xC0, 0x24F),
              (0x1E00, 0x1EFF)),
    "greek": ((0x370, 0x3FF), (0x1F00, 0x1FFF)),
    "cyrillic": ((0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "armenian": ((0x531, 0x58F),),
    "hebrew": ((0x591, 0x5F4),),
    "arabic": ((0x600, 0x6FF), (0x750, 0x77F), (0x8A0, 0x8FF)),
    **{name: ((0x900 + 128 * i, 0x97F + 128 * i),) for i, name in enumerate(_INDIC)},
    "thai": ((0xE01, 0xE7F),),
    "lao": ((0xE80, 0xEFF),),
    "tibetan": ((0xF00, 0xFFF),),
    "myanmar": ((0x1000, 0x109F),),
    "georgian": ((0x10A0, 0x10FF), (0x2D00, 0x2D2F)),
    "hangul": ((0x1100, 0x11FF), (0x3131, 0x318E), (0xA960, 0xA97F), (0xAC00, 0xD7FF)),
    "ethiopic": ((0x1200, 0x139F),),
    "khmer": ((0x1780, 0x17FF),),
    "hiragana": ((0x3041, 0x309F),),
    "katakana": ((0x30A0, 0x30FF), (0x31F0, 0x31FF)),
    "han": ((0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029), (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F)),
}
_BLOCKS = {name: _char_class(ranges, "LMN") for name, ranges in _RANGES.items()}
#: The scripts written without spaces between words.
UNSPACED = ("han", "hiragana", "katakana", "thai", "lao", "khmer", "myanmar")
_UNSPACED_CLASS = "".join(_BLOCKS[s] for s in UNSPACED)
#: A run of letters of scripts written without spaces, and one such letter (to test
#: for one without matching a long run to its end).
UNSPACED_RUN = re.compile(f"[{_UNSPACED_CLASS}]+")
UNSPACED_CHAR = re.compile(f"[{_UNSPACED_CLASS}]")
#: The letters of those scripts, for use inside a regex character class.
UNSPACED_LETTERS = _UNSPACED_CLASS
# One unit of an unspaced run: a character and the marks written over or after it.
_UNIT = re.compile(f"[^{MARKS}][{MARKS}]*")
_LATIN = re.compile(f"[{_BLOCKS['latin']}]+")
_ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
# Anything past Latin, then which script each run of it is.
_BEYOND_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff]+")
_OTHER = re.compile("|".join(f"(?P<{name}>[{chars}]+)" for name, chars in _BLOCKS.items()
                             if name != "latin"))


def script_counts(text: str) -> dict[str, int]:
    """How many letters of ``text`` each script has (scripts with none left out).

    >>> script_counts("Привет, world")
    {'latin': 5, 'cyrillic': 6}
    """
    counts: dict[str, int] = {}
    if text.isascii():
        # Most text: letters counted by deleting them, in C (a tenth of a regex's time).
        n_latin = len(text) - len(text.encode("ascii").translate(None, _ASCII_LETTERS))
        return {"latin": n_latin} if n_latin else counts
    n_latin = sum(map(len, _LATIN.findall(text)))
    if n_latin:
        counts["latin"] = n_latin
    # Pull out what is not Latin first, in one C-level pass, then name its scripts.
    for m in _OTHER.finditer(" ".join(_BEYOND_LATIN.findall(text))):
        name = str(m.lastgroup)
        counts[name] = counts.get(name, 0) + m.end() - m.start()
    return counts


def share_bin(n: int, total: int) -> int:
    """A share rounded to a quarter, as a percentage: 0, 25, 50, 75 or 100."""
    return 25 * round(4 * n / total) if total else 0


def segment(run: str, unigrams: bool = False) -> list[str]:
    """Overlapping pairs of units of an unspaced run (and each unit, with ``unigrams``).

    A unit is a character with the combining marks that follow it, so Thai vowel and
    tone marks stay on their consonant. A run of one unit is that unit.

    >>> segment("会议纪要")
    ['会议', '议纪', '纪要']
    >>> segment("会")
    ['会']
    """
    units = _UNIT.findall(run)
    if len(units) < 2:
        return units
    pairs = [a + b for a, b in zip(units, units[1:], strict=False)]
    return units + pairs if unigrams else pairs
