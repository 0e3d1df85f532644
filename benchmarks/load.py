"""Load benchmark: `spamsift serve` on loopback, closed-loop clients, throughput and latency.

    python benchmarks/load.py [--corpus DIR] [--split temporal_split] [--seconds 20]
                              [--clients 1,10,100] [--workers default,1]
                              [--baseline REV --rounds 3]

For each server worker count (``default``: no ``--workers``, what ``make run`` starts)
a real ``spamsift serve`` is started on 127.0.0.1 (a free
port, a fresh temporary data folder, so the bundled model and a new SQLite feedback
store: every classification is recorded, as in production). Once ``/readyz`` answers,
for each client count a load generator in a separate process (asyncio over raw
keep-alive HTTP/1.1 connections, one per client, so it does not share the server's
GIL and costs little CPU) posts the split's test messages, cycling through them, as
``POST /v1/classify`` with ``Content-Type: message/rfc822``. Each client sends its
next message as soon as the previous answer arrives (closed loop). A warm-up is
discarded; then requests answered within ``--seconds`` count. Any answer other than
200, or a connection error or timeout, is an error.

The rate limit is turned off for the run (``SPAMSIFT_RATE_LIMIT_PER_MINUTE=0``: every
client shares the loopback address's bucket) and uvicorn logs at ``warning`` (no
access log line per request); everything else is the defaults.

Where the time goes: the server's CPU time per request (its processes' user+system
time over the run, from /proc) set beside the same messages classified in-process
(``SpamModel.classify``, one message a call, as the route does) and recorded in a
SQLite feedback store; the rest is HTTP, the framework and the event loop.

``--baseline REV`` serves the source tree of a git revision too (exported as
``benchmarks/speed.py`` does), in ``--rounds`` rounds that alternate which tree goes
first, so both see the same load on a shared machine; the table gives each row's
median over the rounds (errors summed).

Results go to benchmarks/results/load.{json,md} and the README's load block. Loopback
only; every run is bounded in time and request count.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, ROOT, describe, export, replace_block  # noqa: E402,I001

HOST = "127.0.0.1"
SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]
GOAL = {"clients": 10, "msgs_per_s": 1000.0, "p99_ms": 20.0}


# -- the load generator (runs in its own process: `load.py _client ...`) ---------------

async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response: status, body, whether the server will close."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip().lower()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body = await reader.read()
    return status, body, headers.get("connection") == "close"


async def _load(ports: list[int], bodies: list[bytes], clients: int, warmup: float,
                seconds: float, max_requests: int, timeout: float) -> dict:
    start = time.perf_counter()
    t_measure = start + warmup
    t_end = t_measure + seconds
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0
    done_total = 0
    head = (f"POST /v1/classify HTTP/1.1\r\nHost: {HOST}\r\n"
            "Content-Type: message/rfc822\r\nContent-Length: %d\r\n\r\n")

    async def client(i: int) -> None:
        nonlocal sent, done_total
        port = ports[i % len(ports)]  # several servers: clients dealt out round-robin
        conn = None
        while True:
            now = time.perf_counter()
            if now >= t_end or sent >= max_requests:
                break
            body = bodies[sent % len(bodies)]
            sent += 1
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
                reader, writer = conn
                t0 = time.perf_counter()
                writer.write((head % len(body)).encode() + body)
                status, answer, closing = await asyncio.wait_for(_read_response(reader),
                                                                 timeout)
                t1 = time.perf_counter()
                if closing:
                    writer.close()
                    conn = None
                problem = (None if status == 200 and b'"verdict"' in answer
                           else f"http {status}")
            except (OSError, TimeoutError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ValueError) as exc:
                t1 = time.perf_counter()
                t0 = t1
                problem = type(exc).__name__
                if conn is not None:
                    conn[1].close()
                conn = None
                await asyncio.sleep(0.05)  # no busy loop against a server that is gone
            done_total += 1
            if t_measure <= t1 < t_end:
                if problem is None:
                    latencies.append(t1 - t0)
                else:
                    errors[problem] = errors.get(problem, 0) + 1
        if conn is not None:
            conn[1].close()

    cpu0 = time.process_time()
    await asyncio.gather(*(client(i) for i in range(clients)))
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - start
    t = os.times()
    return {"latencies": latencies, "errors": errors, "requests_total": done_total,
            "client_cpu_s": cpu, "client_wall_s": wall,
            "client_process_cpu_s": t.user + t.system}


def client_main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="load.py _client")
    ap.add_argument("--port", required=True, help="a port, or several joined by commas")
    ap.add_argument("--paths", type=Path, required=True, help="file of message paths")
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--warmup", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--max-requests", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    a = ap.parse_args(argv)
    bodies = [Path(p).read_bytes() for p in a.paths.read_text().splitlines() if p]
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    ports = [int(p) for p in a.port.split(",")]
    out = asyncio.run(_load(ports, bodies, a.clients, a.warmup, a.seconds, a.max_requests,
                            a.timeout))
    json.dump(out, sys.stdout)


# -- the coordinator ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(proc: subprocess.Popen, port: int, deadline_s: float = 120.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < deadline_s:
        if proc.poll() is not None:
            raise SystemExit(f"spamsift serve exited with {proc.returncode} before ready")
        try:
            if http_get(port, "/readyz")[0] == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"spamsift serve not ready after {deadline_s:.0f} s")


def wait_idle(pid: int, quiet_s: float = 1.0, deadline_s: float = 60.0) -> None:
    """Until the server's processes have used (almost) no CPU for ``quiet_s``."""
    t0 = time.perf_counter()
    last = tree_cpu_seconds(pid)
    while last is not None and time.perf_counter() - t0 < deadline_s:
        time.sleep(quiet_s)
        now = tree_cpu_seconds(pid)
        if now is None or now - last < 0.05 * quiet_s:
            return
        last = now


