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

__all__ = ["MARKS", "UNSPACED", "script_counts", "segment", "share_bin"]


def _mark_ranges() -> str:
    """Every combining mark (Mn, Mc, Me) of the Basic Multilingual Plane, as class ranges.

    Python's ``\\w`` holds letters and digits but not the vowel signs of Devanagari,
    Thai or vocalised Arabic, which would cut their words apart.
    """
    out: list[str] = []
    start = prev = -2
    # Han, Hangul syllables, surrogates and private use hold no marks: skip them.
    for cp in (*range(0x300, 0x3400), *range(0xA000, 0xAC00), *range(0xF900, 0x10000)):
        if unicodedata.category(chr(cp))[0] != "M":
            continue
        if cp != prev + 1:
            if start >= 0:
                out.append(f"{chr(start)}-{chr(prev)}")
            start = cp
        prev = cp
    out.append(f"{chr(start)}-{chr(prev)}")
    return "".join(out)


#: Combining marks, for use inside a regex character class.
MARKS = _mark_ranges()

# Each script's letters, by Unicode block.
_INDIC = ("devanagari", "bengali", "gurmukhi", "gujarati", "oriya", "tamil", "telugu",
          "kannada", "malayalam", "sinhala")
_BLOCKS: dict[str, str] = {
    "latin": "a-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
    "greek": "\u0370-\u03ff\u1f00-\u1fff",
    "cyrillic": "\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f",
    "armenian": "\u0531-\u058f",
    "hebrew": "\u0591-\u05f4",
    "arabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff",
    **{name: f"{chr(0x0900 + 128 * i)}-{chr(0x097f + 128 * i)}"
       for i, name in enumerate(_INDIC)},
    "thai": "\u0e01-\u0e3e\u0e40-\u0e7f",  # not the baht sign
    "lao": "\u0e80-\u0eff",
    "tibetan": "\u0f00-\u0fff",
    "myanmar": "\u1000-\u109f",
    "georgian": "\u10a0-\u10ff\u2d00-\u2d2f",
    "hangul": "\u1100-\u11ff\u3131-\u318e\ua960-\ua97f\uac00-\ud7ff",
    "ethiopic": "\u1200-\u139f",
    "khmer": "\u1780-\u17ff",
    "hiragana": "\u3041-\u309f",
    "katakana": "\u30a0-\u30ff\u31f0-\u31ff",
    "han": "\u3005\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
           "\U00020000-\U0003134f",
}
#: The scripts written without spaces between words.
UNSPACED = ("han", "hiragana", "katakana", "thai", "lao", "khmer", "myanmar")
_UNSPACED_CLASS = "".join(_BLOCKS[s] for s in UNSPACED)
#: A run of letters of scripts written without spaces.
UNSPACED_RUN = re.compile(f"[{_UNSPACED_CLASS}]+")
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
