"""Hyperparameter search over SpamClassifier with scikit-learn's searchers.

Folds are stratified and drawn from the training part only; the score is ROC AUC,
the figure the operating threshold is later cut from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.stats import loguniform
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedKFold

from spamsift.models.classifier import SpamClassifier

__all__ = ["GRID", "DISTRIBUTIONS", "search"]

#: The grid searched by ``train --search grid``.
GRID: dict[str, list[Any]] = {
    "model": ["nb+svm", "svm", "nb+lr+svm"],
    "C_svm": [1.0, 3.0, 10.0],
    "aux_weight": [0.25, 0.5, 1.0],
}
#: The distributions sampled by ``train --search random``.
DISTRIBUTIONS: dict[str, Any] = {
    "model": ["nb+svm", "svm", "nb+lr+svm", "lr"],
    "C_svm": loguniform(0.3, 30),
    "C_lr": loguniform(10, 1000),
    "alpha_nb": loguniform(0.01, 1),
    "aux_weight": loguniform(0.1, 2),
    "rep_smoothing": loguniform(0.5, 10),
}


def search(base: SpamClassifier, X: sp.csr_matrix, y: np.ndarray, kind: str, *,
           n_iter: int = 12, cv: int = 4, seed: int = 0, n_jobs: int = 1,
           grid: dict[str, list[Any]] | None = None) -> tuple[SpamClassifier, dict[str, Any]]:
    """Search, refit the best on all of ``X``; return it and a summary of the search."""
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    if kind == "grid":
        s = GridSearchCV(base, grid or GRID, scoring="roc_auc", cv=folds, n_jobs=n_jobs,
                         refit=True)
    elif kind == "random":
        s = RandomizedSearchCV(base, DISTRIBUTIONS, n_iter=n_iter, scoring="roc_auc", cv=folds,
                               n_jobs=n_jobs, refit=True, random_state=seed)
    else:
        raise ValueError(f"search must be 'grid' or 'random', got {kind!r}")
    s.fit(X, y)
    res = s.cv_results_
    table = sorted(
        ({"params": {k: _plain(v) for k, v in p.items()},
          "one_minus_roca_pct": 100 * (1 - m), "std": 100 * sd}
         for p, m, sd in zip(res["params"], res["mean_test_score"], res["std_test_score"],
                             strict=True)),
        key=lambda r: r["one_minus_roca_pct"])
    return s.best_estimator_, {"kind": kind, "cv": cv, "best_params": table[0]["params"],
                               "candidates": table}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
