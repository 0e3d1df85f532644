"""Bin edges -> one-hot columns: what a fitted
:class:`~spamsift.features.binning.QuantileBinner` computes, as a function of its edges.

A loaded model keeps only the edges (arrays, as everything it holds), and scoring
bins with them here, without the estimator: that is a scikit-learn class, and
scikit-learn costs 0.6 s to import (:mod:`spamsift.estimator`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["one_hot_bins"]


def one_hot_bins(edges: np.ndarray, n_bins: int, X: np.ndarray) -> sp.csr_matrix:
    """One-hot bins of the dense columns ``X`` (one row of ``edges`` per column, padded
    with inf): bin ``b`` of column ``j`` is output column ``j * n_bins + b``.

    Bins are closed on the right, ``(lo, hi]``: a value equal to an edge goes to the
    lower bin (``searchsorted``'s side="left").

    >>> one_hot_bins(np.array([[1.0]]), 2, np.array([[1.0], [1.5]])).toarray().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    n, d = X.shape
    bins = np.empty((n, d), dtype=np.int64)
    for j in range(d):
        bins[:, j] = np.searchsorted(edges[j], X[:, j], side="left")
    cols = (np.arange(d) * n_bins)[None, :] + bins
    data = np.ones(n * d)
    indptr = np.arange(0, n * d + 1, d)
    return sp.csr_matrix((data, cols.ravel(), indptr), shape=(n, d * n_bins))
