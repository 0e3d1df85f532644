"""Speed benchmark: start-up, messages per second through `score`, one message's classify.

    python benchmarks/speed.py [--corpus DIR] [--split temporal_split] [--repeats 3]
                               [--baseline REV]

Measured in one run on the same messages (page-cached), each in a fresh process:

- ``spamsift classify`` of one message with the bundled model (what a Dovecot learn
  script or a person waits for): wall time, median of ``--startup-runs``;
- scoring in-process, raw bytes to scores (parse, featurise, score), on 1 core and on
  every core;
- the whole ``spamsift score`` command (start-up included), every core;
- ``SpamModel.classify`` of one message at a time, with its top 8 clues and without
  (what the daemons do per request), CPU per message;
- bogofilter's bulk mode where bogofilter is installed, the yardstick for ``score``.

``--baseline REV`` measures the source tree of a git revision too (exported with
``git archive`` into a temporary folder), the two interleaved round by round, so that
the ratios compare runs that saw the same load: the machine is shared and noisy.
Medians of ``--repeats`` rounds; ``spamsift train`` (once, whole job) makes the model
both trees score with.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, ROOT, replace_block  # noqa: E402
from _common import describe as _describe  # noqa: E402
from _common import export as _export  # noqa: E402

SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]
#: The message `classify` reads at start-up: small, so the time is start-up's.
ONE_MESSAGE = (b"From: Alice <alice@example.org>\nTo: bob@example.org\n"
               b"Subject: Lunch on Thursday?\nDate: Mon, 2 Dec 2024 10:00:00 +0000\n\n"
               b"Shall we meet at noon? Bring the report.\n")


def measure_in_process(args: argparse.Namespace) -> dict[str, float]:
    """Runs in a child process on one source tree: scoring and classify, timed here."""
    from spamsift.features.batch import featurize
    from spamsift.models.persistence import load_model

    m = load_model(args.model)
    paths = json.loads(Path(args.paths).read_text())
    datas = [Path(p).read_bytes() for p in paths]
    if args.measure == "score":
        def run() -> None:
            X, _ = featurize(m.featurizer, datas, n_jobs=args.jobs, with_meta=False)
            m.classifier.decision_function(X)

        run()  # warm-up: worker start-up, imports, the language model
        wall, cpu = _timed(run, args.repeats)
        return {"seconds": wall, "msgs_per_s": len(datas) / wall, "cpu_s": cpu}
    sample = datas[:: max(1, len(datas) // 300)]  # ~300 spread over the test rows
    m.classify(sample[:5], top=args.top)
    _, cpu = _timed(lambda: [m.classify([d], top=args.top) for d in sample], args.repeats)
    return {"ms_per_msg": 1000 * cpu / len(sample)}


def _timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (this process and its children)."""
    walls, cpus = [], []
    for _ in range(repeats):
        c0 = _cpu()
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _env(src: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src), SPAMSIFT_DATA_DIR=str(work / "data"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # start-up as installed: bytecode cached
    return env


def _run_timed(cmd: list[str], env: dict[str, str], **kw) -> tuple[float, float]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, **kw)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", default="temporal_split")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--startup-runs", type=int, default=10)
    ap.add_argument("--baseline", help="git revision to measure beside this tree")
    # The child's side (one measurement on one tree), not for use by hand.
    ap.add_argument("--measure", choices=("score", "classify"), help=argparse.SUPPRESS)
    ap.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--paths", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--top", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure_in_process(args)))
        return
    corpus = args.corpus.resolve()
    index = corpus / "index.csv"
    rows = list(csv.DictReader(open(index)))
    train_paths = [str(corpus / r["path"]) for r in rows if r[args.split] == "train"]
    test_paths = [str(corpus / r["path"]) for r in rows if r[args.split] == "test"]
    train_labels = [r["label"] for r in rows if r[args.split] == "train"]
    n = len(test_paths)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trees = {f"this tree ({_describe('HEAD')})": ROOT / "src"}
        if args.baseline:
            trees[f"{args.baseline} ({_describe(args.baseline)})"] = _export(args.baseline,
                                                                          work / "baseline")
        (work / "paths.json").write_text(json.dumps(test_paths))
        (work / "one.eml").write_bytes(ONE_MESSAGE)
        # Each tree scores a model it trained: an older tree may not read a newer file.
        models = {tree: work / f"model-{i}" for i, tree in enumerate(trees)}
        for tree, src in trees.items():
            t, _ = _run_timed(SPAMSIFT + ["train", "--index", str(index), "--root", str(corpus),
                                          "--split-column", args.split, "--model-out",
                                          str(models[tree])], _env(src, work))
            if src == ROOT / "src":
                t_train = t
        results: dict[str, dict[str, dict[str, list[float]]]] = {t: {} for t in trees}

        def add(tree: str, what: str, values: dict[str, float]) -> None:
            row = results[tree].setdefault(what, {})
            for k, v in values.items():
                row.setdefault(k, []).append(v)

        for _ in range(args.repeats):  # rounds: every tree measured once per round
            for tree, src in trees.items():
                env = _env(src, work)
                model = models[tree]
                child = [sys.executable, str(Path(__file__).resolve()), "--model", str(model),
                         "--paths", str(work / "paths.json"), "--repeats", "1"]
                for _ in range(max(1, args.startup_runs // args.repeats)):
                    wall, cpu = _run_timed(SPAMSIFT + ["classify", str(work / "one.eml")], env)
                    add(tree, "spamsift classify, one message (CLI, bundled model)",
                        {"seconds": wall, "cpu_s": cpu})
                for jobs, label in ((1, "1 core"), (cores, f"{cores} cores")):
                    out = subprocess.run(child + ["--measure", "score", "--jobs", str(jobs)],
                                         env=env, check=True, capture_output=True, text=True)
                    got = json.loads(out.stdout)
                    add(tree, f"score in-process, {label}", got)
                    if jobs == 1:  # CPU time: what the load on a shared machine moves least
                        add(tree, "score in-process, 1 core, CPU per message",
                            {"ms_per_msg": 1000 * got["cpu_s"] / n})
                wall, cpu = _run_timed(
                    SPAMSIFT + ["score", "--index", str(index), "--root", str(corpus),
                                "--split-column", args.split, "--model", str(model),
                                "--out", str(work / "s.csv")], env, stderr=subprocess.DEVNULL)
                add(tree, f"spamsift score (CLI, start-up included, {cores} cores)",
                    {"seconds": wall, "msgs_per_s": n / wall, "cpu_s": cpu})
                for top in (8, 0):
                    out = subprocess.run(child + ["--measure", "classify", "--top", str(top)],
                                         env=env, check=True, capture_output=True, text=True)
                    add(tree, f"SpamModel.classify of one message, {top} clues (CPU)",
                        json.loads(out.stdout))
        bogo = shutil.which("bogofilter")
        bogo_rate = None
        if bogo:
            db = work / "bogo"
            db.mkdir()
            base = [bogo, "-C", "-d", str(db)]
            for flag, lab in (("-s", "spam"), ("-n", "ham")):
                names = "".join(p + "\n" for p, lb in zip(train_paths, train_labels, strict=True)
                                if lb == lab)
                subprocess.run(base + [flag, "-b"], input=names.encode(), check=True)
            names = "".join(p + "\n" for p in test_paths).encode()
            times = [_run_timed(base + ["-t", "-b"], os.environ, input=names)[0]
                     for _ in range(args.repeats)]
            bogo_rate = n / statistics.median(times)
    summary = {tree: {what: {k: statistics.median(v) for k, v in vals.items()}
                      for what, vals in rows_.items()} for tree, rows_ in results.items()}
    summary["spamsift train (CLI, whole job)"] = {"seconds": t_train}
    if bogo_rate:
        summary["bogofilter bulk (-b, one process)"] = {"msgs_per_s": bogo_rate}
    md = _table(summary, trees, n, args, cores, bogo_rate)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(summary, indent=2))
    (RESULTS / "speed.md").write_text(md)
    replace_block("speed", md)
    print(md)


def _table(summary: dict, trees: dict[str, Path], n: int, args: argparse.Namespace,
           cores: int, bogo_rate: float | None) -> str:
    names = list(trees)
    head = ["what", *[f"{t}" for t in names]]
    if len(names) > 1:
        head.append(f"{names[0]} / {names[1]}")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for what in summary[names[0]]:
        cells, values = [], []
        for t in names:
            v = summary[t].get(what, {})
            if "msgs_per_s" in v:
                cells.append(f"{v['msgs_per_s']:.0f} msgs/s"
                             + (f" ({v['msgs_per_s'] / bogo_rate:.2f}x bogofilter)"
                                if bogo_rate else ""))
                values.append(v["msgs_per_s"])
            elif "ms_per_msg" in v:
                cells.append(f"{v['ms_per_msg']:.2f} ms")
                values.append(1 / v["ms_per_msg"])
            else:
                cells.append(f"{v['seconds']:.2f} s wall, {v['cpu_s']:.2f} s CPU")
                values.append(1 / v["seconds"])
        if len(names) > 1:
            cells.append(f"{values[0] / values[1]:.2f}x as fast")
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    extra = [f"spamsift train (CLI, whole job, {names[0]}): "
             f"{summary['spamsift train (CLI, whole job)']['seconds']:.1f} s"]
    if bogo_rate:
        extra.append(f"bogofilter bulk (`-b`, one process): {bogo_rate:.0f} msgs/s")
    return (f"{n} messages of `{args.split}`'s test part, {cores} cores, medians of "
            f"{args.repeats} rounds (each tree once a round, interleaved; `classify` "
            f"{max(1, args.startup_runs // args.repeats) * args.repeats} runs).\n\n"
            + "\n".join(lines) + "\n\n" + "; ".join(extra) + ".\n")


if __name__ == "__main__":
    main()
