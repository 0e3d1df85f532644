"""Explanation: clues that sum to the logit, the top ones, and their names."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spamsift.features.structure import structure_names
from spamsift.models.classifier import SpamClassifier
from spamsift.models.explain import _largest, column_label, contributions

Data = tuple[sp.csr_matrix, np.ndarray]


def test_contributions_of_a_row_sum_to_its_logit_minus_intercept(
        fitted_classifier: SpamClassifier, small_xy: Data) -> None:
    clf = fitted_classifier
    X = small_xy[0][:10]
    z = clf.decision_function(X)
    for zi, contrib in zip(z, contributions(clf, X), strict=True):
        assert contrib, "every message has some active feature"
        assert sum(w for _, w in contrib) == pytest.approx(zi - clf.intercept_, abs=1e-9)
        weights = [abs(w) for _, w in contrib]
        assert weights == sorted(weights, reverse=True)


def test_column_labels_name_each_block(fitted_classifier: SpamClassifier) -> None:
    clf = fitted_classifier
    n_tok = clf.layout.n_tokens
    assert column_label(clf, 5) == ("token", "#5")
    kind, label = column_label(clf, n_tok)
    assert kind == "structure"
    # The first bin of the first number: "log_size <= 7.9" style, not "(-inf, 7.9]".
    assert label.startswith(f"{structure_names()[0]} <= ")
    n_struct = clf.bin_edges_.shape[0] * clf.n_bins
    kind, label = column_label(clf, n_tok + n_struct)
    assert kind == "reputation"
    assert label.startswith("rep:")


def test_the_conflict_clue_keeps_clues_summing_to_the_logit(small_xy: Data,
                                                            small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier(model="nb+svm", conflict_gamma=1, **small_layout).fit(X, y)
    z = clf.decision_function(X[:20])
    kinds = set()
    for zi, contrib in zip(z, contributions(clf, X[:20]), strict=True):
        assert sum(w for _, w in contrib) == pytest.approx(zi - clf.intercept_, abs=1e-9)
        kinds |= {column_label(clf, j)[0] for j, _ in contrib}
    assert "conflict" in kinds


@pytest.mark.parametrize("top", [0, 1, 3, 8, 10_000])
def test_the_top_clues_are_the_head_of_all_of_them(fitted_classifier: SpamClassifier,
                                                   small_xy: Data, top: int) -> None:
    X, _ = small_xy
    every = contributions(fitted_classifier, X[:20])
    for row, head in zip(every, contributions(fitted_classifier, X[:20], top), strict=True):
        assert head == row[:top]


def test_ties_keep_their_order_in_the_top_clues() -> None:
    size = np.array([1.0, 3.0, 2.0, 3.0, 2.0, 2.0, 0.5])
    assert _largest(size, None).tolist() == [1, 3, 2, 4, 5, 0, 6]
    assert _largest(size, 3).tolist() == [1, 3, 2]
    assert _largest(size, 4).tolist() == [1, 3, 2, 4]
    assert _largest(size, 0).tolist() == []
