"""The byte n-gram member: stacked with the token members, weighed on blocks of time,
learning from feedback by exactly reversible steps, saved and loaded, named as evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from spamsift.config import Settings
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.classifier import MIN_ROWS_TIME_FOLDS, SpamClassifier, _stack
from spamsift.models.explain import contributions
from spamsift.models.persistence import load_model, save_model
from spamsift.models.spam_model import SpamModel
from spamsift.training.trainer import TrainOptions, fit_model

Mail = list[tuple[bytes, str]]
BYTE_BITS = 12


@pytest.fixture(scope="module")
def featurizer(small_featurizer: MessageFeaturizer) -> MessageFeaturizer:
    return MessageFeaturizer(token_bits=small_featurizer.token_bits,
                             reputation_bits=small_featurizer.reputation_bits,
                             byte_bits=BYTE_BITS)


@pytest.fixture(scope="module")
def xy(featurizer: MessageFeaturizer, mail_set: Mail) -> tuple[sp.csr_matrix, np.ndarray]:
    X = featurizer.transform([raw for raw, _ in mail_set])
    return X, np.array([int(label == "spam") for _, label in mail_set])


def _clf(featurizer: MessageFeaturizer, **params: object) -> SpamClassifier:
    lay = featurizer.layout
    return SpamClassifier(token_bits=featurizer.token_bits, n_structure=lay.n_structure,
                          reputation_bits=featurizer.reputation_bits, byte_bits=BYTE_BITS,
                          **{"model": "nb+svm+bytes", **params})  # type: ignore[arg-type]


def test_the_byte_block_is_last_and_unit_length(featurizer: MessageFeaturizer,
                                                xy: tuple[sp.csr_matrix, np.ndarray]) -> None:
    X, _ = xy
    lay = featurizer.layout
    assert lay.bytes.stop == X.shape[1] == lay.n_features and lay.n_bytes == 2**BYTE_BITS
    np.testing.assert_allclose(sp.linalg.norm(X[:, lay.bytes], axis=1), 1.0)


def test_the_stack_collapses_to_weights_that_score_as_the_members_do(
        featurizer: MessageFeaturizer, xy: tuple[sp.csr_matrix, np.ndarray]) -> None:
    X, y = xy
    clf = _clf(featurizer, conflict_gamma=0).fit(X, y)
    assert clf.member_names_ == ("nb", "svm", "bytes")
    assert clf.coef_bytes_.shape == (2**BYTE_BITS,)
    without = clf.decision_function(X)
    grams = X[:, featurizer.layout.bytes]
    saved = clf.coef_bytes_.copy()
    clf.coef_bytes_[:] = 0
    np.testing.assert_allclose(without - clf.decision_function(X), grams @ saved, atol=1e-9)
    clf.coef_bytes_[:] = saved
    z = clf.decision_function(X[:10])
    for zi, contrib in zip(z, contributions(clf, X[:10]), strict=True):
        assert sum(w for _, w in contrib) == pytest.approx(zi - clf.intercept_, abs=1e-9)


def test_the_bytes_member_needs_the_byte_block(small_xy: tuple[sp.csr_matrix, np.ndarray],
                                               small_layout: dict[str, int]) -> None:
    X, y = small_xy
    with pytest.raises(ValueError, match="byte_bits"):
        SpamClassifier(model="svm+bytes", **small_layout).fit(X, y)
    # "ensemble" is every member the layout has.
    assert "bytes" not in SpamClassifier(model="ensemble", **small_layout).fit(X, y).member_names_


def test_stack_weights_are_never_negative() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = y * 2.0 - 1 + rng.normal(0, 0.5, 400)
    backwards = -(y * 2.0 - 1) * 0.2 + rng.normal(0, 1.0, 400)  # helps only read inverted
    w, _ = _stack(np.column_stack([good, backwards]), y)
    assert w[0] > 0 and w[1] == 0


def test_inner_folds_are_blocks_of_time_for_dated_mail(featurizer: MessageFeaturizer,
                                                       xy: tuple[sp.csr_matrix, np.ndarray]
                                                       ) -> None:
    X, y = xy
    reps = -(-MIN_ROWS_TIME_FOLDS // len(y))  # enough rows: the small set repeated
    Xr, yr = sp.vstack([X] * reps, format="csr"), np.tile(y, reps)
    t = np.arange(len(yr), dtype=float)
    assert _clf(featurizer, model="nb+svm").fit(Xr, yr, sample_time=t).inner_folds_ == \
        "stratified"  # only when asked for
    clf = _clf(featurizer, model="nb+svm", time_folds=True)
    folds = clf._inner_folds(yr, t)
    assert clf.inner_folds_ == "time"
    for _, te in folds:  # each held-out block is one stretch of time
        assert np.array_equal(te, np.arange(te[0], te[-1] + 1))
    assert clf.fit(Xr, yr, sample_time=t).inner_folds_ == "time"
    # Too few rows, or mostly undated: shuffled stratified folds.
    clf._inner_folds(y, np.arange(len(y), dtype=float))
    assert clf.inner_folds_ == "stratified"
    clf._inner_folds(yr, np.full(len(yr), np.nan))
    assert clf.inner_folds_ == "stratified"
    with pytest.raises(ValueError, match="sample_time"):
        clf.fit(X, y, sample_time=np.zeros(3))


def test_feedback_steps_on_the_byte_weights_are_exactly_reversible(
        featurizer: MessageFeaturizer, xy: tuple[sp.csr_matrix, np.ndarray]) -> None:
    X, y = xy
    clf = _clf(featurizer, byte_learning_rate=0.5).fit(X, y)
    before = clf.coef_bytes_.copy()
    clf.partial_fit(X[:3], np.array([1, 0, 1]))
    clf.partial_fit(X[5:6], np.array([1]))
    assert not np.allclose(clf.coef_bytes_, before)
    clf.partial_fit(X[:3], np.array([1, 0, 1]), sample_weight=-1)  # in another order
    clf.partial_fit(X[5:6], np.array([1]), sample_weight=-1)
    np.testing.assert_allclose(clf.coef_bytes_, before, atol=1e-12)


def test_the_byte_member_learns_feedback_by_the_margin_step(
        featurizer: MessageFeaturizer, xy: tuple[sp.csr_matrix, np.ndarray]) -> None:
    X, y = xy
    clf = _clf(featurizer).fit(X, y)  # byte_learning_rate 0: only the margin step
    z = clf.decision_function(X)
    ham = int(np.flatnonzero(y == 0)[np.argmin(z[y == 0])])
    before = clf.coef_bytes_.copy()
    clf.partial_fit(X[ham], [1])
    grams = X[ham, featurizer.layout.bytes].indices
    moved = np.flatnonzero(clf.coef_bytes_ != before)
    assert len(moved) and set(moved) <= set(grams)
    clf.partial_fit(X[ham], [1], sample_weight=-1)
    np.testing.assert_allclose(clf.coef_bytes_, before, atol=1e-12)


def test_a_model_with_bytes_saves_loads_and_names_its_byte_clues(
        featurizer: MessageFeaturizer, xy: tuple[sp.csr_matrix, np.ndarray], mail_set: Mail,
        tmp_path: Path) -> None:
    X, y = xy
    model, _ = fit_model(featurizer, X, y, Settings(target_fpr=0.01, unsure_fpr=0.1),
                         TrainOptions(learning_curve=False,
                                      params={"model": "nb+svm+bytes", "aux_weight": 0.5}))
    loaded = load_model(save_model(model, tmp_path / "m"))
    raws = [raw for raw, _ in mail_set[:12]]
    np.testing.assert_allclose(loaded.score(raws), model.score(raws), rtol=1e-4)
    assert loaded.featurizer.byte_bits == BYTE_BITS
    clf = loaded.classifier
    clf.coef_bytes_[:] = 0
    clf.coef_bytes_[np.argmax(np.abs(model.classifier.coef_bytes_))] = 50.0  # one loud column
    named = [c for v in SpamModel.classify(loaded, raws, top=3) for c, _ in v.clues]
    assert any(c.startswith("bytes:") and '"' in c for c in named)
