"""Score histograms per class: cut-offs for a false-positive budget in bounded memory.

:func:`~spamsift.evaluation.cutoff_for_fpr` sorts every ham score; over a stream of
millions that is an array growing with the input. Here each class keeps counts of
its logits in fixed bins of :data:`WIDTH` over [-:data:`LIMIT`, :data:`LIMIT`] (the
ends catch everything beyond): 2 x 6,000 counts, 96 KB, whatever the input.

The cut-off it gives is conservative in the same way: every ham in the bin that
holds the (k+1)-th highest ham score falls below it, so at most ``k`` ham lie at or
above it; it can sit up to one bin (0.01 logit) higher than the exact one.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from spamsift.evaluation._validate import allowed_false_positives, check_rate
from spamsift.exceptions import InputError

__all__ = ["ScoreHistogram", "LIMIT", "WIDTH"]

# Past |z| = 36.7 the spam probability rounds to 1.0 in float64, so bins there could
# not be told apart as cut-offs; 30 keeps every edge a distinct probability.
LIMIT = 30.0
# 0.01 logit: a cut-off moves the probability by at most 1 % of its odds.
WIDTH = 0.01



class ScoreHistogram:
    """Counts of ham and spam logits in fixed bins.

    >>> h = ScoreHistogram()
    >>> h.add([0, 0, 0, 0, 1], [-3.0, -2.0, -1.0, 2.0, 4.0])
    >>> round(h.cutoff_for_fpr(0.25), 4)  # one ham of four above; -1.0 in the bin below -0.99
    0.2709
    """

    def __init__(self, limit: float = LIMIT, width: float = WIDTH):
        self.limit = limit
        self.width = width
        n = int(round(2 * limit / width))
        self.edges = np.linspace(-limit, limit, n + 1)
        self.counts = np.zeros((2, n), dtype=np.int64)

    @property
    def n(self) -> tuple[int, int]:
        """(ham, spam) counted."""
        return int(self.counts[0].sum()), int(self.counts[1].sum())

    def add(self, y: np.ndarray | list[int], z: np.ndarray | list[float]) -> None:
        """Count logits ``z`` of messages labelled ``y`` (1 spam, 0 ham)."""
        y = np.asarray(y, dtype=int)
        z = np.asarray(z, dtype=float)
        if y.shape != z.shape or not set(np.unique(y)) <= {0, 1}:
            raise InputError(f"expected labels 0/1 and as many logits, got {y.shape} labels "
                             f"and {z.shape} logits")
        # edges[b] <= z < edges[b + 1] exactly (a division could round across an edge).
        b = np.clip(np.searchsorted(self.edges, z, side="right") - 1, 0,
                    self.counts.shape[1] - 1)
        for c in (0, 1):
            np.add.at(self.counts[c], b[y == c], 1)

    def cutoff_for_fpr(self, target_fpr: float) -> float:
        """The lowest bin edge (as a probability) with at most ``target_fpr`` of ham at or
        above it; above 1 (nothing is spam) when ham fills the top bin past the budget."""
        target = check_rate("target_fpr", target_fpr)
        ham = self.counts[0]
        n_ham = int(ham.sum())
        if n_ham == 0:
            raise InputError("a cut-off for a false-positive rate needs ham scores, got none")
        k = allowed_false_positives(n_ham, target)
        above = np.cumsum(ham[::-1])[::-1]  # ham in this bin or higher
        over = np.flatnonzero(above > k)
        if not len(over):
            return 0.0
        b = int(over[-1])
        if b == len(ham) - 1:
            return float(np.nextafter(1.0, np.inf))
        # nextafter: a ham just under the edge may round onto the edge's probability.
        return float(np.nextafter(expit(self.edges[b + 1]), np.inf))
