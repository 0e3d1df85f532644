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
    # The margin members' steps too, so that the loaded model can take them back.
    for a, b in zip(loaded.classifier.margin_log(), model.classifier.margin_log(), strict=True):
        np.testing.assert_array_equal(a, b)
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


def _token_weights(clf: SpamClassifier) -> np.ndarray:
    return clf.coef_normalized_[:clf.layout.n_tokens].copy()


def test_feedback_teaches_the_margin_members_up_to_the_margin(clf: SpamClassifier,
                                                               small_xy: Data) -> None:
    X, y = small_xy
    z = clf.decision_function(X)
    ham = int(np.flatnonzero(y == 0)[np.argmin(z[y == 0])])  # the surest ham, called spam
    w0 = _token_weights(clf)
    clf.partial_fit(X[ham], [1])
    moved = np.flatnonzero(_token_weights(clf) != w0)
    tokens = X[ham].indices[X[ham].indices < clf.layout.n_tokens]
    assert len(moved) and set(moved) <= set(tokens)  # only this message's words
    _, counts, steps = clf.margin_log()
    assert counts.tolist() == [1] and 0 < steps[0] <= clf.feedback_C
    # Just far enough: the label clears the margin, unless the step hit its cap.
    after = clf.decision_function(X[ham])[0]
    assert after == pytest.approx(clf.feedback_margin, abs=1e-6) or steps[0] == clf.feedback_C
    # A ham label must clear the (larger) ham margin: the step back goes past the start.
    clf.partial_fit(X[ham], [1], sample_weight=-1.0)
    clf.partial_fit(X[ham], [0])
    back = clf.decision_function(X[ham])[0]
    assert back <= -clf.feedback_ham_margin + 1e-6 or back == pytest.approx(z[ham], abs=1e-9)


def test_mail_right_by_the_margin_moves_no_margin_weight(clf: SpamClassifier,
                                                        small_xy: Data) -> None:
    X, y = small_xy
    z = clf.decision_function(X)
    spam = int(np.argmax(np.where(y == 1, z, -np.inf)))
    assert z[spam] > clf.feedback_margin  # the fixture's surest spam
    w0 = _token_weights(clf)
    clf.partial_fit(X[spam], [1])
    np.testing.assert_array_equal(_token_weights(clf), w0)
    assert len(clf.margin_log()[0]) == 0


def test_margin_learning_off_leaves_the_margin_members(clf: SpamClassifier,
                                                       small_xy: Data) -> None:
    X, y = small_xy
    clf.set_params(feedback_margin=0.0, feedback_ham_margin=0.0)
    w0 = _token_weights(clf)
    clf.partial_fit(X[:7], 1 - y[:7])
    np.testing.assert_array_equal(_token_weights(clf), w0)


def test_a_batch_learns_what_the_same_rows_given_singly_learn(clf: SpamClassifier,
                                                              small_xy: Data) -> None:
    X, y = small_xy
    single = copy.deepcopy(clf)
    clf.partial_fit(X[:9], 1 - y[:9])
    for i in range(9):
        single.partial_fit(X[i], [1 - y[i]])
    np.testing.assert_allclose(clf.decision_function(X), single.decision_function(X),
                               rtol=0, atol=1e-9)


def test_retraction_takes_back_its_own_step_after_others(clf: SpamClassifier,
                                                         small_xy: Data) -> None:
    """Steps do not commute, so each is remembered: unlearning the first of two
    wrong labels leaves exactly the second one's step."""
    X, y = small_xy
    w0 = _token_weights(clf)
    clf.partial_fit(X[0], [1 - y[0]])
    w1 = _token_weights(clf)
    clf.partial_fit(X[1], [1 - y[1]])
    step_b = _token_weights(clf) - w1
    clf.partial_fit(X[0], [1 - y[0]], sample_weight=-1.0)
    np.testing.assert_allclose(_token_weights(clf), w0 + step_b, rtol=0, atol=1e-12)
    clf.partial_fit(X[1], [1 - y[1]], sample_weight=-1.0)
    np.testing.assert_allclose(_token_weights(clf), w0, rtol=0, atol=1e-12)
    assert len(clf.margin_log()[0]) == 0


def test_a_label_learned_before_load_leaves_the_margin_members_at_retrain(
        clf: SpamClassifier, fitted_classifier: SpamClassifier, small_xy: Data) -> None:
    """No remembered step (a model whose log was lost): forgetting the label moves the
    counts back at once and leaves the margin weights; refitting without it restores
    them, which is what the next retrain does with the effective labels."""
    X, y = small_xy
    clf.partial_fit(X[:3], 1 - y[:3])
    clf.set_margin_log(np.zeros((0, 16)), np.zeros(0), np.zeros(0))  # as if lost
    w_taught = _token_weights(clf)
    clf.partial_fit(X[:3], 1 - y[:3], sample_weight=-1.0)
    np.testing.assert_array_equal(_token_weights(clf), w_taught)  # kept until retrain
    np.testing.assert_allclose(clf.nb_count_, fitted_classifier.nb_count_, atol=1e-12)  # counts
    refit = clone(fitted_classifier).fit(*small_xy)
    np.testing.assert_allclose(refit.decision_function(X),
                               fitted_classifier.decision_function(X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("log", [
    pytest.param((np.zeros((2, 16)), np.array([1]), np.array([0.5])), id="keys-vs-counts"),
    pytest.param((np.zeros((1, 16)), np.array([2]), np.array([0.5])), id="counts-vs-steps"),
    pytest.param((np.zeros((1, 16)), np.array([0]), np.zeros(0)), id="empty-key"),
])
def test_a_malformed_margin_log_is_refused(clf: SpamClassifier, log: tuple) -> None:
    with pytest.raises(ValueError, match="margin log"):
        clf.set_margin_log(*log)


@pytest.mark.parametrize("param", ["feedback_margin", "feedback_ham_margin", "feedback_C"])
@pytest.mark.parametrize("value", [-1.0, float("nan"), "4"])
def test_a_bad_margin_setting_is_refused_naming_it(clf: SpamClassifier, small_xy: Data,
                                                   param: str, value: object) -> None:
    X, y = small_xy
    clf.set_params(**{param: value})
    with pytest.raises(ValueError, match=param):
        clf.partial_fit(X[:1], y[:1])
    with pytest.raises(ValueError, match=param):
        clone(clf).fit(X, y)


def test_a_row_with_nothing_to_step_on_takes_no_margin_step(clf: SpamClassifier,
                                                           small_xy: Data) -> None:
    """An empty message (no tokens, no byte n-grams) has no direction to move the margin
    members along: learning and forgetting it leave them, and the log, as they were."""
    X, _ = small_xy
    empty = sp.csr_matrix((1, X.shape[1]))
    w0 = _token_weights(clf)
    clf.partial_fit(empty, [1])
    clf.partial_fit(empty, [1], sample_weight=-1.0)
    np.testing.assert_array_equal(_token_weights(clf), w0)
    assert len(clf.margin_log()[0]) == 0
