"""SpamClassifier: the estimator contract, its members, and the collapse to linear weights."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

from spamsift.exceptions import TrainingError
from spamsift.features.structure import structure_names
from spamsift.models.classifier import SpamClassifier
from spamsift.models.explain import contributions
from spamsift.models.priors import prior_weights

Data = tuple[sp.csr_matrix, np.ndarray]


def _halves(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every fourth ham-spam pair held out (the small set interleaves ham and spam)."""
    test = np.arange(len(y)) // 2 % 4 == 0
    return np.flatnonzero(~test), np.flatnonzero(test)


def test_fit_returns_self_and_scores_are_probabilities(
        small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier(model="nb+svm", **small_layout)
    assert clf.fit(X, y) is clf
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.decision_function(X).shape == (X.shape[0],)
    assert list(clf.classes_) == [0, 1]
    assert clf.n_features_in_ == X.shape[1]


def test_predict_agrees_with_predict_proba(fitted_classifier: SpamClassifier,
                                           small_xy: Data) -> None:
    X, _ = small_xy
    np.testing.assert_array_equal(fitted_classifier.predict(X),
                                  (fitted_classifier.predict_proba(X)[:, 1] > 0.5).astype(int))


def test_separates_held_out_easy_mail(small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    tr, te = _halves(y)
    clf = SpamClassifier(**{**small_layout, "model": "nb+svm"}).fit(X[tr], y[tr])
    p = clf.predict_proba(X[te])[:, 1]
    assert roc_auc_score(y[te], p) == 1.0
    assert np.mean(clf.predict(X[te]) == y[te]) >= 0.95


@pytest.mark.parametrize("model, members", [
    pytest.param("nb", ("nb",), id="nb"),
    pytest.param("lr", ("lr",), id="lr"),
    pytest.param("svm", ("svm",), id="svm"),
    pytest.param("nb+svm", ("nb", "svm"), id="nb+svm"),
    pytest.param("ensemble", ("nb", "lr", "svm"), id="ensemble"),
])
def test_every_member_spec_fits_and_ranks_spam_first(
        model: str, members: tuple[str, ...], small_xy: Data,
        small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier(model=model, **small_layout).fit(X, y)
    assert clf.member_names_ == members
    assert len(clf.member_weights_) == len(members)
    assert roc_auc_score(y, clf.decision_function(X)) > 0.99
    # Only Naive Bayes reads the binary block; without it those weights stay zero.
    assert np.any(clf.coef_binary_ != 0) == ("nb" in members)
    assert np.any(clf.coef_normalized_ != 0) == (members != ("nb",))


@pytest.mark.parametrize("params, name", [
    pytest.param({"model": "x"}, "model", id="unknown-model"),
    pytest.param({"model": "nb+nb"}, "model", id="repeated-member"),
    pytest.param({"model": ""}, "model", id="empty-model"),
    pytest.param({"C_svm": 0}, "C_svm", id="C_svm-zero"),
    pytest.param({"C_svm": -1.0}, "C_svm", id="C_svm-negative"),
    pytest.param({"C_svm": float("nan")}, "C_svm", id="C_svm-nan"),
    pytest.param({"aux_weight": -0.1}, "aux_weight", id="aux_weight-negative"),
    pytest.param({"rep_weight": -0.1}, "rep_weight", id="rep_weight-negative"),
    pytest.param({"rep_weight": float("nan")}, "rep_weight", id="rep_weight-nan"),
    pytest.param({"rep_weight": "loud"}, "rep_weight", id="rep_weight-word"),
    pytest.param({"C_lr": -1.0}, "C_lr", id="C_lr-negative"),
    pytest.param({"alpha_nb": 0.0}, "alpha_nb", id="alpha_nb-zero"),
    pytest.param({"aux_weight": float("nan")}, "aux_weight", id="aux_weight-nan"),
    pytest.param({"rep_smoothing": 0}, "rep_smoothing", id="rep_smoothing-zero"),
    pytest.param({"conflict_gamma": -1.0}, "conflict_gamma", id="conflict_gamma-negative"),
    pytest.param({"conflict_gamma": "sometimes"}, "conflict_gamma", id="conflict_gamma-word"),
    pytest.param({"tune": True, "tune_seconds": -1.0}, "tune_seconds",
                 id="tune_seconds-negative"),
    pytest.param({"tune": True, "tune_seconds": float("nan")}, "tune_seconds",
                 id="tune_seconds-nan"),
])
def test_bad_parameters_raise_naming_the_parameter(
        params: dict[str, object], name: str, small_xy: Data,
        small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier(**{**small_layout, **params})  # __init__ only stores
    with pytest.raises(ValueError, match=name):
        clf.fit(X, y)


def test_one_class_is_a_training_error(small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    ham = np.flatnonzero(y == 0)
    with pytest.raises(TrainingError, match="both classes"):
        SpamClassifier(**small_layout).fit(X[ham], y[ham])


def test_too_few_of_a_class_for_the_inner_folds(small_xy: Data,
                                                small_layout: dict[str, int]) -> None:
    X, y = small_xy
    rows = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:3]])
    with pytest.raises(TrainingError, match="at least 4"):
        SpamClassifier(**small_layout, inner_cv=4).fit(X[rows], y[rows])


def test_wrong_column_count_is_a_value_error(small_xy: Data, small_layout: dict[str, int],
                                             fitted_classifier: SpamClassifier) -> None:
    X, y = small_xy
    narrow = X[:, :-1]
    with pytest.raises(ValueError, match=f"expected {X.shape[1]} feature columns"):
        SpamClassifier(**small_layout).fit(narrow, y)
    with pytest.raises(ValueError, match=f"got {X.shape[1] - 1}"):
        fitted_classifier.decision_function(narrow)
    other_layout = {**small_layout, "token_bits": small_layout["token_bits"] + 1}
    with pytest.raises(ValueError, match="feature columns"):
        SpamClassifier(**other_layout).fit(X, y)


def test_unfitted_classifier_refuses_to_score(small_xy: Data,
                                              small_layout: dict[str, int]) -> None:
    with pytest.raises(NotFittedError):
        SpamClassifier(**small_layout).decision_function(small_xy[0])


def test_decision_is_the_two_weight_vectors_and_the_bias(fitted_classifier: SpamClassifier,
                                                         small_xy: Data) -> None:
    clf = fitted_classifier
    X, _ = small_xy
    E = clf._expand(X)
    # Naive Bayes' normaliser is one offset per active binary feature; the prior
    # evidence (models.priors) adds to the token weights.
    prior = np.zeros(len(clf.coef_binary_))
    pcols, pw = prior_weights(clf.layout.n_tokens, clf.nb_count_)
    prior[pcols] = pw
    expected = (E.binary @ (clf.coef_binary_ + prior)
                + clf.binary_offset_ * E.binary.sum(axis=1).A1
                + E.normalized @ clf.coef_normalized_ + clf.intercept_)
    np.testing.assert_allclose(clf.decision_function(X), expected, rtol=1e-10, atol=1e-10)
    # The token block of the normalised matrix has unit length per row: what SVM/LR read.
    tokens = E.normalized[:, : clf.layout.n_tokens]
    np.testing.assert_allclose(sp.linalg.norm(tokens, axis=1), 1.0)


def test_collapsed_weights_match_the_members_scikit_learn_fits(
        fitted_classifier: SpamClassifier, small_xy: Data) -> None:
    """Oracle: refit each member with scikit-learn and stack their own decisions by hand."""
    clf = fitted_classifier
    X, y = small_xy
    # Members are fitted on the training-time expansion (reputation encoded out of
    # fold) and score the serving-time one.
    E_fit = clone(clf)._expand(X, y)
    E = clf._expand(X)
    nb = MultinomialNB(alpha=clf.alpha_nb).fit(E_fit.binary, y)
    jll = nb.predict_joint_log_proba(E.binary)
    svm = LinearSVC(C=clf.C_svm, max_iter=20000, random_state=clf.random_state
                    ).fit(E_fit.normalized, y)
    decisions = {"nb": jll[:, 1] - jll[:, 0], "svm": svm.decision_function(E.normalized)}
    biases = {"nb": float(nb.class_log_prior_[1] - nb.class_log_prior_[0]),
              "svm": float(svm.intercept_[0])}
    v = dict(zip(clf.member_names_, clf.member_weights_, strict=True))
    stack_bias = clf.intercept_ - sum(v[m] * biases[m] for m in v)
    expected = stack_bias + sum(v[m] * decisions[m] for m in v) + prior_logits(clf, X)
    np.testing.assert_allclose(clf.decision_function(X), expected, rtol=1e-9, atol=1e-9)


def prior_logits(clf: SpamClassifier, X: sp.csr_matrix) -> np.ndarray:
    """What the prior evidence (models.priors) adds to each row's logit."""
    pcols, pw = prior_weights(clf.layout.n_tokens, clf.nb_count_)
    return np.asarray((X[:, pcols] > 0).astype(np.float64) @ pw).ravel()


def test_oof_decisions_have_one_value_per_training_row(fitted_classifier: SpamClassifier,
                                                       small_xy: Data) -> None:
    X, y = small_xy
    oof = fitted_classifier.oof_decision_
    assert oof.shape == (len(y),)
    assert np.all(np.isfinite(oof))
    assert roc_auc_score(y, oof) > 0.95
    # Out of fold: not the in-sample decisions of the final model.
    assert not np.allclose(oof, fitted_classifier.decision_function(X))


def test_fit_does_not_depend_on_the_global_random_state(small_xy: Data,
                                                        small_layout: dict[str, int]) -> None:
    X, y = small_xy
    scores = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        clf = SpamClassifier(model="svm", random_state=7, **small_layout).fit(X, y)
        scores.append(clf.decision_function(X))
    np.testing.assert_array_equal(scores[0], scores[1])


def test_clone_and_get_params_round_trip(fitted_classifier: SpamClassifier) -> None:
    params = fitted_classifier.get_params()
    copy = clone(fitted_classifier)
    assert copy.get_params() == params
    assert not hasattr(copy, "coef_binary_")
    assert SpamClassifier(**params).get_params() == params
    copy.set_params(model="svm", C_svm=1.5)
    assert (copy.model, copy.C_svm) == ("svm", 1.5)
    assert fitted_classifier.model == "nb+svm"


# -- the conflict scale -------------------------------------------------------------------

def test_conflicting_clues_scale_the_logit_toward_the_middle(small_xy: Data,
                                                            small_layout: dict[str, int]) -> None:
    """Oracle: the scaled logit is the linear one times |P - N| / (P + N) of its clues,
    then recalibrated (a x + b, fitted out of fold)."""
    X, y = small_xy
    linear = SpamClassifier(model="nb+svm", conflict_gamma=0, **small_layout).fit(X, y)
    scaled = SpamClassifier(model="nb+svm", conflict_gamma=1, **small_layout).fit(X, y)
    np.testing.assert_allclose(scaled.coef_binary_, linear.coef_binary_)
    z_lin, z = linear.decision_function(X), scaled.decision_function(X)
    a, b = scaled.conflict_calibration_
    assert a > 0
    for zl, zs, contrib in zip(z_lin, z, contributions(linear, X), strict=True):
        w = np.array([v for _, v in contrib])
        pos, neg = w[w > 0].sum(), -w[w < 0].sum()
        assert zs == pytest.approx(a * zl * abs(pos - neg) / (pos + neg) + b, rel=1e-9,
                                   abs=1e-9)


def test_a_message_mixing_spam_and_ham_clues_lands_nearer_the_middle(
        small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier(model="nb+svm", conflict_gamma=2, **small_layout).fit(X, y)
    spam, ham = X[np.flatnonzero(y == 1)[0]], X[np.flatnonzero(y == 0)[0]]
    mixed = (spam + ham).minimum(1)  # both messages' tokens at once
    z_spam, z_ham, z_mixed = clf.decision_function(sp.vstack([spam, ham, mixed]))
    _, b = clf.conflict_calibration_  # where a logit scaled to nothing lands
    assert z_spam > b > z_ham
    assert abs(z_mixed - b) < min(abs(z_spam - b), abs(z_ham - b))


def test_auto_picks_an_exponent_from_the_candidates(small_xy: Data,
                                                     small_layout: dict[str, int]) -> None:
    from spamsift.models.classifier import CONFLICT_GAMMAS

    assert SpamClassifier().conflict_gamma == 0.0  # off unless asked for
    X, y = small_xy
    clf = SpamClassifier(model="nb+svm", conflict_gamma="auto", **small_layout).fit(X, y)
    assert clf.conflict_gamma_ in CONFLICT_GAMMAS


def test_aux_block_equals_the_blocks_sliced_and_stacked(fitted_classifier: SpamClassifier,
                                                        small_xy: Data) -> None:
    """_aux reads X's entries into one matrix; it is the matrix the column slices, the
    binner and the reputation transform made, entry for entry."""
    from spamsift.features.bins import one_hot_bins

    clf = fitted_classifier
    X, _ = small_xy
    X = sp.vstack([X, sp.csr_matrix((1, X.shape[1]))], format="csr")  # and an empty row
    lay = clf.layout
    structure, aux = clf._aux(X)
    aux_w, rep_w = clf.block_weights()
    want_structure = X[:, lay.structure].toarray()
    struct_x = one_hot_bins(clf.bin_edges_, clf.n_bins, want_structure)
    struct_x.data *= aux_w
    rep = X[:, lay.reputation(0).start:lay.reputation(2).stop]
    rep_x = sp.csr_matrix(clf.reputation_.transform(rep), copy=True)
    rep_x.data *= rep_w
    want = sp.hstack([struct_x, rep_x], format="csr")
    np.testing.assert_array_equal(structure, want_structure)
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(aux, part), getattr(want, part))


def _structure_signal(n: int = 400, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray, dict]:
    """Rows whose tokens are noise and whose structural numbers carry the label."""
    rng = np.random.default_rng(seed)
    lay = {"token_bits": 8, "n_structure": len(structure_names()), "reputation_bits": 4}
    y = np.tile([0, 1], n // 2)
    tokens = sp.random(n, 2**8, density=0.05, format="csr", random_state=seed)
    structure = rng.normal(size=(n, lay["n_structure"]))
    structure[:, 0] += 1.2 * y  # one number that separates, not perfectly
    rep = sp.csr_matrix((n, 3 * 2**4))
    return sp.hstack([tokens, sp.csr_matrix(structure), rep], format="csr"), y, lay


def test_tuning_gives_the_evidence_the_data_rewards_more_weight() -> None:
    X, y, lay = _structure_signal()
    start = {"model": "nb+svm", **lay}
    fixed = SpamClassifier(**start).fit(X, y)
    tuned = SpamClassifier(**start, tune=True).fit(X, y)
    assert fixed.tuning_ == [] and fixed.aux_weight_ == 0.03
    assert tuned.aux_weight_ > 0.03  # the structure block carries the label here
    first, *rest = tuned.tuning_
    assert (first["C_svm"], first["aux_weight"]) == (10.0, 0.03)  # the parameters first
    chosen = next(c for c in tuned.tuning_ if (c["C_svm"], c["aux_weight"], c["rep_weight"])
                  == (tuned.C_svm_, tuned.aux_weight_, tuned.rep_weight_))
    assert chosen["one_minus_roca_pct"] < first["one_minus_roca_pct"]
    assert (roc_auc_score(y, tuned.oof_decision_) > roc_auc_score(y, fixed.oof_decision_))


def test_tuned_params_refit_the_tuned_model_without_tuning() -> None:
    X, y, lay = _structure_signal()
    tuned = SpamClassifier(model="nb+svm", tune=True, **lay).fit(X, y)
    again = clone(tuned).set_params(**tuned.tuned_params()).fit(X, y)
    assert again.tuning_ == []
    np.testing.assert_allclose(again.decision_function(X), tuned.decision_function(X))


def test_a_time_budget_stops_tuning_at_the_values_found() -> None:
    X, y, lay = _structure_signal()
    clf = SpamClassifier(model="nb+svm", tune=True, tune_seconds=0.0, **lay).fit(X, y)
    assert len(clf.tuning_) == 1 and clf.tuning_stopped_ == "time budget"
    assert (clf.C_svm_, clf.aux_weight_, clf.rep_weight_) == (10.0, 0.03, 0.1)
