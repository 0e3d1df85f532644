"""Hostile input: per class of message, the time to answer and the memory it costs.

Two doors:

- ``spamsift classify --json FILE`` (a fresh process per message): wall time and the
  peak RSS of the process, beside the same for an ordinary message (start-up);
- one ``spamsift serve`` (``make run``'s defaults): each hostile message sent while a
  second client keeps sending ordinary mail, one at a time. Per class: the hostile
  message's answer time, the slowest ordinary answer meanwhile, and the server's
  peak RSS (the server and its parse workers) above where it started. After the
  burst: the server's RSS against where it started.

The messages are generated here, each class at its worst within the 10 MiB message
cap. Run: ``python benchmarks/hostile.py`` (about 2 minutes); ``--corpus-stats``
prints the HTML figures of the corpus messages that the pre-scan's bounds are set
against (spamsift.parse.html_bounds).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402

SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]
HOST = "127.0.0.1"
HEAD = (b"From: offers@example.com\r\nTo: you@example.org\r\nSubject: this week\r\n"
        b"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n")
ORDINARY = (b"From: ann@example.org\r\nTo: bob@example.net\r\nSubject: lunch\r\n"
            b"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nNoon at the usual place? Ann\r\n")
CAP = 10 * 1024 * 1024 - 4096  # under the default message cap, headers included


def _html(body: str) -> bytes:
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body.encode()


def _fill(unit: str, head: str = "", tail: str = "") -> str:
    return head + unit * ((CAP - len(head) - len(tail)) // len(unit.encode())) + tail


def _reconstruct() -> bytes:
    opened = "".join(f"<font class=c{i}>" for i in range(20_000))
    return _html(_fill("<div>x</div>", "<div>" + opened + "</div>"))


def _marks() -> bytes:
    run = "a" + "\u0301\u0316" * 50_000 + "\ufdd0\uffff\U0001fffe"
    return HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + _fill(run).encode()


def _headers() -> bytes:
    fields = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(600_000))
    return HEAD + fields[:CAP] + b"\r\nbody\r\n"


def _parts() -> bytes:
    part = b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return (HEAD + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
            + part * (CAP // len(part)) + b"--B--\r\n")


CLASSES: dict[str, Callable[[], bytes]] = {
    "HTML nested 2,000,000 deep": lambda: _html(_fill("<div>")),
    "open formatting elements reconstructed": _reconstruct,
    "unclosed `<b><i><u><font>` repeated": lambda: _html(_fill("<b><i><u><font>x<p>")),
    "combining-mark floods with non-characters": _marks,
    "600,000 header fields": _headers,
    "250,000 MIME parts": _parts,
    "a 10 MB attribute": lambda: _html("<a href='" + "x" * CAP + "'>y</a>"),
}


def _tree_rss(pid: int) -> int:
    try:
        p = psutil.Process(pid)
        return p.memory_info().rss + sum(c.memory_info().rss
                                         for c in p.children(recursive=True))
    except psutil.Error:
        return 0


class PeakRss:
    """The peak RSS of a process and its children, sampled every 20 ms while open."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            self._done.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss(self.pid))


