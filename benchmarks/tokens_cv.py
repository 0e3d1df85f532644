"""Tokenizer comparison: 5-fold CV on a split's training rows, and featurising speed.

    python benchmarks/tokens_cv.py --label NAME [--corpus DIR] [--splits random_split]
    python benchmarks/tokens_cv.py --compare A.json B.json

Reads only the rows whose split column says ``train`` (the test rows are never
opened), drops duplicates as ``train`` does, featurises them in this process with the
``spamsift`` that is importable (run it with ``PYTHONPATH`` pointing at another
checkout's ``src`` to measure that one), and fits the default ``SpamClassifier`` on
each of 5 stratified folds (seed 0). Reports the folds' mean (1-ROCA)% and, from the
pooled out-of-fold scores, the share of spam missed at FPR <= 0.1 % and <= 1 %.
Speed: ``MessageFeaturizer.transform`` on the first ``--speed-n`` training messages
as raw bytes, and ``transform_parsed`` on them parsed, one process, median CPU time of
``--repeats`` (after one warm-up call, so one-time loads are not counted; the first
call is reported on its own). ``--speed-only`` skips the cross-validation.
Results go to benchmarks/results/tokens_cv-NAME.json; ``--compare`` prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from spamsift.evaluation import fnr_at_fpr
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest.index import read_index
from spamsift.models.classifier import SpamClassifier
from spamsift.training.jobs import load_dataset, split_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS  # noqa: E402


def cv_split(corpus: Path, split: str, folds: int, seed: int) -> dict:
    """Out-of-fold figures of the default classifier on one split's training rows."""
    featurizer = MessageFeaturizer()
    msgs = read_index(corpus / "index.csv", root=corpus, split_column=split,
                      only_split="train")
    t0 = time.perf_counter()
    ds = load_dataset(msgs, featurizer, n_jobs=1)
    featurise_s = time.perf_counter() - t0
    tr, _, dropped = split_dataset(ds, "column")
    X, y = ds.X[tr], ds.y[tr]
    oof = np.zeros(len(y))
    aucs = []
    t0 = time.perf_counter()
    for a, b in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        est = clone(SpamClassifier()).fit(X[a], y[a])
        oof[b] = est.predict_proba(X[b])[:, 1]
        aucs.append(roc_auc_score(y[b], oof[b]))
    return {"split": split, "n": int(len(y)), "duplicates_dropped": int(dropped),
            "one_minus_roca_pct": 100 * (1 - float(np.mean(aucs))),
            "fold_one_minus_roca_pct": [100 * (1 - a) for a in aucs],
            "fnr_at_fpr_0_1pct": fnr_at_fpr(y, oof, 0.001),
            "fnr_at_fpr_1pct": fnr_at_fpr(y, oof, 0.01),
            "featurise_s": featurise_s, "fit_s": time.perf_counter() - t0}


def speed(corpus: Path, split: str, n: int, repeats: int) -> dict:
    """Messages per second of ``MessageFeaturizer.transform`` on raw bytes, one process.

    Also ``transform_parsed`` on messages parsed beforehand (tokens, structure and
    hashing without the parser). CPU seconds of this process, not wall time: other
    work on a shared machine slows the wall clock more than it does this.
    """
    datas = [m.data for m, _ in zip(read_index(corpus / "index.csv", root=corpus,
                                               split_column=split, only_split="train"),
                                    range(n), strict=False)]
    f = MessageFeaturizer()
    t0 = time.perf_counter()
    f.transform(datas[:1])
    first_call_s = time.perf_counter() - t0
    parsed = [f.parse(d) for d in datas]
    out: dict = {"n": len(datas), "first_call_s": first_call_s}
    for name, fn in (("transform", lambda: f.transform(datas)),
                     ("transform_parsed", lambda: f.transform_parsed(parsed))):
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        best = statistics.median(times)
        out[name] = {"msgs_per_s": len(datas) / best, "ms_per_msg": 1000 * best / len(datas),
                     "cpu_s": times}
    return out


def compare(paths: list[Path]) -> str:
    runs = [json.loads(p.read_text()) for p in paths]
    lines = ["| run | split | n | (1-ROCA)% | FNR % @FPR<=0.1% | FNR % @FPR<=1% |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        for c in r["cv"]:
            lines.append(f"| {r['label']} | {c['split']} | {c['n']} "
                         f"| {c['one_minus_roca_pct']:.4f} | {100 * c['fnr_at_fpr_0_1pct']:.2f} "
                         f"| {100 * c['fnr_at_fpr_1pct']:.2f} |")
    lines += ["", "| run | n | transform msgs/s | ms/msg | transform_parsed msgs/s | ms/msg "
              "| first call s |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        if r.get("speed"):
            s, a, b = r["speed"], r["speed"]["transform"], r["speed"]["transform_parsed"]
            lines.append(f"| {r['label']} | {s['n']} | {a['msgs_per_s']:.0f} "
                         f"| {a['ms_per_msg']:.3f} | {b['msgs_per_s']:.0f} "
                         f"| {b['ms_per_msg']:.3f} | {s['first_call_s']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", help="name of this run (results/tokens_cv-LABEL.json)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--splits", default="random_split")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speed-n", type=int, default=1000, help="0: no speed run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--compare", nargs="+", type=Path, metavar="JSON")
    args = ap.parse_args()
    if args.compare:
        print(compare(args.compare))
        return
    if not args.label:
        ap.error("--label is required unless --compare is given")
    corpus = args.corpus.resolve()
    result: dict = {"label": args.label, "speed": None, "cv": []}
    if args.speed_n:
        result["speed"] = speed(corpus, args.splits.split(",")[0], args.speed_n, args.repeats)
        print(json.dumps(result["speed"]))
    for split in [] if args.speed_only else args.splits.split(","):
        result["cv"].append(cv_split(corpus, split, args.folds, args.seed))
        print(json.dumps(result["cv"][-1]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"tokens_cv-{args.label}.json"
    out.write_text(json.dumps(result, indent=2))
    print(compare([out]))


if __name__ == "__main__":
    main()
