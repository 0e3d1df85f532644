"""QuantileBinner: against KBinsDiscretizer where they agree, by hand where they differ."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils.estimator_checks import parametrize_with_checks

from spamsift.features.binning import QuantileBinner


@parametrize_with_checks([QuantileBinner(), QuantileBinner(n_bins=3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _bins(Xt: sp.csr_matrix, n_bins: int) -> np.ndarray:
    """Column-wise bin index of a one-hot matrix with ``n_bins`` columns per feature."""
    n, width = Xt.shape
    return Xt.toarray().reshape(n, width // n_bins, n_bins).argmax(axis=2)


@pytest.mark.parametrize(
    "n_bins",
    [pytest.param(2, id="2-bins"), pytest.param(4, id="4-bins"), pytest.param(6, id="6-bins"),
     pytest.param(10, id="10-bins")],
)
def test_agrees_with_kbinsdiscretizer_on_continuous_data(n_bins: int):
    """No ties and no value on an edge: the two one-hot matrices are equal.

    KBinsDiscretizer must use ``quantile_method="linear"`` (numpy's default, ours);
    its own default, ``averaged_inverted_cdf``, places edges elsewhere. 98 training
    rows make (n - 1) * q fractional for every q, so no edge is a training value and
    the two edge conventions, (lo, hi] here and [lo, hi) there, cannot disagree.
    """
    rng = np.random.default_rng(n_bins)
    X_train = np.column_stack([rng.lognormal(size=98), rng.normal(size=98),
                               rng.exponential(size=98)])
    X_test = np.vstack([rng.normal(scale=3, size=(200, 3)),
                        X_train.min(axis=0) - 1, X_train.max(axis=0) + 1])
    ours = QuantileBinner(n_bins).fit(X_train)
    theirs = KBinsDiscretizer(n_bins=n_bins, encode="onehot", strategy="quantile",
                              quantile_method="linear").fit(X_train)
    np.testing.assert_allclose(ours.edges_, [e[1:-1] for e in theirs.bin_edges_])
    for X in (X_train, X_test):
        np.testing.assert_array_equal(ours.transform(X).toarray(),
                                      theirs.transform(X).toarray())
        # Same bin counts, column by column.
        np.testing.assert_array_equal(ours.transform(X).sum(axis=0),
                                      theirs.transform(X).sum(axis=0))


def test_value_on_an_edge_goes_to_the_lower_bin_unlike_kbinsdiscretizer():
    """The one legitimate difference on tie-free data: the median 2 is an edge."""
    X = np.arange(5.0).reshape(-1, 1)
    ours = QuantileBinner(2).fit(X)
    theirs = KBinsDiscretizer(n_bins=2, encode="ordinal", strategy="quantile",
                              quantile_method="linear").fit(X)
    assert ours.edges_.tolist() == [[2.0]]
    assert _bins(ours.transform(X), 2).ravel().tolist() == [0, 0, 0, 1, 1]
    assert theirs.transform(X).ravel().tolist() == [0, 0, 1, 1, 1]


def test_ties_merge_edges_and_keep_the_width():
    # Linear quantiles of these eight at 1/4, 1/2, 3/4: 0, 1, 2.75.
    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [2.0], [5.0], [9.0]])
    b = QuantileBinner(4).fit(X)
    assert b.edges_.tolist() == [[0.0, 1.0, 2.75]]
    Xt = b.transform(X)
    assert Xt.shape == (8, 4) and b.n_output == 4
    # (-inf, 0] (0, 1] (1, 2.75] (2.75, inf): zeros keep a bin of their own.
    assert np.asarray(Xt.sum(axis=0)).ravel().tolist() == [3, 2, 1, 2]


def test_constant_column_gets_one_edge_and_no_warning():
    X = np.column_stack([np.full(20, 7.0), np.arange(20.0)])
    b = QuantileBinner(6).fit(X)
    assert b.edges_[0, 0] == 7.0 and np.isinf(b.edges_[0, 1:]).all()
    assert (_bins(b.transform(X), 6)[:, 0] == 0).all()
    assert _bins(b.transform([[7.5, 0.0], [6.0, 0.0]]), 6)[:, 0].tolist() == [1, 0]
    assert b.transform(X).shape == (20, 12)


def test_each_row_has_one_bin_per_column():
    X = np.random.default_rng(0).poisson(3, size=(50, 4)).astype(float)
    Xt = QuantileBinner(5).fit(X).transform(X)
    assert Xt.format == "csr"
    assert (np.diff(Xt.indptr) == 4).all()
    assert set(Xt.data.tolist()) == {1.0}


def test_sparse_input_matches_dense():
    X = np.random.default_rng(1).poisson(1, size=(40, 3)).astype(float)
    dense = QuantileBinner(4).fit(X)
    sparse = QuantileBinner(4).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dense.edges_, sparse.edges_)
    np.testing.assert_array_equal(dense.transform(X).toarray(),
                                  sparse.transform(sp.csr_matrix(X)).toarray())


def test_wrong_column_count_is_rejected():
    b = QuantileBinner(3).fit(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="X has 2 features, but QuantileBinner is expecting 3"):
        b.transform(np.zeros((5, 2)))


@pytest.mark.parametrize(
    "n_bins",
    [pytest.param(1, id="one"), pytest.param(0, id="zero"), pytest.param(2.5, id="float"),
     pytest.param(True, id="bool"), pytest.param("6", id="str")],
)
def test_bad_n_bins_is_rejected_at_fit(n_bins: object):
    b = QuantileBinner(n_bins)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_bins must be an int >= 2"):
        b.fit(np.zeros((5, 1)))


def test_numpy_integer_n_bins_is_accepted():
    assert QuantileBinner(np.int64(3)).fit(np.arange(9.0).reshape(-1, 1)).n_output == 3


@pytest.mark.parametrize(
    "bad",
    [pytest.param(np.nan, id="nan"), pytest.param(np.inf, id="inf")],
)
def test_non_finite_values_are_rejected(bad: float):
    with pytest.raises(ValueError, match="NaN|infinity"):
        QuantileBinner(3).fit([[0.0], [bad], [1.0]])
    b = QuantileBinner(3).fit([[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="NaN|infinity"):
        b.transform([[bad]])


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        QuantileBinner().transform(np.zeros((1, 1)))


def test_edges_restored_from_arrays_transform_the_same():
    """What a model file stores: edges and the column count, nothing else."""
    X = np.random.default_rng(2).lognormal(size=(30, 2))
    fitted = QuantileBinner(4).fit(X)
    loaded = QuantileBinner(4)
    loaded.edges_ = fitted.edges_.copy()
    loaded.n_features_in_ = 2
    np.testing.assert_array_equal(loaded.transform(X).toarray(), fitted.transform(X).toarray())


@pytest.mark.parametrize(
    ("b", "label"),
    [pytest.param(0, "(-inf, 0]", id="first"), pytest.param(1, "(0, 1]", id="middle"),
     pytest.param(3, "(2.75, inf]", id="last"), pytest.param(2, "(1, 2.75]", id="third")],
)
def test_bin_label(b: int, label: str):
    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [2.0], [5.0], [9.0]])
    assert QuantileBinner(4).fit(X).bin_label(0, b) == label
