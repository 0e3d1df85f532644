"""`spamsift serve` and `spamsift keys create`, exactly as written, on each store backend.

A real server process on loopback: feedback moves its verdicts, a retraction moves
them back exactly, and after a SIGKILL the restarted server still knows every
acknowledged event (it catches the model up from the store).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from spamsift.feedback import FeedbackStore

CLI = [sys.executable, "-m", "spamsift.cli"]
MESSAGE = (b"From: Dana <dana@example.org>\nTo: lee@example.net\nSubject: lunch plans\n"
           b"Date: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <1@example.org>\n\n"
           b"Shall we meet at noon by the fountain? I will bring the quarterly notes.\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    return {**base, "SPAMSIFT_DATABASE_URL": db_url}


@pytest.fixture
def serve(tmp_path: Path, env: dict[str, str]) -> Iterator[object]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[str, subprocess.Popen[bytes]]:
        port = _free_port()
        proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--data-dir", str(tmp_path / "data"), "--workers", "1"],
                                env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the server did not come up in 90 s"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return url, proc
            except httpx.TransportError:
                time.sleep(0.2)

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=30)


def _logit(url: str) -> float:
    r = httpx.post(f"{url}/v1/classify", content=MESSAGE,
                   headers={"Content-Type": "message/rfc822"}, timeout=30)
    assert r.status_code == 200, r.text
    return float(r.json()["logit"])


def test_feedback_through_a_real_server(serve, tmp_path: Path, env: dict[str, str],
                                        db_url: str) -> None:
    made = subprocess.run([*CLI, "keys", "create", "--scope", "feedback", "--data-dir",
                           str(tmp_path / "data")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}

    url, proc = serve()
    z0 = _logit(url)
    cid = httpx.post(f"{url}/v1/classify", content=MESSAGE, timeout=30).json()[
        "classification_id"]
    assert httpx.post(f"{url}/v1/feedback", json={"classification_id": cid, "label": "spam"},
                      timeout=30).status_code == 401  # feedback always needs a key
    r = httpx.post(f"{url}/v1/feedback", json={"classification_id": cid, "label": "spam"},
                   headers=auth, timeout=30)
    assert r.status_code == 201, r.text
    event = r.json()["event_id"]
    z1 = _logit(url)
    assert z1 > z0
    assert httpx.delete(f"{url}/v1/feedback/{event}", headers=auth, timeout=30).is_success
    assert _logit(url) == pytest.approx(z0, abs=1e-6)  # unlearned exactly

    r = httpx.post(f"{url}/v1/feedback", json={"classification_id": cid, "label": "spam",
                                               "client_event_id": "c-1"},
                   headers=auth, timeout=30)
    assert r.status_code == 201
    # Killed without warning: the acknowledged event is in the store, and the
    # restarted server learns it again from there.
    proc.send_signal(signal.SIGKILL)  # one worker: uvicorn runs in this very process
    proc.wait(timeout=30)
    url2, _ = serve()
    assert _logit(url2) == pytest.approx(z1, abs=1e-6)
    with FeedbackStore(db_url) as store:
        counts = store.counts()
    assert (counts.events, counts.retracted_events, counts.spam) == (2, 1, 1)
