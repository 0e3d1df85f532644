"""The L-BFGS linear solver against liblinear on the corpus's random split.

    python benchmarks/lbfgs.py [--corpus DIR] [--no-cluster]

Fitted on the training rows (duplicates dropped as ``train`` drops them), measured on
the test rows: (1) the SVM member alone on the expanded rows, ``LinearSVC(C=10)``
against ``BlockLinearClassifier(C=10)``; (2) the default nb+svm SpamClassifier with
``linear_solver="liblinear"`` and ``"lbfgs"``; (3) unless ``--no-cluster``, the lbfgs
fit again inside ``dask_client`` on a LocalCluster of 2 workers x 1 thread. Prints
one JSON object; fit times are wall-clock seconds of one run on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS  # noqa: E402

from spamsift.features.featurizer import MessageFeaturizer  # noqa: E402
from spamsift.ingest import read_index  # noqa: E402
from spamsift.models.classifier import SpamClassifier  # noqa: E402
from spamsift.models.parallel_linear import BlockLinearClassifier, dask_client  # noqa: E402
from spamsift.training.jobs import load_dataset, split_dataset  # noqa: E402


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _roca(y: np.ndarray, d: np.ndarray) -> float:
    return 100 * (1 - roc_auc_score(y, d))


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--no-cluster", action="store_true")
    args = ap.parse_args()
    rows = read_index(args.corpus / "index.csv", root=args.corpus,
                      split_column="random_split")
    ds = load_dataset(rows, MessageFeaturizer(), n_jobs=2)
    tr, te, _ = split_dataset(ds, "column", 0)
    Xtr, ytr, Xte, yte = ds.X[tr], ds.y[tr], ds.X[te], ds.y[te]
    out: dict[str, Any] = {"n_train": int(len(tr)), "n_test": int(len(te))}

    expander = SpamClassifier(model="svm")
    Etr = expander._expand(Xtr, ytr).normalized
    Ete = expander._expand(Xte).normalized
    lib, t_lib = _timed(lambda: LinearSVC(C=10.0, max_iter=20000, random_state=0).fit(Etr, ytr))
    lb, t_lb = _timed(lambda: BlockLinearClassifier(C=10.0).fit(Etr, ytr))
    wl, wb = np.r_[lib.coef_.ravel(), lib.intercept_], np.r_[lb.coef_.ravel(), lb.intercept_]
    dl, db = lib.decision_function(Ete), lb.decision_function(Ete)
    out["svm_member"] = {
        "seconds": {"liblinear": t_lib, "lbfgs": t_lb}, "lbfgs_iterations": lb.n_iter_,
        "coef_rel_diff": _rel(wb, wl), "coef_max_abs_diff": float(abs(wb - wl).max()),
        "test_decision_max_abs_diff": float(abs(db - dl).max()),
        "test_spearman": float(spearmanr(dl, db)[0]),
        "test_one_minus_roca_pct": {"liblinear": _roca(yte, dl), "lbfgs": _roca(yte, db)}}

    fits = {}
    for solver in ("liblinear", "lbfgs"):
        fits[solver] = _timed(lambda s=solver: SpamClassifier(linear_solver=s).fit(Xtr, ytr))
    (a, ta), (b, tb) = fits["liblinear"], fits["lbfgs"]
    za, zb = a.decision_function(Xte), b.decision_function(Xte)
    out["nb_svm"] = {
        "seconds": {"liblinear": ta, "lbfgs": tb},
        "coef_normalized_rel_diff": _rel(b.coef_normalized_, a.coef_normalized_),
        "intercept": {"liblinear": a.intercept_, "lbfgs": b.intercept_},
        "test_logit_max_abs_diff": float(abs(zb - za).max()),
        "test_spearman": float(spearmanr(za, zb)[0]),
        "test_one_minus_roca_pct": {"liblinear": _roca(yte, za), "lbfgs": _roca(yte, zb)}}

    if not args.no_cluster:
        import dask
        import distributed

        scratch = tempfile.mkdtemp(prefix="lbfgs-dask-")
        with dask.config.set({"temporary-directory": scratch}), \
                distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                         host="127.0.0.1", dashboard_address=None,
                                         local_directory=scratch, silence_logs=50) as c, \
                distributed.Client(c) as client, dask_client(client):
            (c2, tc) = _timed(lambda: SpamClassifier(linear_solver="lbfgs").fit(Xtr, ytr))
        out["nb_svm"]["seconds"]["lbfgs_on_2_workers"] = tc
        out["nb_svm"]["cluster_vs_local_lbfgs_max_abs_diff"] = float(
            abs(c2.coef_normalized_ - b.coef_normalized_).max())
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
