"""Scale benchmark: `spamsift score`'s peak memory as the input grows; msgs/s on Dask.

    python benchmarks/scale.py [--corpus DIR] [--sizes 10000 100000 1000000]
                               [--dask-size 10000] [--workers 1 2]

For each size it writes, in a temporary folder, an mbox of that many messages: the
corpus replicated with small random edits (seeded: a header with the copy number,
a word taken out and one put in, per copy), so no two messages are the same bytes.
It then runs the README's form ``spamsift score --input ARCHIVE --out SCORES.csv``
(bundled model, every core) and samples, every 0.2 s, the resident memory of the
command and all its child processes (psutil), keeping the peak of their sum; the
largest single process's peak beside it.

Then it starts a Dask scheduler and ``dask worker`` processes on loopback (one
thread each), and times ``spamsift score --input ARCHIVE --dask ADDRESS`` on
``--dask-size`` messages with each count of ``--workers``, beside the local run.
The archive is deleted after each size; nothing from the corpus is kept.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402

SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]
DASK = str(Path(sys.executable).parent / "dask")
_WORD = re.compile(rb"[A-Za-z]{4,}")
_FROM = re.compile(rb"^(>*From )", re.M)
_FILLER = [w.encode() for w in ("account", "meeting", "offer", "update", "invoice", "free",
                                "project", "weekend", "report", "click", "review", "money")]


def corpus_messages(corpus: Path) -> list[bytes]:
    with open(corpus / "index.csv", newline="") as fh:
        return [(corpus / r["path"]).read_bytes() for r in csv.DictReader(fh)]


def edited(data: bytes, copy: int, rng: random.Random) -> bytes:
    """The message with a copy header, one body word removed and one filler word added."""
    head, sep, body = data.partition(b"\n\n")
    words = list(_WORD.finditer(body))
    if words:
        w = words[rng.randrange(len(words))]
        body = body[:w.start()] + rng.choice(_FILLER) + body[w.end():]
    return b"X-Scale-Copy: %d\n" % copy + head + sep + body


def write_archive(path: Path, base: list[bytes], n: int, seed: int = 0) -> int:
    """An mboxrd of ``n`` edited copies of ``base``; returns its size in bytes."""
    rng = random.Random(seed)
    with open(path, "wb", buffering=1 << 20) as fh:
        for i in range(n):
            data = edited(base[i % len(base)], i // len(base), rng)
            fh.write(b"From bench@example.org Mon Jan  1 00:00:00 2024\n")
            fh.write(_FROM.sub(rb">\1", data.replace(b"\r\n", b"\n")).rstrip(b"\n"))
            fh.write(b"\n\n")
    return path.stat().st_size


def run_measured(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd``; its wall time, the peak RSS (MB) of it and its children together, and
    the peak of the largest one."""
    peak = largest = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, largest
        p = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                rss = [p.memory_info().rss] + [c.memory_info().rss
                                               for c in p.children(recursive=True)]
                peak, largest = max(peak, sum(rss)), max(largest, max(rss))
            except psutil.Error:
                pass
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    th.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr.decode()}")
    return {"seconds": seconds, "peak_rss_mb": peak / 2**20, "largest_process_mb": largest / 2**20}


def lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh) - 1


class DaskCluster:
    """``dask scheduler`` and ``dask worker`` processes on loopback, stopped on exit."""

    def __init__(self, work: Path, n_workers: int):
        self.file = work / f"scheduler-{n_workers}.json"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.n_workers = n_workers

    def __enter__(self) -> str:
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs.append(subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1",
                                            "--port", "0", "--no-dashboard",
                                            "--scheduler-file", str(self.file)], **quiet))
        for _ in range(300):
            if self.file.exists() and self.file.stat().st_size:
                break
            time.sleep(0.1)
        self.procs.append(subprocess.Popen([DASK, "worker", "--scheduler-file", str(self.file),
                                            "--nworkers", str(self.n_workers), "--nthreads",
                                            "1", "--no-dashboard", "--memory-limit", "0",
                                            "--local-directory", str(self.file.parent)],
                                           **quiet))
        from distributed import Client

        address = json.loads(self.file.read_text())["address"]
        with Client(address, timeout=30) as c:
            c.wait_for_workers(self.n_workers, timeout=60)
        return address

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--dask-size", type=int, default=10_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--tmp", type=Path, default=None, help="Folder for the archives.")
    args = ap.parse_args()
    base = corpus_messages(args.corpus.resolve())
    memory: list[dict[str, float]] = []
    speed: list[dict[str, float | str]] = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        work = Path(tmp)
        out = work / "scores.csv"
        if args.dask_size:
            archive = work / "dask.mbox"
            write_archive(archive, base, args.dask_size, seed=1)
            score = [*SPAMSIFT, "score", "--input", str(archive), "--out", str(out)]
            for label, extra in (("local, 1 process (--n-jobs 1)", ["--n-jobs", "1"]),
                                 ("local, every core (--n-jobs -1)", [])):
                r = run_measured([*score, *extra])
                speed.append({"what": label, **r, "msgs_per_s": args.dask_size / r["seconds"]})
                print(speed[-1], flush=True)
            for n in args.workers:
                with DaskCluster(work, n) as address:
                    r = run_measured([*score, "--dask", address])
                assert lines(out) == args.dask_size
                speed.append({"what": f"--dask, {n} worker{'s' if n > 1 else ''} x 1 thread",
                              **r, "msgs_per_s": args.dask_size / r["seconds"]})
                print(speed[-1], flush=True)
            archive.unlink()
        for n in args.sizes:
            archive = work / f"archive-{n}.mbox"
            t0 = time.perf_counter()
            size = write_archive(archive, base, n)
            gen_s = time.perf_counter() - t0
            r = run_measured([*SPAMSIFT, "score", "--input", str(archive), "--out", str(out)])
            assert lines(out) == n, f"scored {lines(out)} of {n}"
            memory.append({"messages": n, "archive_mb": size / 2**20, "generate_s": gen_s,
                           **r, "msgs_per_s": n / r["seconds"]})
            print(memory[-1], flush=True)
            archive.unlink()
    cores = os.cpu_count()
    md = [f"`spamsift score --input ARCHIVE.mbox --out SCORES.csv`, bundled model, {cores} "
          "cores (shared with other work), archives of the corpus replicated with small "
          "seeded edits. Peak RSS sampled every 0.2 s (psutil): the command and its worker "
          "processes together, and the largest of them alone.", "",
          "| messages | archive MB | seconds | msgs/s | peak RSS MB (all processes) "
          "| largest process MB |", "|---|---|---|---|---|---|"]
    for m in memory:
        md.append(f"| {m['messages']:,} | {m['archive_mb']:.0f} | {m['seconds']:.0f} | "
                  f"{m['msgs_per_s']:.0f} | {m['peak_rss_mb']:.0f} | "
                  f"{m['largest_process_mb']:.0f} |")
    if speed:
        md += ["", f"Throughput on {args.dask_size:,} messages, the same command, locally and "
               "with `--dask` (scheduler and workers on this machine, loopback):", "",
               "| how | seconds | msgs/s | peak RSS MB (client) |", "|---|---|---|---|"]
        for s in speed:
            md.append(f"| {s['what']} | {s['seconds']:.1f} | {s['msgs_per_s']:.0f} | "
                      f"{s['peak_rss_mb']:.0f} |")
    text = "\n".join(md) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps({"memory": memory, "speed": speed},
                                                   indent=2))
    (RESULTS / "scale.md").write_text(text)
    replace_block("scale", text)
    print(text)


if __name__ == "__main__":
    main()