def tree_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds of ``pid`` and each descendant (Linux /proc); {} if unknown."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    todo = [pid]
    try:
        while todo:
            p = todo.pop()
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            out[p] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(k) for k in (task / "children").read_text().split())
    except (OSError, ValueError, IndexError):
        return {}
    return out


def tree_cpu_seconds(pid: int) -> float | None:
    cpu = tree_cpu(pid)
    return sum(cpu.values()) if cpu else None


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def in_process_costs(paths: list[str], n: int) -> dict:
    """Milliseconds per message of classify alone and of recording it, in this process."""
    from spamsift.config import Settings
    from spamsift.datadir import open_stores
    from spamsift.models.bundled import bundled_model_path
    from spamsift.models.persistence import load_model

    settings = Settings()
    model = load_model(bundled_model_path())
    step = max(1, len(paths) // n)  # spread over the split, as the clients cycle it
    datas = [Path(p).read_bytes() for p in paths[::step][:n]]
    for d in datas[:20]:
        model.classify([d], top=settings.top_clues)  # warm-up
    verdicts = []
    t0 = time.perf_counter()
    for d in datas:
        verdicts.extend(model.classify([d], top=settings.top_clues))
    classify_ms = (time.perf_counter() - t0) / len(datas) * 1e3
    t0 = time.perf_counter()
    for d in datas:
        model.classify([d], top=0)
    no_clues_ms = (time.perf_counter() - t0) / len(datas) * 1e3
    t0 = time.perf_counter()
    for i in range(0, len(datas), 10):  # as the server batches under load
        model.classify(datas[i:i + 10], top=settings.top_clues)
    batch10_ms = (time.perf_counter() - t0) / len(datas) * 1e3
    with tempfile.TemporaryDirectory() as tmp:
        _, store = open_stores(Path(tmp), settings)
        try:
            t0 = time.perf_counter()
            for d, v in zip(datas, verdicts, strict=True):
                store.record_classification(d, v.score, v.verdict, "bench")
            record_new_ms = (time.perf_counter() - t0) / len(datas) * 1e3
            t0 = time.perf_counter()
            for d, v in zip(datas, verdicts, strict=True):  # messages already stored
                store.record_classification(d, v.score, v.verdict, "bench")
            record_seen_ms = (time.perf_counter() - t0) / len(datas) * 1e3
            t0 = time.perf_counter()
            for i in range(0, len(datas), 64):  # as the server's history writer does
                store.record_classifications([
                    store.new_classification(d, v.score, v.verdict, "bench", clues=v.clues,
                                             flags=v.flags)
                    for d, v in zip(datas[i:i + 64], verdicts[i:i + 64], strict=True)])
            record_batch_ms = (time.perf_counter() - t0) / len(datas) * 1e3
        finally:
            store.db.close()
    return {"messages": len(datas), "classify_ms": classify_ms,
            "classify_no_clues_ms": no_clues_ms, "classify_batch10_ms": batch10_ms,
            "record_new_ms": record_new_ms,
            "record_seen_ms": record_seen_ms, "record_batch64_seen_ms": record_batch_ms}


def run_clients(port: int | list[int], paths_file: Path, clients: int,
                args: argparse.Namespace, server_pid: int) -> dict:
    """Run the load generator against ``port`` (several: clients spread round-robin)."""
    ports = ",".join(str(p) for p in (port if isinstance(port, list) else [port]))
    cpu0, busy0 = tree_cpu(server_pid), machine_busy_seconds()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_client", "--port", ports,
         "--paths", str(paths_file), "--clients", str(clients), "--warmup", str(args.warmup),
         "--seconds", str(args.seconds), "--max-requests", str(args.max_requests)],
        check=True, capture_output=True, text=True,
        timeout=args.warmup + args.seconds + 120)
    cpu1, busy1 = tree_cpu(server_pid), machine_busy_seconds()
    raw = json.loads(proc.stdout)
    lat = sorted(raw["latencies"])
    n_err = sum(raw["errors"].values())
    window = args.seconds
    out = {
        "clients": clients,
        "ok": len(lat),
        "errors": n_err,
        "error_kinds": raw["errors"],
        "msgs_per_s": len(lat) / window,
        "p50_ms": percentile(lat, 50) * 1e3,
        "p90_ms": percentile(lat, 90) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "max_ms": (lat[-1] * 1e3) if lat else float("nan"),
        "mean_ms": statistics.fmean(lat) * 1e3 if lat else float("nan"),
        "requests_total": raw["requests_total"],
        "client_cpu_pct": 100 * raw["client_cpu_s"] / raw["client_wall_s"],
    }
    if cpu0 and cpu1 and raw["requests_total"]:
        used = {p: cpu1[p] - cpu0.get(p, 0.0) for p in cpu1}
        total = sum(used.values())
        out["server_cpu_ms_per_msg"] = total / raw["requests_total"] * 1e3
        out["server_cpu_pct"] = 100 * total / raw["client_wall_s"]
        # per server process, busiest first: shows whether the workers share the load
        out["server_process_cpu_pct"] = sorted(
            (round(100 * u / raw["client_wall_s"], 1) for u in used.values() if u > 0.01),
            reverse=True)
        if busy0 is not None and busy1 is not None:
            # what else ran on the machine meanwhile: noise in every other column
            other = busy1 - busy0 - total - raw["client_process_cpu_s"]
            out["other_cpu_pct"] = max(0.0, 100 * other / raw["client_wall_s"])
    return out


