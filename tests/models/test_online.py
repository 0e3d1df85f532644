"""Learning from feedback: partial_fit moves the model, and unlearning is exact."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from spamsift.models.classifier import SpamClassifier
from spamsift.models.persistence import load_model, save_model
from spamsift.models.priors import prior_weights
from spamsift.models.spam_model import SpamModel

Data = tuple[sp.csr_matrix, np.ndarray]


@pytest.fixture
def clf(fitted_classifier: SpamClassifier) -> SpamClassifier:
    return copy.deepcopy(fitted_classifier)  # the session fixture must not move


def test_learn_then_unlearn_restores_every_score(clf: SpamClassifier, small_xy: Data) -> None:
    X, y = small_xy
    before = clf.decision_function(X)
    clf.partial_fit(X[:7], 1 - y[:7])  # seven wrong labels
    moved = clf.decision_function(X)
    assert np.abs(moved - before).max() > 1e-3
    clf.partial_fit(X[:7], 1 - y[:7], sample_weight=-1.0)
    np.testing.assert_allclose(clf.decision_function(X), before, rtol=0, atol=1e-9)


def test_learning_spam_raises_the_score_of_that_message(clf: SpamClassifier,
                                                         small_xy: Data) -> None:
    X, y = small_xy
    ham = int(np.flatnonzero(y == 0)[0])
    z0 = clf.decision_function(X[ham])[0]
    for _ in range(5):
        clf.partial_fit(X[ham], [1])
    assert clf.decision_function(X[ham])[0] > z0


@pytest.mark.parametrize(("weight", "labels", "match"), [
    pytest.param(2.0, [1], "sample_weight", id="weight-not-one"),
    pytest.param(1.0, [3], "labels 0/1", id="bad-label"),
    pytest.param(1.0, [1, 0], "labels 0/1", id="length-mismatch"),
])
def test_partial_fit_rejects_bad_arguments(clf: SpamClassifier, small_xy: Data, weight: float,
                                           labels: list[int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(small_xy[0][:1], labels, sample_weight=weight)


def test_an_empty_classifier_knows_nothing_then_learns(small_xy: Data,
                                                       small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier.empty(**small_layout)
    # Nothing but the prior evidence (models.priors), in full as no row has its tokens.
    pcols, pw = prior_weights(clf.layout.n_tokens)
    np.testing.assert_allclose(clf.decision_function(X),
                               (X[:, pcols] > 0).astype(np.float64) @ pw, rtol=0, atol=1e-12)
    clf.partial_fit(X[:40], y[:40])
    z = clf.decision_function(X[40:])
    assert z[y[40:] == 1].min() > z[y[40:] == 0].max()


def test_learned_counts_survive_save_and_load(small_model: SpamModel, small_xy: Data,
                                               tmp_path: Path) -> None:
    model = copy.deepcopy(small_model)
    X, y = small_xy
    model.classifier.partial_fit(X[:5], 1 - y[:5])
    loaded = load_model(save_model(model, tmp_path / "m"))
    np.testing.assert_allclose(loaded.classifier.decision_function(X),
                               model.classifier.decision_function(X), rtol=0, atol=1e-4)
    # ... and the loaded model can still unlearn them exactly (counts, not weights).
    loaded.classifier.partial_fit(X[:5], 1 - y[:5], sample_weight=-1.0)
    np.testing.assert_allclose(loaded.classifier.decision_function(X),
                               small_model.classifier.decision_function(X), rtol=0, atol=1e-4)


def test_count_feedback_equals_learning_the_same_feedback(clf: SpamClassifier,
                                                          small_xy: Data) -> None:
    X, y = small_xy
    learned = copy.deepcopy(clf)
    learned.partial_fit(X[:6], y[:6])
    clf.count_feedback(X[:6], y[:6])
    np.testing.assert_array_equal(clf.feedback_count_, learned.feedback_count_)
    assert clf.feedback_count_.sum() > 0


def test_partial_fit_takes_scikit_learns_arguments(small_xy: Data,
                                                  small_layout: dict[str, int]) -> None:
    X, y = small_xy
    one = SpamClassifier(model="nb+svm", **small_layout).fit(X, y)
    two = clone(one).fit(X, y)
    # Per-row weights (learn three, unlearn one) equal the same steps taken one by one.
    one.partial_fit(X[:4], 1 - y[:4], classes=[0, 1], sample_weight=[1, 1, 1, -1])
    two.partial_fit(X[:3], 1 - y[:3])
    two.partial_fit(X[3:4], 1 - y[3:4], sample_weight=-1)
    np.testing.assert_allclose(one.decision_function(X), two.decision_function(X))
    with pytest.raises(ValueError, match="classes must be"):
        one.partial_fit(X[:1], y[:1], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="sample_weight must be"):
        one.partial_fit(X[:2], y[:2], sample_weight=[1, 0.5])
