"""Streaming train benchmark: the seed size, quality against the batch model, peak memory.

    python benchmarks/stream_train.py [--corpus DIR] [--parts seed quality scale]
                                      [--seed-sizes 250 500 1000 2000 0] [--sizes 10000 100000]

``seed``: the default ``--seed-size``, chosen on the random split's *training* rows only:
they are shuffled (seed 0), the first 80 % are the stream and the last 20 % held out;
for each seed size (0: every row, i.e. the batch recipe) the streamed model's
(1-ROCA)% on the held-out rows, and its FPR / FNR at the cut-offs chosen on the
progressive-validation histogram and at the seed's own out-of-fold cut-offs.

``quality``: through the CLI, on each split, the README's ``train`` with and without
``--stream`` on the training rows in date order (an index written to a temporary
folder, pointing at the corpus), then ``score`` on the test rows; the test rows
measure, never choose.

``scale``: ``train --stream`` on 10,000 and 100,000 messages, the corpus in date order
replicated with ``benchmarks/scale.py``'s seeded edits (written as files with an index
to a temporary folder and deleted after), peak RSS sampled as scale.py does; the batch
``train`` on the smallest size beside it.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS  # noqa: E402
from scale import SPAMSIFT, edited, run_measured  # noqa: E402
from scipy.special import expit  # noqa: E402

from spamsift.config import load_settings  # noqa: E402
from spamsift.evaluation import compute_metrics  # noqa: E402
from spamsift.features.featurizer import MessageFeaturizer  # noqa: E402
from spamsift.ingest import read_index  # noqa: E402
from spamsift.models.persistence import load_model  # noqa: E402
from spamsift.training.jobs import load_dataset  # noqa: E402
from spamsift.training.replay import date_order  # noqa: E402
from spamsift.training.streaming import SeenKeys, train_stream  # noqa: E402
from spamsift.training.trainer import TrainOptions  # noqa: E402

SPLITS = ("random_split", "temporal_split")


def _pick(m: dict[str, Any]) -> dict[str, float]:
    return {"one_minus_roca_pct": m["one_minus_roca_pct"], "fpr_pct": 100 * m["fpr"],
            "fnr_pct": 100 * m["fnr"]}


def seed_part(corpus: Path, sizes: list[int]) -> list[dict[str, Any]]:
    rows = list(read_index(corpus / "index.csv", root=corpus, split_column="random_split",
                           only_split="train"))
    random.Random(0).shuffle(rows)
    cut = int(0.8 * len(rows))
    stream, held = rows[:cut], rows[cut:]
    featurizer = MessageFeaturizer()
    val = load_dataset(held, featurizer, n_jobs=-1)
    settings = load_settings()
    every = _banned(val)  # "0": the seed is every distinct streamed row (the batch recipe)
    n_distinct = sum(not every.add_message(featurizer, m.data) for m in stream)
    out = []
    for size in sizes:
        t0 = time.perf_counter()
        model, d = train_stream(iter(stream), featurizer, settings,
                                TrainOptions(learning_curve=False),
                                seed_size=size or n_distinct, n_jobs=-1, seen=_banned(val))
        s = expit(model.classifier.decision_function(val.X))
        cuts = d["cutoffs"]
        r = {"seed_size": d["n_seed"], "n_streamed": d["n_streamed"],
             "seconds": time.perf_counter() - t0,
             "stream_cutoffs": _pick(compute_metrics(val.y, s, cuts["spam"], cuts["unsure"])),
             "seed_cutoffs": _pick(compute_metrics(val.y, s, cuts["seed"]["spam"],
                                                   cuts["seed"]["unsure"]))}
        out.append(r)
        print(r, flush=True)
    return out


def _banned(val: Any) -> SeenKeys:
    """Keys of the held-out rows: none of them is trained on."""
    seen = SeenKeys()
    for mm in val.meta:
        seen.add(mm.exact_key, mm.content_key)
    return seen


def _date_ordered_index(corpus: Path, dest: Path) -> Path:
    with open(corpus / "index.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    msgs = list(read_index(corpus / "index.csv", root=corpus))
    assert len(msgs) == len(table)
    order = date_order(msgs)
    with open(dest, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(table[i] for i in order)
    return dest


def quality_part(corpus: Path, work: Path) -> list[dict[str, Any]]:
    index = _date_ordered_index(corpus, work / "by-date.csv")
    labels = {r["path"]: int(r["label"] == "spam") for r in csv.DictReader(open(index))}
    out = []
    for split in SPLITS:
        for how, extra in (("batch", []), ("stream", ["--stream"])):
            model = work / f"{split}-{how}"
            base = ["--index", str(index), "--root", str(corpus), "--split-column", split]
            t = run_measured([*SPAMSIFT, "train", *base, "--model-out", str(model), *extra])
            scores = work / "scores.csv"
            run_measured([*SPAMSIFT, "score", *base, "--model", str(model), "--out",
                          str(scores)])
            rows = list(csv.DictReader(open(scores)))
            y = np.array([labels[r["path"]] for r in rows])
            s = np.array([float(r["score"]) for r in rows])
            m = load_model(model)
            r = {"split": split, "how": how, "n_test": len(y),
                 "n_train": m.info["training"]["n_train"],
                 "n_seed": m.info["training_data"].get("n_seed"),
                 "train_s": t["seconds"], "train_peak_rss_mb": t["peak_rss_mb"],
                 **_pick(compute_metrics(y, s, m.spam_cutoff, m.unsure_cutoff))}
            out.append(r)
            print(r, flush=True)
    return out


def scale_part(corpus: Path, work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    index = _date_ordered_index(corpus, work / "by-date.csv")
    base = [((corpus / r["path"]).read_bytes(), r["label"])
            for r in csv.DictReader(open(index))]
    out = []
    for n in sizes:
        folder = work / f"scale-{n}"
        folder.mkdir()
        rng = random.Random(0)
        with open(folder / "index.csv", "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["path", "label", "split"])
            for i in range(n):
                data, label = base[i % len(base)]
                (folder / f"{i:06d}.eml").write_bytes(edited(data, i // len(base), rng))
                w.writerow([f"{i:06d}.eml", label, "train"])
        runs = [("stream", ["--stream"])] + ([("batch", [])] if n == min(sizes) else [])
        for how, extra in runs:
            t = run_measured([*SPAMSIFT, "train", "--index", str(folder / "index.csv"),
                              "--split-column", "split", "--model-out",
                              str(work / f"m-{n}-{how}"), *extra])
            m = load_model(work / f"m-{n}-{how}")
            r = {"messages": n, "how": how, "n_train": m.info["training"]["n_train"], **t}
            out.append(r)
            print(r, flush=True)
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    return out


def digest_cost(n: int = 200_000) -> float:
    """Bytes a message the duplicate keys hold (two digests each), by tracemalloc."""
    rng = random.Random(0)
    tracemalloc.start()
    seen = SeenKeys()
    for _ in range(n):
        seen.add(rng.randbytes(32).hex(), rng.randbytes(32).hex())
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--parts", nargs="+", default=["seed", "quality", "scale"])
    ap.add_argument("--seed-sizes", type=int, nargs="+", default=[250, 500, 1000, 2000, 0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--tmp", type=Path, default=None)
    args = ap.parse_args()
    corpus = args.corpus.resolve()
    path = RESULTS / "stream_train.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["digest_bytes_per_message"] = digest_cost()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        if "seed" in args.parts:
            results["seed"] = seed_part(corpus, args.seed_sizes)
        if "quality" in args.parts:
            results["quality"] = quality_part(corpus, Path(tmp))
        if "scale" in args.parts:
            results["scale"] = scale_part(corpus, Path(tmp), args.sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