def serve(workers: str, src: Path, data_dir: Path, port: int, log_level: str, log: Path
          ) -> subprocess.Popen:
    """``spamsift serve`` from the source tree ``src``; ``workers`` a count or
    ``default`` (no ``--workers``: the tree's own default, as ``make run``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    env["SPAMSIFT_RATE_LIMIT_PER_MINUTE"] = "0"
    env["PYTHONPATH"] = str(src)
    count = [] if workers == "default" else ["--workers", workers]
    with open(log, "wb") as err:  # a file, not a pipe: a chatty server never blocks on it
        return subprocess.Popen(
            SPAMSIFT + ["serve", "--host", HOST, "--port", str(port), "--data-dir",
                        str(data_dir), "--log-level", log_level, *count],
            env=env, stdout=subprocess.DEVNULL, stderr=err)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def fmt(x: float, digits: int = 1) -> str:
    return "–" if x != x else f"{x:.{digits}f}"


def markdown(res: dict) -> str:
    c = res["in_process"]
    lines = [
        f"`spamsift serve` on loopback, {res['cpus']} cores shared by the server and the load "
        f"generator; {res['messages']} messages of `{res['split']}`'s test part (median "
        f"{res['median_bytes']} bytes) posted raw to `POST /v1/classify`, cycled; closed "
        f"loop, one keep-alive connection per client, {res['seconds']:g} s measured after "
        f"{res['warmup']:g} s warm-up per row; rate limit off, no access log, SQLite "
        "feedback store (every classification recorded). Server CPU: all its processes "
        "(per worker in brackets); other CPU: whatever else ran on the machine meanwhile.",
        "",
        "| tree | server workers | clients | msgs/s | p50 ms | p90 ms | p99 ms | max ms "
        "| errors | server CPU ms/msg | server CPU % | client CPU % | other CPU % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    nan = float("nan")
    for r in res["rows"]:
        cpu = fmt(r.get("server_cpu_pct", nan), 0)
        per = [p for p in r.get("server_process_cpu_pct") or [] if p >= 5]
        if len(per) > 1:
            cpu += " (" + " / ".join(f"{p:.0f}" for p in per) + ")"
        lines.append(
            f"| {r['tree']} | {r['workers']} | {r['clients']} | {r['msgs_per_s']:.0f} | "
            f"{fmt(r['p50_ms'])} | "
            f"{fmt(r['p90_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {r['errors']} | "
            f"{fmt(r.get('server_cpu_ms_per_msg', nan), 2)} | {cpu} | "
            f"{r['client_cpu_pct']:.0f} | {fmt(r.get('other_cpu_pct', nan), 0)} |")
    lines += [
        "",
        f"Where the time goes, in-process on {c['messages']} of the messages (evenly "
        "spaced): "
        f"`SpamModel.classify` with the top {res['top_clues']} clues takes "
        f"{c['classify_ms']:.2f} ms a message called one at a time "
        f"({c['classify_no_clues_ms']:.2f} ms without clues) and "
        f"{c['classify_batch10_ms']:.2f} ms in calls of 10 (the server scores the messages "
        "of concurrent requests together); recording it in SQLite, one a transaction, "
        f"{c['record_new_ms']:.2f} ms for a new message, {c['record_seen_ms']:.2f} ms for "
        "one already stored, and in transactions of 64 (as the server's history writer "
        f"does, off the request path) {c.get('record_batch64_seen_ms', float('nan')):.2f} "
        "ms. The rest of the server CPU per message is HTTP, the framework and the event "
        "loop.",
    ]
    if res["rounds"] > 1:
        lines += ["", f"Each row: the median of {res['rounds']} rounds (errors: the sum), "
                  "the trees alternating which went first; load average at the start "
                  f"{res['loadavg_at_start']} (the \"other CPU\" column: what else ran "
                  "meanwhile)."]
    g = res["goal"]
    rows = [r for r in res["rows"] if r["clients"] == g["clients"]
            and r["tree"] == res["trees"][0]]
    if rows:
        b = max(rows, key=lambda r: r["msgs_per_s"])
        met = (b["msgs_per_s"] >= g["msgs_per_s"] and b["p99_ms"] <= g["p99_ms"]
               and b["errors"] == 0)
        lines += ["", f"Goal at {g['clients']} clients: ≥ {g['msgs_per_s']:.0f} msgs/s and "
                  f"p99 ≤ {g['p99_ms']:.0f} ms with no errors: "
                  f"{'met' if met else '**not met**'} (best: {b['msgs_per_s']:.0f} msgs/s, "
                  f"p99 {b['p99_ms']:.0f} ms, {b['errors']} errors, workers: "
                  f"{b['workers']}, {res['trees'][0]})."]
    return "\n".join(lines) + "\n"


def run_server(res: dict, tree: str, src: Path, w: str, clients: list[int],
               paths_file: Path, tmp: Path, args: argparse.Namespace) -> None:
    """One server (tree ``src``, ``w`` workers) under each client count in turn."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="data-", dir=tmp))
    log = data.with_suffix(".log")
    proc = serve(w, src, data, port, args.log_level, log)
    try:
        try:
            ready_s = wait_ready(proc, port)
        except SystemExit:
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        # /readyz answers once one worker is up: wait for all to finish loading
        wait_idle(proc.pid)
        print(f"{tree}, workers={w}: ready in {ready_s:.1f} s on port {port}", flush=True)
        for c in clients:
            r = {"tree": tree, "workers": w, **run_clients(port, paths_file, c, args, proc.pid)}
            res["runs"].append(r)
            if proc.poll() is not None:
                raise SystemExit(f"spamsift serve exited with {proc.returncode}")
            print(f"  clients={c}: {r['msgs_per_s']:.0f} msgs/s, p50 "
                  f"{r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                  f"errors {r['errors']}, server CPU "
                  f"{r.get('server_cpu_ms_per_msg', float('nan')):.2f} ms/msg, "
                  f"(per process {r.get('server_process_cpu_pct')} %), "
                  f"client CPU {r['client_cpu_pct']:.0f} %, other CPU "
                  f"{r.get('other_cpu_pct', float('nan')):.0f} %", flush=True)
    finally:
        stop(proc)
    err = log.read_text(errors="replace")
    if "Traceback" in err or "ERROR" in err:
        print(f"server stderr ({tree}, workers={w}):\n{err[-4000:]}", file=sys.stderr)


