"""BlockLinearClassifier against liblinear (the oracle) on the hand-written mail set, and
its block-summed objective against the whole-matrix one."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

from spamsift.models.classifier import SpamClassifier
from spamsift.models.parallel_linear import (
    BlockLinearClassifier,
    BlockObjective,
    block_loss_grad,
    row_blocks,
)


@pytest.fixture(scope="module")
def margin_xy(small_xy: tuple[sp.csr_matrix, np.ndarray], small_layout: dict[str, int]
              ) -> tuple[sp.csr_matrix, np.ndarray]:
    """What the SVM member is fitted on: the expanded, normalised rows."""
    X, y = small_xy
    clf = SpamClassifier(model="svm", **small_layout)
    return clf._expand(X, y).normalized, y


def _weights(est: object) -> np.ndarray:
    return np.r_[est.coef_.ravel(), est.intercept_]  # type: ignore[attr-defined]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# liblinear at its default tolerance (1e-4, as the members run) stops up to ~1e-4 (relative)
# from the optimum on this set; at 1e-10 both solvers agree to ~5e-7.
@pytest.mark.parametrize(("loss", "oracle"), [
    pytest.param("squared_hinge", lambda C, tol: LinearSVC(C=C, tol=tol, max_iter=100000),
                 id="svm"),
    pytest.param("log", lambda C, tol: LogisticRegression(C=C, solver="liblinear", tol=tol,
                                                          max_iter=100000), id="lr"),
])
@pytest.mark.parametrize("C", [1.0, 10.0])
def test_matches_liblinear(margin_xy: tuple[sp.csr_matrix, np.ndarray], loss: str,
                           oracle: object, C: float) -> None:
    X, y = margin_xy
    ours = BlockLinearClassifier(loss=loss, C=C, tol=1e-9, block_rows=16).fit(X, y)
    assert ours.converged_
    default = oracle(C, 1e-4).fit(X, y)  # type: ignore[operator]
    tight = oracle(C, 1e-10).fit(X, y)  # type: ignore[operator]
    assert _rel(_weights(ours), _weights(default)) < 1e-3
    assert _rel(_weights(ours), _weights(tight)) < 1e-5
    d, t = ours.decision_function(X), tight.decision_function(X)
    assert np.array_equal(np.argsort(d, kind="stable"), np.argsort(t, kind="stable"))
    assert roc_auc_score(y, d) == roc_auc_score(y, default.decision_function(X))


@pytest.mark.parametrize("loss", ["squared_hinge", "log"])
def test_block_sums_equal_whole_matrix(margin_xy: tuple[sp.csr_matrix, np.ndarray],
                                       loss: str) -> None:
    X, y = margin_xy
    s = np.where(y == 1, 1.0, -1.0)
    rng = np.random.default_rng(0)
    w = rng.normal(scale=0.3, size=X.shape[1])
    whole = BlockObjective(row_blocks(X, s, X.shape[0]), loss, 3.0)
    blocks = BlockObjective(row_blocks(X, s, 7), loss, 3.0)
    assert len(blocks.blocks) == 12 and len(whole.blocks) == 1
    (fw, gw), (fb, gb) = whole(w), blocks(w)
    assert fb == pytest.approx(fw, rel=1e-12)
    np.testing.assert_allclose(gb, gw, rtol=1e-10, atol=1e-12)
    # The whole-matrix objective written out, not through block_loss_grad.
    m = s * (X @ w)
    part = ((np.maximum(1 - m, 0) ** 2).sum() if loss == "squared_hinge"
            else np.logaddexp(0, -m).sum())
    assert fw == pytest.approx(0.5 * w @ w + 3.0 * part, rel=1e-12)


@pytest.mark.parametrize("loss", ["squared_hinge", "log"])
def test_gradient_passes_check_grad(margin_xy: tuple[sp.csr_matrix, np.ndarray],
                                    loss: str) -> None:
    X, y = margin_xy
    s = np.where(y == 1, 1.0, -1.0)
    cols = np.unique(X.indices)[:300]  # a few hundred columns: check_grad is one pass a column
    obj = BlockObjective(row_blocks(sp.csr_matrix(X[:, cols]), s, 16), loss, 3.0)
    w = np.random.default_rng(1).normal(scale=0.3, size=len(cols))
    err = check_grad(lambda v: obj(v)[0], lambda v: obj(v)[1], w)
    assert err < 1e-5 * np.linalg.norm(obj(w)[1])


def test_block_part_is_the_rows_loss() -> None:
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    f, g = block_loss_grad((X, np.array([1.0, -1.0])), np.array([0.5, 0.25]), "squared_hinge")
    # margins 0.5 and -0.5: hinge residuals 0.5 and 1.5.
    assert f == pytest.approx(0.25 + 2.25)
    np.testing.assert_allclose(g, [-2 * 0.5 * 1.0, 2 * 1.5 * 2.0])


@pytest.mark.parametrize(("params", "match"), [
    pytest.param({"loss": "hinge"}, "loss must be one of", id="loss"),
    pytest.param({"C": 0.0}, "C must be > 0", id="C"),
    pytest.param({"block_rows": 0}, "block_rows must be > 0", id="block_rows"),
])
def test_parameters_validated_in_fit(margin_xy: tuple[sp.csr_matrix, np.ndarray],
                                     params: dict[str, object], match: str) -> None:
    est = BlockLinearClassifier(**params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        est.fit(*margin_xy)


def test_spam_classifier_lbfgs_close_to_liblinear(small_xy: tuple[sp.csr_matrix, np.ndarray],
                                                  small_layout: dict[str, int]) -> None:
    X, y = small_xy
    params = {"model": "nb+svm", "aux_weight": 0.5, "rep_weight": None, **small_layout}
    lib = SpamClassifier(**params).fit(X, y)
    lb = SpamClassifier(**params, linear_solver="lbfgs").fit(X, y)
    assert _rel(lb.coef_normalized_, lib.coef_normalized_) < 1e-3
    assert lb.intercept_ == pytest.approx(lib.intercept_, rel=1e-3)
    np.testing.assert_allclose(lb.decision_function(X), lib.decision_function(X), rtol=1e-3,
                               atol=1e-3)
    with pytest.raises(ValueError, match="linear_solver must be one of"):
        SpamClassifier(**params, linear_solver="sgd").fit(X, y)
