"""Replicas benchmark: N `spamsift serve` processes on one PostgreSQL database.

    python benchmarks/replicas.py [--database-url URL] [--corpus DIR] [--seconds 15]

Needs a PostgreSQL server: ``--database-url``, else ``SPAMSIFT_TEST_PG_URL`` (as the
tests use). Each run gets a fresh schema in that database, dropped afterwards.

1. **Throughput** with N = 1 and 2 replicas (each its own data folder, one store):
   10 closed-loop clients, dealt out round-robin over the replicas (no load
   balancer), posting the split's test messages to ``POST /v1/classify``: the load
   generator of ``benchmarks/load.py``. msgs/s, p50 and p99.
2. **Feedback propagation** with 2 replicas: feedback on a message is posted to one
   replica, alternately A and B; from its answer, the other replica is asked to
   classify the message every few milliseconds until its logit has moved: the delay
   is that time (it includes one classify round trip, the resolution).
3. **Promotion propagation**: a version is added to the shared registry and
   activated through A's ``POST /v1/models/{v}/activate``; the delay is from A's
   answer until B's classify answer names the version (a registry poll,
   ``model_poll_seconds`` = 2 s by default, plus loading and catching up the model).

Results go to benchmarks/results/replicas.{json,md} and the README's replicas block.
Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402
from load import HOST, SPAMSIFT, free_port, percentile, run_clients, stop, wait_idle  # noqa: E402

CLIENTS = 10


def post(port: int, path: str, body: bytes, headers: dict[str, str],
         timeout: float = 60.0) -> dict:
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body, headers=headers,
                                 method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def classify(port: int, raw: bytes) -> dict:
    return post(port, "/v1/classify", raw, {"Content-Type": "message/rfc822"})


def fresh_schema(url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    u = make_url(engine.url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine.dispose()
    return schema, u.render_as_string(hide_password=False)


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


class Replicas:
    """N `spamsift serve` processes on one database, each with its own data folder."""

    def __init__(self, n: int, db_url: str, tmp: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
        self.env.update(SPAMSIFT_DATABASE_URL=db_url, SPAMSIFT_RATE_LIMIT_PER_MINUTE="0")
        self.tmp, self.n = tmp, n
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Replicas:
        # One replica first: it migrates and seeds the shared registry.
        for i in range(self.n):
            port = free_port()
            log = open(self.tmp / f"serve-{i}.log", "wb")
            self.procs.append(subprocess.Popen(
                SPAMSIFT + ["serve", "--host", HOST, "--port", str(port), "--data-dir",
                            str(self.tmp / f"data-{i}"), "--log-level", "warning"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=log))
            self.ports.append(port)
            wait_ready(self.procs[-1], port)
            wait_idle(self.procs[-1].pid)
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            stop(p)

    def key(self, scope: str) -> dict[str, str]:
        made = subprocess.run(SPAMSIFT + ["keys", "create", "--scope", scope, "--data-dir",
                                          str(self.tmp / "data-0")],
                              env=self.env, capture_output=True, text=True, check=True,
                              timeout=120)
        return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


def wait_ready(proc: subprocess.Popen, port: int, deadline_s: float = 120.0) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < deadline_s:
        if proc.poll() is not None:
            raise SystemExit(f"spamsift serve exited with {proc.returncode} before ready")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"spamsift serve not ready after {deadline_s:.0f} s")


def until(check, deadline_s: float = 60.0, every: float = 0.0) -> float:
    t0 = time.perf_counter()
    while not check():
        if time.perf_counter() - t0 > deadline_s:
            raise SystemExit(f"not within {deadline_s:.0f} s")
        if every:
            time.sleep(every)
    return time.perf_counter() - t0


def feedback_delays(r: Replicas, raws: list[bytes], key: dict[str, str]) -> list[float]:
    out = []
    for i, raw in enumerate(raws):
        src, dst = (r.ports[0], r.ports[1]) if i % 2 == 0 else (r.ports[1], r.ports[0])
        before = classify(dst, raw)["logit"]
        body = json.dumps({"message_b64": base64.b64encode(raw).decode(), "label": "spam",
                           "user": "bench"}).encode()
        post(src, "/v1/feedback", body, {**key, "Content-Type": "application/json"})
        out.append(until(lambda dst=dst, raw=raw, before=before:
                         classify(dst, raw)["logit"] != before))
    return out


def promotion_delays(r: Replicas, db_url: str, key: dict[str, str], n: int) -> list[float]:
    from spamsift.feedback import Database
    from spamsift.models.bundled import bundled_model_path
    from spamsift.models.db_registry import DatabaseRegistry

    db = Database(db_url)
    probe = b"From: a@example.org\nSubject: hello\n\nhello\n"
    out = []
    try:
        registry = DatabaseRegistry(db, r.tmp / "cli-cache")
        for i in range(n):
            version = registry.add(bundled_model_path(), version=f"bench-{i}")
            post(r.ports[0], f"/v1/models/{version}/activate", b"", key)
            out.append(until(lambda v=version: classify(r.ports[1], probe)["model_version"] == v,
                             every=0.01))
    finally:
        db.close()
    return out


def summary(values: list[float]) -> dict:
    ms = sorted(v * 1e3 for v in values)
    return {"n": len(ms), "median_ms": statistics.median(ms), "p99_ms": percentile(ms, 99),
            "max_ms": ms[-1]}


def markdown(res: dict) -> str:
    fb, pr = res["feedback_delay"], res["promotion_delay"]
    lines = [
        f"`spamsift serve` replicas on one PostgreSQL {res['pg_version']} database (loopback), "
        f"{res['cpus']} cores shared by the replicas, PostgreSQL and the load generator; "
        f"{CLIENTS} closed-loop clients dealt out round-robin over the replicas "
        f"(`benchmarks/load.py`'s generator), {res['messages']} test messages of "
        f"`{res['split']}`, {res['seconds']:g} s measured after {res['warmup']:g} s warm-up; "
        "every classification recorded in the shared store. Load average at the start "
        f"{res['loadavg_at_start']} (other work on the machine: compare rows of one run, "
        "not with other tables).",
        "",
        "| replicas | clients | msgs/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for row in res["runs"]:
        lines.append(f"| {row['replicas']} | {row['clients']} | {row['msgs_per_s']:.0f} | "
                     f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} |")
    lines += [
        "",
        f"Feedback given to one replica, seen in the other's verdict ({fb['n']} messages, "
        f"alternating directions; includes one classify round trip): median "
        f"**{fb['median_ms']:.0f} ms**, p99 {fb['p99_ms']:.0f} ms "
        f"(bound: `SPAMSIFT_FEEDBACK_POLL_SECONDS`, {res['feedback_poll_seconds']:g} s, "
        "when a notification is lost).",
        f"A version activated through one replica, served by the other ({pr['n']} "
        f"activations): median **{pr['median_ms'] / 1e3:.1f} s**, max "
        f"{pr['max_ms'] / 1e3:.1f} s (bound: `SPAMSIFT_MODEL_POLL_SECONDS`, "
        f"{res['model_poll_seconds']:g} s, plus loading the model).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=os.environ.get("SPAMSIFT_TEST_PG_URL"))
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", default="temporal_split")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured, per row")
    ap.add_argument("--warmup", type=float, default=3.0, help="discarded, per row")
    ap.add_argument("--max-requests", type=int, default=200_000, help="per row, a bound")
    ap.add_argument("--feedback-samples", type=int, default=40)
    ap.add_argument("--promotions", type=int, default=5)
    ap.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    args = ap.parse_args()
    if not args.database_url:
        raise SystemExit("needs PostgreSQL: --database-url URL or SPAMSIFT_TEST_PG_URL")
    corpus = args.corpus.resolve()
    rows = [r for r in csv.DictReader(open(corpus / "index.csv")) if r[args.split] == "test"]
    paths = [str(corpus / r["path"]) for r in rows]

    from spamsift.config import Settings

    settings = Settings()
    res: dict = {"split": args.split, "messages": len(paths), "cpus": os.cpu_count(),
                 "seconds": args.seconds, "warmup": args.warmup, "runs": [],
                 "feedback_poll_seconds": settings.feedback_poll_seconds,
                 "model_poll_seconds": settings.model_poll_seconds,
                 "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="spamsift-replicas-") as tmp_s:
        tmp = Path(tmp_s)
        paths_file = tmp / "paths.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        for n in (1, 2):
            schema, url = fresh_schema(args.database_url)
            try:
                run_dir = tmp / f"n{n}"
                run_dir.mkdir()
                with Replicas(n, url, run_dir) as r:
                    row = run_clients(r.ports, paths_file, CLIENTS, args, r.procs[0].pid)
                    res["runs"].append({"replicas": n, **{k: row[k] for k in (
                        "clients", "msgs_per_s", "p50_ms", "p99_ms", "errors")}})
                    print(json.dumps(res["runs"][-1]), flush=True)
                    if n == 2:
                        key = r.key("admin")
                        raws = [Path(p).read_bytes() for p in
                                paths[::max(1, len(paths) // args.feedback_samples)]]
                        res["feedback_delay"] = summary(
                            feedback_delays(r, raws[:args.feedback_samples], key))
                        print("feedback", json.dumps(res["feedback_delay"]), flush=True)
                        res["promotion_delay"] = summary(
                            promotion_delays(r, url, key, args.promotions))
                        print("promotion", json.dumps(res["promotion_delay"]), flush=True)
            finally:
                drop_schema(args.database_url, schema)
    res["pg_version"] = pg_version(args.database_url)
    md = markdown(res)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "replicas.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / "replicas.md").write_text(md)
    if not args.no_readme:
        replace_block("replicas", md)
    print(md)


def pg_version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        v = str(conn.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return v.split()[0]


if __name__ == "__main__":
    try:
        main()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"HTTP {exc.code}: {exc.read()[:500]!r}") from None
