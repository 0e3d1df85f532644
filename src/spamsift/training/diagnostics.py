"""Is the model under- or overfitting? Training vs validation scores and a learning curve."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from spamsift.models.classifier import SpamClassifier

__all__ = ["learning_curve_data", "diagnose_fit"]

# Gaps in (1-ROCA)% between training and validation. A filter that separates
# its training mail perfectly is normal; what matters is how far validation
# trails and whether more data still helps.
_OVERFIT_GAP = 0.5
_UNDERFIT_LEVEL = 2.0


def _pct(auc: float) -> float:
    return 100.0 * (1.0 - auc)


def learning_curve_data(clf: SpamClassifier, X: sp.csr_matrix, y: np.ndarray,
                        sizes: tuple[float, ...] = (0.2, 0.45, 0.7, 1.0), cv: int = 3,
                        seed: int = 0) -> dict[str, Any]:
    """Training and validation (1-ROCA)% against training-set size.

    Like scikit-learn's ``learning_curve``, but each subset keeps the class ratio
    (its subsets are the first n shuffled rows, which on small sets can hold too few
    of one class to fit), and sizes too small to fit are left out, not NaN.
    """
    min_per_class = max(getattr(clf, "inner_cv", 2), 2)
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    # Per size (as a fraction): the subset sizes seen and the scores; folds differ by a row.
    rows: dict[float, tuple[list[int], list[float], list[float]]] = {}
    for tr, va in folds.split(np.zeros(len(y)), y):
        for frac in sizes:
            n = int(round(frac * len(tr)))
            if frac < 1.0:
                sub, _ = train_test_split(tr, train_size=n, stratify=y[tr], random_state=seed)
            else:
                sub = tr
            if np.bincount(y[sub], minlength=2).min() < min_per_class:
                continue
            est = clone(clf).set_params(**clf.tuned_params()).fit(X[sub], y[sub])
            t = _pct(roc_auc_score(y[sub], est.decision_function(X[sub])))
            v = _pct(roc_auc_score(y[va], est.decision_function(X[va])))
            ns, ts, vs = rows.setdefault(frac, ([], [], []))
            ns.append(len(sub))
            ts.append(t)
            vs.append(v)
    fracs = sorted(rows)
    return {"metric": "(1-ROCA)%",
            "train_sizes": [int(round(np.mean(rows[f][0]))) for f in fracs],
            "train_scores": [rows[f][1] for f in fracs],
            "valid_scores": [rows[f][2] for f in fracs]}


def diagnose_fit(clf: SpamClassifier, X: sp.csr_matrix, y: np.ndarray,
                 curve: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compare the fitted model on its own training data with its out-of-fold scores."""
    train = _pct(roc_auc_score(y, clf.decision_function(X)))
    valid = _pct(roc_auc_score(y, clf.oof_decision_))
    gap = valid - train
    still_improving = None
    if curve is not None:
        v = [float(np.mean(r)) for r in curve["valid_scores"]]
        still_improving = len(v) >= 2 and v[-1] < 0.9 * v[-2]
    if valid > _UNDERFIT_LEVEL and gap < _OVERFIT_GAP:
        verdict = "underfit"
        why = ("validation error is high and close to training error: the model is too "
               "simple or the features miss what separates the classes")
    elif gap >= _OVERFIT_GAP:
        verdict = "overfit"
        why = ("validation error is well above training error: more data or stronger "
               "regularisation should help")
    else:
        verdict = "good fit"
        why = ("training separates perfectly, as high-dimensional text models do; the "
               "validation error is low and close to it")
    if still_improving:
        why += "; the learning curve is still falling, so more training mail will help"
    return {"verdict": verdict, "train_one_minus_roca_pct": train,
            "valid_one_minus_roca_pct": valid, "gap": gap, "explanation": why}
