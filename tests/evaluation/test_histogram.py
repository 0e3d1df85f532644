"""ScoreHistogram: cut-offs in bounded memory, never letting more ham through than exact."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from spamsift.evaluation import cutoff_for_fpr
from spamsift.evaluation.histogram import ScoreHistogram
from spamsift.exceptions import InputError


@pytest.mark.parametrize("target", [0.001, 0.01, 0.1])
def test_cutoff_keeps_the_budget_and_is_within_a_bin_of_the_exact_one(target: float) -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.4).astype(int)
    z = np.where(y == 1, rng.normal(4, 3, y.size), rng.normal(-4, 3, y.size))
    h = ScoreHistogram()
    for part in np.array_split(np.arange(y.size), 7):  # added in pieces, as a stream does
        h.add(y[part], z[part])
    got = h.cutoff_for_fpr(target)
    exact = cutoff_for_fpr(y, expit(z), target)
    s_ham = expit(z[y == 0])
    assert (s_ham >= got).mean() <= target
    assert exact <= got
    logit = np.log(got / (1 - got)) - np.log(exact / (1 - exact))
    assert logit <= h.width + 1e-9
    assert h.n == (int((y == 0).sum()), int((y == 1).sum()))


def test_ham_beyond_the_top_bin_past_the_budget_means_nothing_is_spam() -> None:
    h = ScoreHistogram()
    h.add([0, 0, 1], [50.0, 60.0, 70.0])
    assert h.cutoff_for_fpr(0.001) > 1.0


def test_needs_ham_and_matching_shapes() -> None:
    h = ScoreHistogram()
    with pytest.raises(InputError, match="ham"):
        h.cutoff_for_fpr(0.01)
    with pytest.raises(InputError, match="labels"):
        h.add([0, 1], [0.5])
