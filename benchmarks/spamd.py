"""spamd throughput: 10 concurrent spamc clients against `spamsift spamd` and SpamAssassin's spamd.

    python benchmarks/spamd.py [--corpus DIR] [--split temporal_split] [--n 600] [--clients 10]
                               [--repeats 3]

The same messages (a seeded sample of the split's test rows, read in place from
the corpus) go through Debian's ``spamc`` in its default mode (``PROCESS``: the
message comes back with headers added, as ``spamc | sendmail`` uses it), from
``--clients`` threads each running one spamc process per message. Daemons:

- ``spamsift spamd`` on a fresh data folder (the bundled model; one process,
  scoring waiting messages in batches in a thread pool);
- SpamAssassin's ``spamd`` (Debian's ``spamassassin``) with its stock rules, local
  tests only (``-L``: no DNS blocklists, Razor, Pyzor or DCC), no Bayes database,
  ``--max-children 2``, in a private site-config and home folder; as root it scans
  as ``nobody``, the way ``../shared/tools/peers`` runs it.

Each daemon gets one message first (SpamAssassin's children compile their rules on
the first scan); then the whole sample ``--repeats`` times, and the pass with the
median time is reported. Every answer must carry an ``X-Spam-Status`` header, or the
run fails. Results: ``benchmarks/results/spamd.{json,md}`` and the README's ``spamd``
block.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402

SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]
MAX_SIZE = 10 * 1024 * 1024  # spamc -s: no message of the corpus is skipped by the client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spamc(port: int, path: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        r = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(port), "-x", "-s",
                            str(MAX_SIZE), "-t", "600"], stdin=fh, capture_output=True,
                           check=False)
    if r.returncode != 0 or b"X-Spam-Status:" not in r.stdout:
        raise RuntimeError(f"spamc rc={r.returncode} on {Path(path).name}: {r.stderr[-300:]!r}")
    return time.perf_counter() - t0, r.stdout


def wait_ready(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(port), "-K"],
                         capture_output=True, check=False).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"daemon did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def tree_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) summed over ``pid`` and its descendants."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def timed_passes(send: Callable[[Any], tuple[float, Any]], items: list[Any], clients: int,
                 repeats: int) -> dict:
    """``repeats`` passes of ``send`` over ``items`` from ``clients`` threads; the pass
    with the median time is reported: its answers, wall time and latency quantiles."""
    passes = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(send, items))
        passes.append((time.perf_counter() - t0, answers))
    passes.sort(key=lambda x: x[0])
    wall, answers = passes[len(passes) // 2]
    lat = sorted(a[0] for a in answers)
    return {"answers": [a[1] for a in answers], "messages": len(items), "clients": clients,
            "repeats": repeats, "seconds": round(wall, 2),
            "msgs_per_s": round(len(items) / wall, 1),
            "all_msgs_per_s": [round(len(items) / w, 1) for w, _ in passes],
            "latency_ms_p50": round(1000 * statistics.median(lat), 1),
            "latency_ms_p95": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1),
            "latency_ms_max": round(1000 * lat[-1], 1)}


def drive(name: str, port: int, pid: int, paths: list[str], clients: int,
          repeats: int) -> dict:
    """``repeats`` timed passes over ``paths``; the pass with the median time is reported."""
    spamc(port, paths[0])  # warm-up, not timed
    r = timed_passes(lambda p: spamc(port, p), paths, clients, repeats)
    flagged = sum(b"X-Spam-Status: Yes" in a for a in r.pop("answers"))
    return {"daemon": name, **r, "flagged_spam": flagged, "peak_rss_mb": round(tree_rss_mb(pid), 1)}


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # our own child, by its PID
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def run_spamsift(work: Path, paths: list[str], clients: int, repeats: int) -> dict:
    port = free_port()
    log = work / "spamsift-spamd.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(SPAMSIFT + ["spamd", "--host", "127.0.0.1", "--port", str(port),
                                            "--data-dir", str(work / "data"),
                                            "--log-level", "warning"],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_ready(port, proc, log)
            return drive("spamsift spamd", port, proc.pid, paths, clients, repeats)
        finally:
            stop(proc)


def _stock_rules() -> str:
    found = sorted(glob.glob("/var/lib/spamassassin/*/updates_spamassassin_org"))
    return found[-1] if found else "/usr/share/spamassassin"


def run_spamassassin(work: Path, paths: list[str], clients: int, repeats: int) -> dict:
    base = work / "sa"
    site, home, run = base / "site", base / "home", base / "run"
    for d in (site, home, run):
        d.mkdir(parents=True)
    for f in glob.glob("/etc/spamassassin/*.pre") + glob.glob("/etc/spamassassin/*.cf"):
        if Path(f).name != "local.cf":
            shutil.copy(f, site)
    (site / "local.cf").write_text("use_bayes 0\nbayes_auto_learn 0\nreport_safe 0\n"
                                   "skip_rbl_checks 1\ndns_available no\n")
    os.chmod(work, 0o711)  # spamd scans as nobody when started as root: let it in
    for root, _, files in os.walk(base):
        os.chmod(root, 0o777)
        for f in files:
            os.chmod(os.path.join(root, f), 0o666)
    port = free_port()
    log = work / "spamassassin-spamd.log"
    args = ["spamd", "-L", "-x", "--listen", f"127.0.0.1:{port}", "--siteconfigpath", str(site),
            "-C", _stock_rules(), "-H", str(home), "--max-children", "2", "--min-children", "2",
            "--min-spare", "1", "--max-spare", "2", "--max-conn-per-child", "1000000",
            "--syslog", "stderr", "-r", str(run / "spamd.pid")]
    if os.geteuid() == 0:
        args += ["-u", "nobody"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "HOME": str(home)}, start_new_session=True)
        try:
            wait_ready(port, proc, log)
            result = drive("SpamAssassin spamd", port, proc.pid, paths, clients, repeats)
        finally:
            stop(proc)
    version = subprocess.run(["spamd", "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()
    result["version"] = version[0] if version else "?"
    result["setup"] = ("stock rules, -L (local tests only), no Bayes, --max-children 2")
    return result


def sample(corpus: Path, split: str, n: int, seed: int = 0) -> list[str]:
    rows = [r for r in csv.DictReader(open(corpus / "index.csv")) if r[split] == "test"]
    rng = random.Random(seed)
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    picked = []
    for label in sorted(by_label):  # half spam, half ham, in a fixed shuffled order
        picked += rng.sample(by_label[label], min(n // 2, len(by_label[label])))
    rng.shuffle(picked)
    return [str(corpus / r["path"]) for r in picked]


def table(results: list[dict], n: int, split: str, clients: int, repeats: int) -> str:
    lines = [f"{n} messages of `{split}`'s test part (half spam, half ham), {clients} concurrent "
             f"`spamc` clients (one process per message, `PROCESS`), {os.cpu_count()} cores, "
             f"the median of {repeats} passes.",
             "",
             "| daemon | msgs/s | seconds | latency p50 ms | p95 ms | max ms | flagged spam "
             "| peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['daemon']} | {r['msgs_per_s']:.1f} | {r['seconds']:.1f} | "
                     f"{r['latency_ms_p50']:.0f} | {r['latency_ms_p95']:.0f} | "
                     f"{r['latency_ms_max']:.0f} | {r['flagged_spam']} | {r['peak_rss_mb']:.0f} |")
    sa = next((r for r in results if r["daemon"].startswith("SpamAssassin")), None)
    ours = next(r for r in results if r["daemon"] == "spamsift spamd")
    if sa is not None:
        lines += ["", f"spamsift spamd: {ours['msgs_per_s'] / sa['msgs_per_s']:.1f}x "
                  f"SpamAssassin's throughput. SpamAssassin: {sa['version']}, {sa['setup']}; "
                  "spamsift: the bundled model, one process. Peak RSS sums the daemon's "
                  "processes. \"Flagged spam\" counts `X-Spam-Status: Yes` answers; it shows "
                  "both daemons scanned, not which is more accurate (see the quality tables)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", default="temporal_split")
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-spamassassin", action="store_true",
                    help="Only spamsift spamd (where SpamAssassin is not installed).")
    args = ap.parse_args()
    if shutil.which("spamc") is None:
        sys.exit("spamc is not installed (Debian package 'spamc')")
    corpus = args.corpus.resolve()
    paths = sample(corpus, args.split, args.n)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results.append(run_spamsift(work, paths, args.clients, args.repeats))
        print(results[-1], flush=True)
        if not args.no_spamassassin:
            if shutil.which("spamd") is None:
                sys.exit("spamd is not installed (Debian package 'spamassassin'); "
                         "or pass --no-spamassassin")
            results.append(run_spamassassin(work, paths, args.clients, args.repeats))
            print(results[-1], flush=True)
    md = table(results, len(paths), args.split, args.clients, args.repeats)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "spamd.json").write_text(json.dumps(
        {"split": args.split, "messages": len(paths), "clients": args.clients,
         "cores": os.cpu_count(), "results": results}, indent=2))
    (RESULTS / "spamd.md").write_text(md)
    replace_block("spamd", md)
    print(md)


if __name__ == "__main__":
    main()
