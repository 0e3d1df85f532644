"""spamsift's probability as a SpamAssassin score: ``score / 5.0``.

SpamAssassin adds rule points and calls a message spam at 5.0 or more; spamc,
procmail recipes and Exim's ``spam =`` condition all read that pair. spamsift's
model gives a log-odds ``z`` (the probability is ``1 / (1 + e**-z)``) and a spam
cut-off ``c`` on the probability. The map is::

    score = 5.0 + (z - logit(c))          clipped to [-100, 100]

one point per unit of log-odds, with the threshold at the spam cut-off. So:

- it is monotone, and ``score >= 5.0`` exactly when the verdict is spam (on the
  boundary the verdict decides: see :func:`shown_score`);
- a clue's weight (log-odds) is its share of the score in points, as a rule's
  points are in SpamAssassin: the report's ``pts`` column adds up to the score;
- it does not depend on the unsure cut-off; for the bundled model (cut-offs 0.963
  and 0.158) the unsure cut-off lands at 0.1 points. On the temporal test rows the
  median ham scores -6.8 and the median spam 9.8 (95 % of spam below 13.4), close
  to where SpamAssassin's own scores fall.

Scores are shown with one decimal, as spamd shows them, and with its rule for the
boundary: a message that is not spam never shows 5.0 (it shows 4.9), so a client
comparing the two numbers agrees with the verdict.
"""

from __future__ import annotations

import math

__all__ = ["THRESHOLD", "LIMIT", "sa_score", "shown_score", "stars"]

THRESHOLD = 5.0
LIMIT = 100.0
_EPS = 1e-12


def sa_score(logit: float, spam_cutoff: float) -> float:
    """The SpamAssassin-style score of a message with log-odds ``logit``.

    >>> sa_score(0.0, 0.5)
    5.0
    >>> round(sa_score(3.0, 0.5), 6)
    8.0
    """
    c = min(max(spam_cutoff, _EPS), 1.0 - _EPS)
    score = THRESHOLD + logit - math.log(c / (1.0 - c))
    return min(max(score, -LIMIT), LIMIT)


def shown_score(score: float, is_spam: bool) -> float:
    """``score`` to one decimal, kept on the verdict's side of the threshold.

    Rounding alone could show a ham's 4.96 as 5.0, or a float at the cut-off on
    the wrong side: SpamAssassin's spamd shows such a ham as 4.9, and so do we.

    >>> shown_score(4.96, False), shown_score(4.96, True), shown_score(12.34, True)
    (4.9, 5.0, 12.3)
    >>> shown_score(-0.04, False)
    0.0
    """
    shown = round(score, 1) + 0.0  # never -0.0: spamc prints it as 0.0, so do we
    if is_spam:
        return max(shown, THRESHOLD)
    return min(shown, THRESHOLD - 0.1)


def stars(score: float, char: str = "*") -> str:
    """SpamAssassin's ``X-Spam-Level``: one ``*`` per whole point, at most 50."""
    return char * min(50, max(0, int(score)))
