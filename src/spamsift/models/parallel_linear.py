"""Linear SVM and logistic regression by L-BFGS on a loss summed over row blocks.

The objective is liblinear's, the one ``LinearSVC()`` and
``LogisticRegression(solver="liblinear")`` minimise:

    f(w, b) = 1/2 (||w||^2 + b^2) + C sum_i loss(y_i (x_i . w + b)),   y_i in {-1, +1}

with ``loss(m) = max(0, 1 - m)^2`` (squared hinge) or ``log(1 + exp(-m))`` (log-loss).
liblinear fits the intercept as the weight of an extra feature of constant value
``intercept_scaling`` (1 by default in both sklearn classes), so the bias is
regularised like every other weight; that is reproduced here with the same constant
column of ones, so both solvers aim at the same, unique optimum (f is strictly convex).
Both losses are differentiable, so L-BFGS-B (``scipy.optimize.minimize``) reaches it;
the two solvers stop at different points within their tolerances (liblinear: 1e-4 on
its dual / Newton criterion), so the weights agree to a tolerance, not bit for bit.

The loss and its gradient are sums over rows, hence over row blocks:
:class:`BlockObjective` evaluates each block's part and adds them up, in block order.
Inside :func:`dask_client` the blocks are scattered to the cluster's workers once, and
each evaluation sends ``w`` to them and gathers one (loss, gradient) pair a block;
without a client the same block function runs here. The sums are taken in the same
order either way, so a cluster fit and a local fit give the same weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["BlockLinearClassifier", "BlockObjective", "dask_client", "row_blocks", "LOSSES"]

LOSSES = ("squared_hinge", "log")
_CLIENT: ContextVar[Any] = ContextVar("spamsift_block_client", default=None)


@contextmanager
def dask_client(client: Any) -> Iterator[Any]:
    """Within this block, :class:`BlockLinearClassifier` fits evaluate on ``client``'s
    workers (a ``distributed.Client``; None: locally)."""
    token = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(token)


Block = tuple[sp.csr_matrix, np.ndarray]


def row_blocks(X: sp.csr_matrix, y: np.ndarray, block_rows: int) -> list[Block]:
    """``(X rows, ±1 labels)`` of consecutive runs of ``block_rows`` rows."""
    X = sp.csr_matrix(X)
    y = np.asarray(y, dtype=np.float64)
    return [(X[i:i + block_rows], y[i:i + block_rows])
            for i in range(0, X.shape[0], block_rows)]


def block_loss_grad(block: Block, w: np.ndarray, loss: str) -> tuple[float, np.ndarray]:
    """The unregularised loss of one block's rows and its gradient in ``w``."""
    X, y = block
    m = y * np.asarray(X @ w).ravel()
    if loss == "squared_hinge":
        r = np.maximum(1.0 - m, 0.0)
        return float(r @ r), np.asarray(X.T @ (-2.0 * y * r)).ravel()
    return float(np.logaddexp(0.0, -m).sum()), np.asarray(X.T @ (-y * expit(-m))).ravel()


class BlockObjective:
    """``w -> (f(w), grad f(w))``: the regularised objective, summed over row blocks.

    Parameters
    ----------
    blocks : list of (X, y)
        Row blocks (:func:`row_blocks`), labels ±1.
    loss : {"squared_hinge", "log"}
    C : float
    client : distributed.Client or None
        Where the block parts run: on the workers holding the blocks (scattered once,
        here), or locally when None.
    """

    def __init__(self, blocks: list[Block], loss: str, C: float, client: Any = None):
        self.loss, self.C, self.client = loss, C, client
        self.blocks: list[Any] = client.scatter(blocks) if client is not None else blocks
        self.n_evals = 0

    def __call__(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        self.n_evals += 1
        if self.client is None:
            parts = [block_loss_grad(b, w, self.loss) for b in self.blocks]
        else:
            shipped = self.client.scatter(w, broadcast=True)
            parts = self.client.gather([
                self.client.submit(block_loss_grad, b, shipped, self.loss, pure=False)
                for b in self.blocks])
        f, g = 0.5 * float(w @ w), w.copy()
        for fb, gb in parts:
            f += self.C * fb
            g += self.C * gb
        return f, g


class BlockLinearClassifier(ClassifierMixin, BaseEstimator):
    """Binary linear classifier fitted by L-BFGS-B on a block-summed objective.

    ``loss="squared_hinge"`` is ``LinearSVC(C=C)``'s objective, ``loss="log"``
    ``LogisticRegression(C=C, solver="liblinear")``'s (module docstring). Inside
    :func:`dask_client` the loss and gradient are evaluated on the cluster.

    Parameters
    ----------
    loss : {"squared_hinge", "log"}
    C : float
        Inverse regularisation, as in the sklearn classes.
    block_rows : int
        Rows per block. The block sums do not depend on where they run, only on this.
    tol : float
        L-BFGS-B's ``gtol`` (largest gradient component at the stop), relative to
        ``C`` times the number of rows; ``ftol`` is ``tol`` squared.
    max_iter : int
    """

    def __init__(self, loss: str = "squared_hinge", C: float = 1.0, block_rows: int = 1024,
                 tol: float = 1e-7, max_iter: int = 5000):
        self.loss = loss
        self.C = C
        self.block_rows = block_rows
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: sp.csr_matrix, y: np.ndarray) -> BlockLinearClassifier:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        for p in ("C", "block_rows", "tol", "max_iter"):
            if not getattr(self, p) > 0:
                raise ValueError(f"{p} must be > 0, got {getattr(self, p)!r}")
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2 or X.shape[0] != len(y):
            raise ValueError(f"expected two classes and one label a row, got classes "
                             f"{self.classes_.tolist()} for {len(y)} labels, {X.shape[0]} rows")
        # Columns no row touches have zero loss gradient, so from w = 0 L-BFGS keeps
        # them at 0 (its steps combine past gradients): fitting on the used columns
        # alone is the same fit, with vectors of thousands rather than a million.
        cols = np.unique(X.indices)
        Xb = sp.hstack([X[:, cols], np.ones((X.shape[0], 1))], format="csr")
        sign = np.where(y == self.classes_[1], 1.0, -1.0)
        obj = BlockObjective(row_blocks(Xb, sign, self.block_rows), self.loss, self.C,
                             _CLIENT.get())
        scale = self.C * X.shape[0]
        res = minimize(obj, np.zeros(Xb.shape[1]), jac=True, method="L-BFGS-B",
                       options={"maxiter": self.max_iter, "gtol": self.tol * scale,
                                "ftol": self.tol**2, "maxcor": 20})
        coef = np.zeros(X.shape[1])
        coef[cols] = res.x[:-1]
        self.coef_ = coef[None, :]
        self.intercept_ = np.array([res.x[-1]])
        self.n_iter_ = int(res.nit)
        self.converged_ = bool(res.success)
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return np.asarray(X @ self.coef_[0]).ravel() + self.intercept_[0]

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
