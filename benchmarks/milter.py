"""Milter throughput: `spamsift milter` under 1 and 10 concurrent MTA connections.

    python benchmarks/milter.py [--corpus DIR] [--split temporal_split] [--n 600]
                                [--clients 1,10] [--repeats 3]

The same messages as ``benchmarks/spamd.py`` (a seeded half-spam, half-ham sample of
the split's test rows, read in place) go to ``spamsift milter`` on a fresh data
folder (the bundled model) through the MTA side of the milter protocol that the
tests use (``tests/serving/milter/mta.py``: Postfix's offer at negotiation, then
what the milter asked for), one connection per message as Postfix opens one per
SMTP session. ``--clients`` threads send at once. Each answer must carry an
``X-Spam-Status`` header. The pass with the median time is reported.
Results: ``benchmarks/results/milter.{json,md}`` and the README's ``milter`` block.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402
from spamd import SPAMSIFT, free_port, sample, stop, timed_passes, tree_rss_mb  # noqa: E402
from tests.serving.milter.mta import MTA  # noqa: E402


def one(port: int, raw: bytes) -> tuple[float, bool]:
    t0 = time.perf_counter()
    with MTA("127.0.0.1", port, timeout=600) as mta:
        mta.negotiate()
        out = mta.message(raw)
    if out.final != b"a" or "X-Spam-Status" not in out.headers:
        raise RuntimeError(f"unexpected answer {out.final!r}: {out.added[:2]}")
    return time.perf_counter() - t0, out.headers["X-Spam-Flag"] == "YES"


def wait_ready(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            one(port, b"Subject: ready?\n\nyes\n")
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"milter did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


def drive(port: int, pid: int, raws: list[bytes], clients: int, repeats: int) -> dict:
    r = timed_passes(lambda raw: one(port, raw), raws, clients, repeats)
    flagged = sum(r.pop("answers"))
    return {**r, "flagged_spam": flagged, "peak_rss_mb": round(tree_rss_mb(pid), 1)}


def table(results: list[dict], split: str, repeats: int) -> str:
    n = results[0]["messages"]
    lines = [f"{n} messages of `{split}`'s test part (half spam, half ham), one milter "
             f"connection per message, {os.cpu_count()} cores shared by the milter and the "
             f"MTA side, the median of {repeats} passes; the bundled model, one process.",
             "",
             "| concurrent MTA connections | msgs/s | latency p50 ms | p95 ms | max ms "
             "| flagged spam | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['clients']} | {r['msgs_per_s']:.1f} | {r['latency_ms_p50']:.0f} | "
                     f"{r['latency_ms_p95']:.0f} | {r['latency_ms_max']:.0f} | "
                     f"{r['flagged_spam']} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", default="temporal_split")
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--clients", default="1,10")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    raws = [Path(p).read_bytes() for p in sample(args.corpus.resolve(), args.split, args.n)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work, port = Path(tmp), free_port()
        log = work / "milter.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
        with open(log, "wb") as out:
            proc = subprocess.Popen(SPAMSIFT + ["milter", "--host", "127.0.0.1", "--port",
                                                str(port), "--data-dir", str(work / "data"),
                                                "--log-level", "warning"],
                                    stdout=out, stderr=subprocess.STDOUT, env=env)
            try:
                wait_ready(port, proc, log)
                for clients in (int(c) for c in args.clients.split(",")):
                    results.append(drive(port, proc.pid, raws, clients, args.repeats))
                    print(results[-1], flush=True)
            finally:
                stop(proc)
    md = table(results, args.split, args.repeats)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "milter.json").write_text(json.dumps(
        {"split": args.split, "cores": os.cpu_count(), "results": results}, indent=2))
    (RESULTS / "milter.md").write_text(md)
    replace_block("milter", md)
    print(md)


if __name__ == "__main__":
    main()
