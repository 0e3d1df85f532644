"""Turning the label spellings found in indexes, datasets and folders into ``spam``/``ham``."""

from __future__ import annotations

__all__ = ["normalise_label"]

# Public corpora spell the two classes as words or as 1/0 (1 = spam, as in the
# Enron-spam, Ling-spam and SMS Spam Collection CSV exports). "true"/"false" is
# left out on purpose: whether true means "is spam" or "is ham" is a guess.
_SPELLINGS = {"spam": "spam", "ham": "ham", "1": "spam", "0": "ham"}


def normalise_label(value: object) -> str | None:
    """The label as ``"spam"`` or ``"ham"``, or None when it is not one spamsift knows.

    Parameters
    ----------
    value : object
        A label as read: ``"SPAM"``, ``" ham "``, ``"1"``, ``0``...

    Returns
    -------
    str or None
        One of ``LABELS``, or None.

    Examples
    --------
    >>> normalise_label(" Spam"), normalise_label(0), normalise_label("maybe")
    ('spam', 'ham', None)
    """
    # bool is an int: True would otherwise read as 1 = spam, the guess ruled out above.
    if value is None or isinstance(value, bool):
        return None
    return _SPELLINGS.get(str(value).strip().lower())
