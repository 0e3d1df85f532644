"""Quantile bins for skewed counts, one-hot encoded.

scikit-learn's ``KBinsDiscretizer`` does nearly the same; this one keeps its edges
as a single padded array so a model file stores them as plain numbers. Where they
differ, on purpose:

- edges are ``numpy.quantile``'s default (linear) quantiles, not
  ``KBinsDiscretizer``'s default ``averaged_inverted_cdf``;
- bins are closed on the right, ``(lo, hi]``, so when the smallest edge is the
  minimum (0 for most counts) that value keeps a bin of its own; ``KBinsDiscretizer``
  closes them on the left and drops the bin;
- each column always has ``n_bins`` output columns; merged (tied) edges leave
  the top ones unused, so the layout does not depend on the data.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from spamsift.features.bins import one_hot_bins

__all__ = ["QuantileBinner"]


class QuantileBinner(TransformerMixin, BaseEstimator):
    """One-hot bins per column, edges at training quantiles (ties merged).

    Parameters
    ----------
    n_bins : int
        Bins per column before duplicate edges are merged.

    Examples
    --------
    >>> import numpy as np
    >>> b = QuantileBinner(n_bins=2).fit(np.array([[0.0], [1.0], [2.0]]))
    >>> b.edges_.tolist(), b.transform(np.array([[1.0], [1.5]])).toarray().tolist()
    ([[1.0]], [[1.0, 0.0], [0.0, 1.0]])
    """

    def __init__(self, n_bins: int = 6):
        self.n_bins = n_bins

    def fit(self, X: np.ndarray, y: object = None) -> QuantileBinner:
        if (not isinstance(self.n_bins, Integral) or isinstance(self.n_bins, bool)
                or self.n_bins < 2):
            raise ValueError(f"n_bins must be an int >= 2, got {self.n_bins!r}")
        X = self._dense(validate_data(self, X, accept_sparse="csr", dtype=np.float64))
        qs = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        edges = np.full((X.shape[1], self.n_bins - 1), np.inf)
        for j in range(X.shape[1]):
            e = np.unique(np.quantile(X[:, j], qs))
            edges[j, : len(e)] = e
        self.edges_ = edges
        return self

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @property
    def n_output(self) -> int:
        return self.edges_.shape[0] * self.n_bins

    def transform(self, X: np.ndarray) -> sp.csr_matrix:
        check_is_fitted(self, "edges_")
        X = self._dense(validate_data(self, X, accept_sparse="csr", dtype=np.float64,
                                      reset=False))
        return one_hot_bins(self.edges_, self.n_bins, X)

    @staticmethod
    def _dense(X: np.ndarray | sp.spmatrix) -> np.ndarray:
        return X.toarray() if sp.issparse(X) else X

    def bin_label(self, j: int, b: int) -> str:
        """A readable range for bin ``b`` of column ``j``."""
        e = self.edges_[j]
        lo = "-inf" if b == 0 else f"{e[b - 1]:.3g}"
        hi = "inf" if b >= len(e) or not np.isfinite(e[b]) else f"{e[b]:.3g}"
        return f"({lo}, {hi}]"