def classify_cli(path: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(SPAMSIFT + ["classify", "--json", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with PeakRss(proc.pid) as rss:
        out, err = proc.communicate(timeout=600)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"classify {path} failed: {err.decode()[-2000:]}")
    answer = json.loads(out)
    return {"seconds": seconds, "peak_mb": rss.peak / 2**20, "verdict": answer["verdict"],
            "flags": [f for f in answer["flags"] if f.startswith(("truncated", "parser"))]}


def post(port: int, body: bytes) -> tuple[float, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/classify", body, {"Content-Type": "message/rfc822"})
    resp = conn.getresponse()
    data = resp.read()
    seconds = time.perf_counter() - t0
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"classify answered {resp.status}: {data[:500]!r}")
    return seconds, json.loads(data)


def wait_ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("spamsift serve exited before it was ready")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("spamsift serve not ready after 60 s")


def through_serve(messages: dict[str, bytes], tmp: Path) -> tuple[dict, dict]:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    log = open(tmp / "serve.log", "wb")
    proc = subprocess.Popen(SPAMSIFT + ["serve", "--host", HOST, "--port", str(port),
                                        "--data-dir", str(tmp / "data")],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    rows: dict[str, dict] = {}
    try:
        wait_ready(port, proc)
        for _ in range(200):  # warm: imports, first batches, allocator pools
            post(port, ORDINARY)
        start_mb = _tree_rss(proc.pid) / 2**20
        for name, raw in messages.items():
            stop, ordinary = threading.Event(), []

            def other_client(stop: threading.Event, ordinary: list[float]) -> None:
                while not stop.is_set():
                    ordinary.append(post(port, ORDINARY)[0])

            other = threading.Thread(target=other_client, args=(stop, ordinary))
            with PeakRss(proc.pid) as rss:
                other.start()
                time.sleep(0.2)
                seconds, answer = post(port, raw)
                time.sleep(0.2)
                stop.set()
                other.join()
            rows[name] = {
                "seconds": seconds, "peak_growth_mb": rss.peak / 2**20 - start_mb,
                "ordinary_max_ms": 1000 * max(ordinary),
                "ordinary_median_ms": 1000 * statistics.median(ordinary),
                "ordinary_answers": len(ordinary),
                "flags": [f for f in answer["flags"] if f.startswith(("truncated", "parser"))]}
            print(f"serve  {name}: {seconds:.2f} s, +{rows[name]['peak_growth_mb']:.0f} MB peak, "
                  f"other client max {rows[name]['ordinary_max_ms']:.0f} ms", flush=True)
        time.sleep(1.0)
        end = {"start_mb": start_mb, "after_mb": _tree_rss(proc.pid) / 2**20,
               "after_main_mb": psutil.Process(proc.pid).memory_info().rss / 2**20}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    return rows, end


def corpus_stats(corpus: Path) -> None:
    """The largest pre-scan figures of any HTML part of the corpus."""
    from spamsift.parse import html_bounds
    from spamsift.parse.mime import parse_message

    worst: dict[str, tuple[int, str]] = {}
    seen: list[str] = []
    scan = html_bounds.scan_figures
    original = html_bounds.bound_html

    def record(html: str) -> tuple[str, set[str]]:
        for k, v in scan(html).items():
            if v > worst.get(k, (-1, ""))[0]:
                worst[k] = (v, seen[-1])
        return original(html)

    import spamsift.parse.html as html_mod
    html_mod.bound_html = record
    with open(corpus / "index.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            seen.append(row["path"])
            parse_message((corpus / row["path"]).read_bytes())
    for k, (v, path) in sorted(worst.items()):
        print(f"{k}: {v} ({path})")


def markdown(cli: dict, base: dict, serve: dict, end: dict) -> str:
    lines = [
        f"Each class at its worst within the 10 MiB message cap, generated by "
        f"`benchmarks/hostile.py`; {platform.machine()}, 2 cores shared with other work. "
        f"`classify`: a fresh `spamsift classify --json FILE` per message (an ordinary "
        f"message: {base['seconds']:.2f} s, {base['peak_mb']:.0f} MB, nearly all start-up). "
        f"`serve`: one `spamsift serve` as `make run` starts it, each hostile message sent "
        f"while another client sends ordinary mail one at a time; peak RSS of the server "
        f"and its parse workers above where it started ({end['start_mb']:.0f} MB).",
        "",
        "| class | MB | classify s | classify peak MB | serve s | serve peak growth MB "
        "| other client's slowest answer ms | flags |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in cli.items():
        s = serve[name]
        lines.append(f"| {name} | {c['mb']:.1f} | {c['seconds']:.2f} | {c['peak_mb']:.0f} | "
                     f"{s['seconds']:.2f} | {s['peak_growth_mb']:.0f} | "
                     f"{s['ordinary_max_ms']:.0f} | {', '.join(s['flags'])} |")
    lines += ["", f"After the burst the server held {end['after_mb']:.0f} MB with its parse "
              f"workers ({end['after_main_mb']:.0f} MB the server alone), against "
              f"{end['start_mb']:.0f} MB before it."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--corpus-stats", action="store_true")
    args = ap.parse_args()
    if args.corpus_stats:
        corpus_stats(args.corpus)
        return
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        messages = {name: make() for name, make in CLASSES.items()}
        (tmp / "ordinary.eml").write_bytes(ORDINARY)
        base = classify_cli(tmp / "ordinary.eml")
        cli = {}
        for i, (name, raw) in enumerate(messages.items()):
            path = tmp / f"hostile-{i}.eml"
            path.write_bytes(raw)
            cli[name] = {**classify_cli(path), "mb": len(raw) / 2**20}
            print(f"classify {name}: {cli[name]['seconds']:.2f} s, "
                  f"{cli[name]['peak_mb']:.0f} MB, {cli[name]['flags']}", flush=True)
        serve, end = through_serve(messages, tmp)
    result = {"classify": cli, "classify_ordinary": base, "serve": serve, "serve_rss": end}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hostile.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(cli, base, serve, end)
    (RESULTS / "hostile.md").write_text(table + "\n")
    replace_block("hostile", table)
    print(table)


if __name__ == "__main__":
    main()