def medians(runs: list[dict]) -> list[dict]:
    """One row per (tree, workers, clients): each number the median over the rounds,
    errors summed; per-process CPU from the round with the median throughput."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["tree"], r["workers"], r["clients"]), []).append(r)
    out = []
    for rs in groups.values():
        mid = sorted(rs, key=lambda r: r["msgs_per_s"])[len(rs) // 2]
        row = dict(mid)
        for k, v in mid.items():
            if isinstance(v, float):
                row[k] = statistics.median(r.get(k, float("nan")) for r in rs)
        row["errors"] = sum(r["errors"] for r in rs)
        row["rounds"] = len(rs)
        out.append(row)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_client":
        client_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", default="temporal_split")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured, per row")
    ap.add_argument("--warmup", type=float, default=3.0, help="discarded, per row")
    ap.add_argument("--clients", default="1,10,100")
    ap.add_argument("--workers", default="default,1",
                    help="comma-separated counts; 'default': no --workers, as `make run`")
    ap.add_argument("--baseline", help="git revision whose tree is served too, interleaved")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--max-requests", type=int, default=200_000, help="per row, a bound")
    ap.add_argument("--cost-messages", type=int, default=500,
                    help="messages for the in-process cost split")
    ap.add_argument("--log-level", default="warning", help="uvicorn's, for the server")
    ap.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    workers = args.workers.split(",")
    corpus = args.corpus.resolve()
    rows = [r for r in csv.DictReader(open(corpus / "index.csv")) if r[args.split] == "test"]
    paths = [str(corpus / r["path"]) for r in rows]
    sizes = sorted(Path(p).stat().st_size for p in paths)

    from spamsift.config import Settings
    res: dict = {"split": args.split, "messages": len(paths),
                 "median_bytes": sizes[len(sizes) // 2], "cpus": os.cpu_count(),
                 "seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds,
                 "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                 "top_clues": Settings().top_clues, "goal": GOAL, "runs": []}
    print(f"in-process cost split on {args.cost_messages} messages ...", flush=True)
    res["in_process"] = in_process_costs(paths, args.cost_messages)
    print(json.dumps(res["in_process"]), flush=True)
    with tempfile.TemporaryDirectory(prefix="spamsift-load-") as tmp:
        trees = {f"this tree ({describe('HEAD')})": ROOT / "src"}
        if args.baseline:
            trees[f"{args.baseline} ({describe(args.baseline)})"] = export(
                args.baseline, Path(tmp) / "baseline")
        res["trees"] = list(trees)
        paths_file = Path(tmp) / "paths.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        for rnd in range(args.rounds):
            order = list(trees.items())
            for tree, src in (order if rnd % 2 == 0 else order[::-1]):
                for w in workers:
                    run_server(res, tree, src, w, clients, paths_file, Path(tmp), args)
    res["rows"] = medians(res["runs"])
    md = markdown(res)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / "load.md").write_text(md)
    if not args.no_readme:
        replace_block("load", md)
    print(md)


if __name__ == "__main__":
    main()
