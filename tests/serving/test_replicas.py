"""Real `spamsift serve` processes sharing one store follow each other.

On a real PostgreSQL server, two replicas with their own data folders: feedback
given to one moves the other's verdict, a retraction on the other is unlearned on
the first, a version activated through one is served by the other, and a damaged
version pointed at behind their backs is served by neither. On SQLite, `serve` and
`spamd` on one folder follow each other's feedback the same way. Every wait has a
generous deadline; none is a timing assertion.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import text

from feedback.test_serve_on_store import CLI, MESSAGE, _free_port, _logit
from serving.spamd.support import exchange, request
from spamsift.feedback import Database
from spamsift.models.bundled import bundled_model_path
from spamsift.models.db_registry import DatabaseRegistry

# Fast polls keep the test short; the defaults are in spamsift.config.
POLLS = {"SPAMSIFT_MODEL_POLL_SECONDS": "0.3", "SPAMSIFT_FEEDBACK_POLL_SECONDS": "0.3"}
DEADLINE = 30.0


def _env(db_url: str | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    return {**base, **POLLS, **({"SPAMSIFT_DATABASE_URL": db_url} if db_url else {})}


def _ready(proc: subprocess.Popen[bytes], probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the server did not come up in 90 s"
        try:
            if probe():
                return
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.2)


@pytest.fixture
def start() -> Iterator[Callable[..., list[str | int]]]:
    """``start((command, data_dir, *options), ...)``: launch them all at once, wait for each."""
    procs: list[subprocess.Popen[bytes]] = []

    def run(*specs: tuple[str, Path, *tuple[str, ...]], env: dict[str, str]) -> list[str | int]:
        launched = []
        for command, data_dir, *options in specs:
            port = _free_port()
            # A replica here is one process, so that what one answers is what it holds;
            # a server's own workers following each other: test_live_server.py.
            one = ["--workers", "1"] if command == "serve" else []
            proc = subprocess.Popen([*CLI, command, "--host", "127.0.0.1", "--port", str(port),
                                     "--data-dir", str(data_dir), *one, *options], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append(proc)
            launched.append((command, port, proc))
        where: list[str | int] = []
        for command, port, proc in launched:
            if command == "serve":
                url = f"http://127.0.0.1:{port}"
                _ready(proc, lambda u=url: httpx.get(f"{u}/readyz", timeout=2).status_code == 200)
                where.append(url)
            else:
                _ready(proc, lambda p=port: b"PONG" in exchange(p, b"PING SPAMC/1.5\r\n\r\n",
                                                                 timeout=2))
                where.append(port)
        return where

    yield run
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate(timeout=30)


def _key(scope: str, data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    made = subprocess.run([*CLI, "keys", "create", "--scope", scope, "--data-dir",
                           str(data_dir)], env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


def _until(what: str, check: Callable[[], bool]) -> float:
    """Wait until ``check()``; returns the seconds it took."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < DEADLINE, f"not within {DEADLINE} s: {what}"
        time.sleep(0.05)
    return time.monotonic() - t0


def _version(url: str) -> str:
    r = httpx.post(f"{url}/v1/classify", content=MESSAGE, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["model_version"])


def test_two_replicas_on_postgresql(start, tmp_path: Path, pg_url: str) -> None:
    env = _env(pg_url)
    admin = _key("admin", tmp_path / "a", env)  # keys are in the shared database
    a, b = start(("serve", tmp_path / "a"), ("serve", tmp_path / "b"), env=env)
    z0 = _logit(b)
    assert _logit(a) == z0 and _version(a) == _version(b)

    r = httpx.post(f"{a}/v1/feedback", headers=admin, timeout=30, json={
        "message_b64": base64.b64encode(MESSAGE).decode(), "label": "spam", "user": "ann"})
    assert r.status_code == 201, r.text
    z1 = _logit(a)
    assert z1 > z0
    _until("feedback given to A moves B", lambda: _logit(b) == pytest.approx(z1, abs=1e-9))

    r = httpx.delete(f"{b}/v1/feedback/{r.json()['event_id']}", headers=admin, timeout=30)
    assert r.is_success and r.json()["retracted"]
    _until("a retraction on B is unlearned on A",
           lambda: _logit(a) == pytest.approx(z0, abs=1e-9))

    with contextlib.closing(Database(pg_url)) as db:
        DatabaseRegistry(db, tmp_path / "cli").add(bundled_model_path(), version="v2")
        r = httpx.post(f"{a}/v1/models/v2/activate", headers=admin, timeout=60)
        assert r.status_code == 200, r.text
        assert _version(a) == "v2"
        _until("a version activated through A is served by B", lambda: _version(b) == "v2")
        assert _logit(b) == pytest.approx(z0, abs=1e-9)  # caught up on the same feedback

        # A broken version, activated behind the servers' backs: neither serves it.
        DatabaseRegistry(db, tmp_path / "cli").add(bundled_model_path(), version="v3")
        with db.write() as conn:
            conn.execute(text("UPDATE model_versions SET arrays = :cut WHERE version = 'v3'"),
                         {"cut": b"PK\x03\x04"})
            conn.execute(text("UPDATE model_active SET version = 'v3'"))
        time.sleep(1.5)  # five model polls
        assert (_version(a), _version(b)) == ("v2", "v2")
        assert httpx.get(f"{b}/readyz", timeout=5).status_code == 200


def _probability(port: int) -> float:
    answer = exchange(port, request("HEADERS", MESSAGE, "User: ann"))
    found = re.search(rb"X-Spamsift-Probability: ([0-9.]+)", answer)
    assert found, answer[:200]
    return float(found.group(1))


def test_serve_and_spamd_on_one_sqlite_folder(start, tmp_path: Path) -> None:
    env = _env(None)
    data = tmp_path / "data"
    key = _key("feedback", data, env)
    url, port = start(("serve", data), ("spamd", data, "--allow-tell"), env=env)
    p0 = _probability(port)
    z0 = _logit(url)
    r = httpx.post(f"{url}/v1/feedback", headers=key, timeout=30, json={
        "message_b64": base64.b64encode(MESSAGE).decode(), "label": "spam", "user": "ann"})
    assert r.status_code == 201, r.text
    _until("feedback given to serve moves spamd", lambda: _probability(port) > p0)

    told = exchange(port, request("TELL", MESSAGE, "Message-class: spam", "Remove: local",
                                  "User: ann"))
    assert b"DidRemove: local" in told, told
    _until("spamd's forget is unlearned by serve",
           lambda: _logit(url) == pytest.approx(z0, abs=1e-9))
    assert _probability(port) == pytest.approx(p0, abs=1e-6)
