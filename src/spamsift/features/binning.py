"""Quantile bins for skewed counts, one-hot encoded.

scikit-learn's ``KBinsDiscretizer`` does the same; this one keeps its edges as a
single padded array so a model file stores them as plain numbers.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["QuantileBinner"]


class QuantileBinner(TransformerMixin, BaseEstimator):
    """One-hot bins per column, edges at training quantiles (ties merged).

    Parameters
    ----------
    n_bins : int
        Bins per column before duplicate edges are merged.
    """

    def __init__(self, n_bins: int = 6):
        self.n_bins = n_bins

    def fit(self, X: np.ndarray, y: object = None) -> QuantileBinner:
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ValueError(f"n_bins must be an int >= 2, got {self.n_bins!r}")
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        qs = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        edges = np.full((X.shape[1], self.n_bins - 1), np.inf)
        for j in range(X.shape[1]):
            e = np.unique(np.quantile(X[:, j], qs)) if len(X) else np.array([])
            edges[j, : len(e)] = e
        self.edges_ = edges
        self.n_features_in_ = X.shape[1]
        return self

    @property
    def n_output(self) -> int:
        return self.edges_.shape[0] * self.n_bins

    def transform(self, X: np.ndarray) -> sp.csr_matrix:
        check_is_fitted(self, "edges_")
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        n, d = X.shape
        if d != self.edges_.shape[0]:
            raise ValueError(f"expected {self.edges_.shape[0]} columns, got {d}")
        # Bin b of column j is column j * n_bins + b; right=True puts a value equal
        # to an edge in the lower bin, so "0" gets a bin of its own when 0 is an edge.
        bins = np.empty((n, d), dtype=np.int64)
        for j in range(d):
            bins[:, j] = np.searchsorted(self.edges_[j], X[:, j], side="left")
        cols = (np.arange(d) * self.n_bins)[None, :] + bins
        data = np.ones(n * d)
        indptr = np.arange(0, n * d + 1, d)
        return sp.csr_matrix((data, cols.ravel(), indptr), shape=(n, d * self.n_bins))

    def bin_label(self, j: int, b: int) -> str:
        """A readable range for bin ``b`` of column ``j``."""
        e = self.edges_[j]
        lo = "-inf" if b == 0 else f"{e[b - 1]:.3g}"
        hi = "inf" if b >= len(e) or not np.isfinite(e[b]) else f"{e[b]:.3g}"
        return f"({lo}, {hi}]"
