"""Speed benchmark: messages per second through `score`, raw bytes to verdict; training time.

    python benchmarks/speed.py [--corpus DIR] [--split temporal_split] [--repeats 3]

Times, in one run on the same messages (page-cached): spamsift scoring in-process
with 1 and with every core (parse, featurise, score), the whole ``spamsift score``
command (start-up included), ``spamsift train``, and bogofilter's bulk mode where
bogofilter is installed. Medians of ``--repeats`` runs; ratios against bogofilter.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402

SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", default="temporal_split")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    corpus = args.corpus.resolve()
    index = corpus / "index.csv"
    rows = list(csv.DictReader(open(index)))
    train_paths = [str(corpus / r["path"]) for r in rows if r[args.split] == "train"]
    test_paths = [str(corpus / r["path"]) for r in rows if r[args.split] == "test"]
    train_labels = [r["label"] for r in rows if r[args.split] == "train"]
    n = len(test_paths)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = work / "model"
        t_train = median_time(lambda: subprocess.run(
            SPAMSIFT + ["train", "--index", str(index), "--root", str(corpus), "--split-column",
                        args.split, "--model-out", str(model)], check=True,
            stdout=subprocess.DEVNULL), 1)
        results["spamsift train (CLI, whole job)"] = {"seconds": t_train}

        from spamsift.features.batch import featurize
        from spamsift.models.persistence import load_model

        m = load_model(model)
        datas = [Path(p).read_bytes() for p in test_paths]

        def in_process(jobs: int):
            def run():
                X, _ = featurize(m.featurizer, datas, n_jobs=jobs, with_meta=False)
                m.classifier.decision_function(X)
            return run

        for jobs, label in ((1, "1 core"), (os.cpu_count() or 1, "all cores")):
            in_process(jobs)()  # warm-up: worker start-up and imports
            t = median_time(in_process(jobs), args.repeats)
            results[f"spamsift score in-process, {label}"] = {"seconds": t, "msgs_per_s": n / t}
        t = median_time(lambda: subprocess.run(
            SPAMSIFT + ["score", "--index", str(index), "--root", str(corpus), "--split-column",
                        args.split, "--model", str(model), "--out", str(work / "s.csv")],
            check=True, stderr=subprocess.DEVNULL), args.repeats)
        results["spamsift score (CLI, start-up included)"] = {"seconds": t, "msgs_per_s": n / t}

        bogo = shutil.which("bogofilter")
        if bogo:
            db = work / "bogo"
            db.mkdir()
            base = [bogo, "-C", "-d", str(db)]
            for flag, lab in (("-s", "spam"), ("-n", "ham")):
                names = "".join(p + "\n" for p, lb in zip(train_paths, train_labels, strict=True)
                                if lb == lab)
                subprocess.run(base + [flag, "-b"], input=names.encode(), check=True)
            names = "".join(p + "\n" for p in test_paths).encode()
            t = median_time(lambda: subprocess.run(base + ["-t", "-b"], input=names,
                                                   stdout=subprocess.DEVNULL), args.repeats)
            results["bogofilter bulk (-b, one process)"] = {"seconds": t, "msgs_per_s": n / t}
    ref = results.get("bogofilter bulk (-b, one process)", {}).get("msgs_per_s")
    lines = ["| what | seconds (median) | msgs/s | vs bogofilter bulk |", "|---|---|---|---|"]
    for k, v in results.items():
        rate = v.get("msgs_per_s")
        ratio = f"{rate / ref:.2f}x" if rate and ref else "–"
        lines.append(f"| {k} | {v['seconds']:.2f} | {f'{rate:.0f}' if rate else '–'} | {ratio} |")
    md = (f"{n} messages of `{args.split}`'s test part, {os.cpu_count()} cores, "
          f"median of {args.repeats}.\n\n" + "\n".join(lines) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "speed.md").write_text(md)
    replace_block("speed", md)
    print(md)


if __name__ == "__main__":
    main()
