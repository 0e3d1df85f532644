"""SpamScorer's learned state: taken out and put back through its own methods."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from spamsift.models.classifier import SpamClassifier
from spamsift.models.explain import contributions
from spamsift.models.priors import prior_weights
from spamsift.models.scorer import SpamScorer

Data = tuple[sp.csr_matrix, np.ndarray]


def _scorer_of(clf: SpamClassifier) -> SpamScorer:
    state = copy.deepcopy(clf.get_state())
    return SpamScorer(**clf.get_params()).set_state(state)


def test_a_scorer_given_the_state_scores_explains_and_learns_as_its_source(
        fitted_classifier: SpamClassifier, small_xy: Data) -> None:
    X, y = small_xy
    scorer = _scorer_of(fitted_classifier)
    assert type(scorer) is SpamScorer  # no scikit-learn estimator behind it
    np.testing.assert_allclose(scorer.decision_function(X),
                               fitted_classifier.decision_function(X), rtol=1e-12)
    assert contributions(scorer, X[:5], 8) == contributions(fitted_classifier, X[:5], 8)
    # Naive Bayes' counts came with it: both learn a label alike, and the margin steps
    # learning took come along to the next copy, which unlearns them exactly.
    source = copy.deepcopy(fitted_classifier)
    for clf in (scorer, source):
        clf.partial_fit(X[:3], 1 - y[:3])
    np.testing.assert_allclose(scorer.decision_function(X), source.decision_function(X),
                               rtol=1e-12)
    again = _scorer_of(scorer)
    again.partial_fit(X[:3], 1 - y[:3], sample_weight=-1)
    np.testing.assert_allclose(again.decision_function(X),
                               fitted_classifier.decision_function(X), atol=1e-9)


def test_get_state_holds_data_only(fitted_classifier: SpamClassifier) -> None:
    def data(v: object) -> bool:
        if isinstance(v, tuple):
            return all(data(x) for x in v)
        if isinstance(v, np.ndarray):
            return v.dtype.kind in "fiu"
        return isinstance(v, str | float)

    for name, value in fitted_classifier.get_state().items():
        assert data(value), name


@pytest.mark.parametrize("part, value, match", [
    pytest.param("coef_binary", np.zeros(7), "coef_binary: the layout needs", id="short-weights"),
    pytest.param("nb_count", np.zeros((3, 7)), "nb_count: the layout needs 2 rows",
                 id="count-rows"),
    pytest.param("reputation_ham", np.zeros(4), "reputation counts", id="reputation-lengths"),
    pytest.param("member_weights", np.ones(5), "member_weights", id="member-weights"),
    pytest.param("block_weights", (0.1, -1.0), "block_weights", id="negative-block-weight"),
    pytest.param("block_weights", (0.1, float("nan")), "block_weights", id="nan-block-weight"),
    pytest.param("margin_log", (np.zeros((1, 16)), np.array([2]), np.array([0.5])),
                 "margin log", id="margin-log-disagrees"),
])
def test_a_bad_state_is_refused_naming_the_part_and_leaves_the_model_as_it_was(
        fitted_classifier: SpamClassifier, small_xy: Data, part: str, value: object,
        match: str) -> None:
    X, _ = small_xy
    scorer = _scorer_of(fitted_classifier)
    before = scorer.decision_function(X)
    state = {**scorer.get_state(), part: value}
    with pytest.raises(ValueError, match=match):
        scorer.set_state(state)
    np.testing.assert_array_equal(scorer.decision_function(X), before)


def test_a_missing_part_is_a_key_error(fitted_classifier: SpamClassifier) -> None:
    state = dict(fitted_classifier.get_state())
    del state["nb_count"]
    with pytest.raises(KeyError, match="nb_count"):
        SpamScorer(**fitted_classifier.get_params()).set_state(state)


def test_the_empty_scorer_learns_its_first_label_at_once(small_xy: Data,
                                                         small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamScorer.empty(**small_layout)
    # Knowing nothing, it says only what the prior evidence says (models/priors.py).
    pcols, pw = prior_weights(clf.layout.n_tokens, clf.nb_count_)
    prior = dict(zip(pcols.tolist(), pw.tolist(), strict=True))
    want = [sum(prior.get(j, 0.0) for j in X[i].indices) for i in range(4)]
    np.testing.assert_allclose(clf.decision_function(X[:4]), want, rtol=0, atol=1e-12)
    spam = np.flatnonzero(y == 1)[:1]
    clf.partial_fit(X[spam], [1])
    assert clf.decision_function(X[spam])[0] > 0


def _identity_sum(clf: SpamClassifier, X: sp.csr_matrix) -> np.ndarray:
    """What the reputation block's columns add to each row's logit."""
    a0 = clf.layout.n_tokens
    lo = a0 + clf.bin_edges_.shape[0] * clf.n_bins
    hi = lo + clf.reputation_.n_output
    return np.array([sum(v for c, v in row if lo <= c < hi)
                     for row in contributions(clf, X)])


def test_sender_identity_alone_adds_at_most_rep_cap(small_featurizer, small_layout) -> None:
    """Mail whose words say nothing, whose sender says everything: identity's say is
    bounded by ``rep_cap``, the clues still sum to the logit, and without the bound
    the same model would say more."""
    def mail(sender: str, i: int) -> bytes:
        return (f"From: {sender}\nTo: me@site.example\nSubject: notes {i}\n\n"
                f"Here are the notes from today, number {i}.\n").encode()
    raws = [mail("deals@bulk.example", i) for i in range(30)] + \
           [mail("anna@home.example", i) for i in range(30)]
    X = small_featurizer.transform(raws)
    y = np.r_[np.ones(30, int), np.zeros(30, int)]
    clf = SpamClassifier(model="nb+svm", aux_weight=0.5, rep_weight=5.0, C_svm=10.0,
                         **small_layout).fit(X, y)
    probe = small_featurizer.transform([mail("deals@bulk.example", 99),
                                        mail("anna@home.example", 99)])
    bounded = _identity_sum(clf, probe)
    assert np.all(np.abs(bounded) <= clf.rep_cap + 1e-9)
    assert bounded[0] > 0 > bounded[1]
    z = clf.decision_function(probe)
    sums = np.array([sum(v for _, v in row) for row in contributions(clf, probe)])
    np.testing.assert_allclose(z, sums + clf.intercept_, atol=1e-9)
    free = copy.deepcopy(clf).set_params(rep_cap=0.0)
    unbounded = _identity_sum(free, probe)
    assert np.all(np.abs(unbounded) > clf.rep_cap)
    np.testing.assert_allclose(free.decision_function(probe) - z, unbounded - bounded,
                               atol=1e-9)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "2", True])
def test_a_bad_rep_cap_is_refused_by_name(fitted_classifier: SpamClassifier, bad: object,
                                          small_xy: Data) -> None:
    clf = copy.deepcopy(fitted_classifier).set_params(rep_cap=bad)
    with pytest.raises(ValueError, match="rep_cap"):
        clf.decision_function(small_xy[0][:2])
