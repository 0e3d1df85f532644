"""Text normalisation before tokens: one canonical spelling for what spam disguises.

NFKC folds full-width and compatibility forms; case folding; zero-width and bidi
controls are removed and counted (they split words for the eye but not for a
filter that drops them); Latin look-alikes from Cyrillic and Greek are folded
inside words that are otherwise Latin, and Latin look-alikes inside words that
are otherwise Cyrillic, while real words of either script are left alone; digits
standing for letters in otherwise-alphabetic words (``v1agra``, ``fr3e``) are
folded too, and the folding itself is evidence.

Runs of combining marks are cut first (:mod:`spamsift.parse.marks`), which
bounds NFKC's time.
"""

from __future__ import annotations

import re
import unicodedata

from spamsift.parse.marks import cap_mark_runs

__all__ = ["normalise", "fold_obfuscation", "to_latin_lookalikes", "INVISIBLE"]

# Soft hyphen, grapheme joiner, zero-width and bidi controls (U+061C, U+200E-F,
# U+202A-E, U+2066-9 are the whole Bidi_Control set), word joiners, BOM.
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u2069\ufeff]")
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x",
}
_TO_LATIN = str.maketrans(_HOMOGLYPHS)
# The other way, for Latin look-alikes slipped into Cyrillic words ("cбербанк").
_TO_CYRILLIC = str.maketrans({v: k for k, v in _HOMOGLYPHS.items() if "\u0400" <= k <= "\u04ff"})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s", "!": "i", "|": "l"})
_HAS_LATIN = re.compile(r"[a-z]")
_NON_LATIN_LETTER = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Hyphens and dots join words of different scripts legitimately ("pdf-файл",
# "sms-сообщение"); a disguise hides inside one part.
_PART_SEP = re.compile(r"([-.'])")
# Stand-ins only between letters: "v1agra" and "g00gle" are disguised, while a
# trailing number ("mp3", "win10", "html5") names a version, not a letter.
_LEETABLE = re.compile(r"^[a-z]+(?:[0-9@$!|]+[a-z]+)+$")


def normalise(text: str) -> tuple[str, int]:
    """NFKC, case-folded text with invisible controls removed; and how many were.

    Runs of combining marks past the stream-safe bound are cut first (parsing has
    cut those of bodies already, and flagged them), which bounds NFKC's time.
    """
    text, n_invisible = INVISIBLE.subn("", text)
    text, _ = cap_mark_runs(text)
    return unicodedata.normalize("NFKC", text).casefold(), n_invisible


def fold_obfuscation(word: str) -> str | None:
    """The plain spelling of a disguised word, or None when it is not disguised.

    >>> fold_obfuscation("v1agra"), fold_obfuscation("vіagra"), fold_obfuscation("2002")
    ('viagra', 'viagra', None)
    >>> fold_obfuscation("mp3"), fold_obfuscation("hello"), fold_obfuscation("pdf-файл")
    (None, None, None)

    Letters of another script count as disguise only when swapping look-alikes makes
    a part of the word all the script most of its letters are in: Cyrillic in a Latin
    word, or Latin in a Cyrillic one (``"cбepбанк"`` -> ``"сбербанк"``). A real word
    of either script has nothing to swap, and parts joined by ``-``, ``.`` or ``'``
    are judged each alone.
    """
    if _NON_LATIN_LETTER.search(word) and _HAS_LATIN.search(word):
        parts = _PART_SEP.split(word)
        folded = "".join(_fold_part(p) for p in parts)
        return folded if folded != word else None
    if _LEETABLE.match(word):
        # A word mostly of letters with a few digits in letter positions.
        n_alpha = sum(c.isalpha() for c in word)
        if n_alpha >= 2 and n_alpha >= len(word) - 2:
            folded = word.translate(_LEET)
            return folded if folded.isalpha() else None
    return None


def to_latin_lookalikes(word: str) -> str | None:
    """``word`` in Latin letters when every non-Latin letter of it is a look-alike of
    one (a host label such as "раураl"), else None; None for a word already ASCII.

    >>> to_latin_lookalikes("раураl"), to_latin_lookalikes("почта"), to_latin_lookalikes("abc")
    ('paypal', None, None)
    """
    if word.isascii():
        return None
    latin = word.translate(_TO_LATIN)
    return latin if latin.isascii() else None


def _fold_part(part: str) -> str:
    """One part of a mixed-script word in the script most of its letters are in, if
    swapping look-alikes makes it all that script ("сoк", one Latin o, is "сок")."""
    n_latin = len(_HAS_LATIN.findall(part))
    n_other = len(_NON_LATIN_LETTER.findall(part))
    if not (n_latin and n_other):
        return part
    if n_latin >= n_other:
        latin = part.translate(_TO_LATIN)
        return part if _NON_LATIN_LETTER.search(latin) else latin
    cyrillic = part.translate(_TO_CYRILLIC)
    return part if _HAS_LATIN.search(cyrillic) or not _CYRILLIC.search(part) else cyrillic
