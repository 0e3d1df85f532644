"""A real uvicorn server on 127.0.0.1, spoken to over sockets with an HTTP client.

Every endpoint and every error code once more, end to end, then model activation
while clients classify without pause: no request may fail, and each answer's cut-offs
must be those of the version it names. Last, ``run`` itself in a subprocess on a fresh
data folder. All traffic stays on the loopback address; every loop is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI

from serving.api.support import FakeFeedbackStore, api_settings, bearer, make_keys
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder

LIMIT = 16 * 1024
MESSAGE = b"From: ann@example.org\nSubject: lunch\n\nNoon at the usual place?\n"


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def live_registry(small_model: SpamModel, tmp_path_factory: pytest.TempPathFactory
                  ) -> ModelRegistry:
    import dataclasses

    reg = ModelRegistry(tmp_path_factory.mktemp("live") / "models")
    reg.add(lambda p: save_model(small_model, p), version="v1")
    second = dataclasses.replace(small_model, spam_cutoff=0.999, unsure_cutoff=0.998)
    reg.add(lambda p: save_model(second, p), version="v2")
    reg.activate("v1")
    return reg


@pytest.fixture(scope="module")
def store() -> FakeFeedbackStore:
    return FakeFeedbackStore()


@pytest.fixture(scope="module")
def base_url(live_registry: ModelRegistry, store: FakeFeedbackStore) -> Iterator[str]:
    holder = ModelHolder(live_registry)
    holder.reload()
    app = create_app(holder, keys=make_keys(), feedback=store,
                     settings=api_settings(max_request_bytes=LIMIT, max_batch_messages=5))
    with serving(app) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_every_endpoint(http: httpx.Client, store: FakeFeedbackStore) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json()["status"] == "ready"

    raw = http.post("/v1/classify", content=MESSAGE,
                    headers={"Content-Type": "message/rfc822"})
    assert raw.status_code == 200
    answer = raw.json()
    assert answer["verdict"] in ("ham", "unsure", "spam")
    assert set(answer) == {"verdict", "score", "logit", "cutoffs", "model_version", "clues",
                           "flags", "classification_id"}
    assert http.post("/v1/classify", json={"message_b64": b64(MESSAGE)}).json() == {
        **answer, "classification_id": "c2"}

    batch = http.post("/v1/classify/batch", headers=bearer("classify"), json={
        "messages": [{"id": "a", "message_b64": b64(MESSAGE)},
                     {"id": "b", "message_b64": b64(b"Subject: WIN\n\nFREE $$$")}]})
    assert [r["id"] for r in batch.json()["results"]] == ["a", "b"]

    added = http.post("/v1/feedback", headers=bearer("feedback"), json={
        "classification_id": answer["classification_id"], "label": "ham"})
    assert added.status_code == 201 and added.json()["label"] == "ham"
    gone = http.delete(f"/v1/feedback/{added.json()['event_id']}",
                       headers=bearer("feedback"))
    assert gone.json() == {"event_id": added.json()["event_id"], "retracted": True,
                           "effective_label": None}

    models = http.get("/v1/models", headers=bearer("admin")).json()
    assert [v["version"] for v in models["versions"]] == ["v1", "v2"]
    assert http.post("/v1/models/v1/activate", headers=bearer("admin")).json() == {
        "version": "v1", "previous": "v1"}

    metrics = http.get("/metrics").text
    assert 'spamsift_model_info{version="v1"} 1.0' in metrics
    assert 'spamsift_feedback_total{label="ham",outcome="recorded"} 1.0' in metrics
    assert "/v1/classify/batch" in http.get("/openapi.json").json()["paths"]
    assert http.get("/docs").status_code == 200


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 1000):
        yield b"x" * 1000


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code"), [
    pytest.param("POST", "/v1/classify", {"content": b""}, 400, "not_a_message",
                 id="400-empty"),
    pytest.param("POST", "/v1/classify", {"json": {"message_b64": "@@"}}, 400, "bad_input",
                 id="400-base64"),
    pytest.param("GET", "/v1/models", {}, 401, "unauthenticated", id="401-no-key"),
    pytest.param("GET", "/v1/models", {"headers": {"Authorization": "Bearer wrong"}}, 401,
                 "unauthenticated", id="401-wrong-key"),
    pytest.param("GET", "/v1/models", {"headers": bearer("feedback")}, 403, "forbidden",
                 id="403"),
    pytest.param("POST", "/v1/models/v7/activate", {"headers": bearer("admin")}, 404,
                 "not_found", id="404-version"),
    pytest.param("DELETE", "/v1/feedback/nope", {"headers": bearer("feedback")}, 404,
                 "not_found", id="404-event"),
    pytest.param("POST", "/v1/classify", {"content": b"x" * (LIMIT + 1)}, 413, "too_large",
                 id="413-declared"),
    pytest.param("POST", "/v1/classify", {"content": _chunks(2 * LIMIT)}, 413, "too_large",
                 id="413-streamed"),
    pytest.param("POST", "/v1/classify/batch",
                 {"json": {"messages": [{"message_b64": "eA=="}] * 6}}, 413, "too_large",
                 id="413-batch-count"),
    pytest.param("POST", "/v1/classify/batch", {"content": b'{"messages": [',
                                                "headers": {"Content-Type":
                                                            "application/json"}},
                 422, "invalid_request", id="422-json"),
    pytest.param("POST", "/v1/feedback", {"json": {"label": "spam"},
                                          "headers": bearer("feedback")},
                 422, "invalid_request", id="422-no-message"),
])
def test_every_error_code(http: httpx.Client, method: str, path: str, kwargs: dict[str, Any],
                          status: int, code: str) -> None:
    r = http.request(method, path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == code and r.json()["message"]


def test_429_over_the_rate_limit(live_registry: ModelRegistry) -> None:
    holder = ModelHolder(live_registry)
    holder.reload()
    app = create_app(holder, keys=make_keys(),
                     settings=api_settings(rate_limit_per_minute=60, rate_limit_burst=3))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        # From loopback (a mail server on this host) classify is never limited...
        codes = {http.post("/v1/classify", content=MESSAGE).status_code for _ in range(6)}
        assert codes == {200}
        # ...unless a proxy there says it forwards another client's request.
        proxied = {"X-Forwarded-For": "192.0.2.1"}
        codes = [http.post("/v1/classify", content=MESSAGE, headers=proxied).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # ...but admin (and feedback) calls are: a token is spent before the key is judged.
        codes = [http.get("/v1/models").status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        r = http.get("/v1/models")
        assert r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        assert http.get("/healthz").status_code == 200


def test_activation_under_load_drops_nothing(base_url: str, live_registry: ModelRegistry,
                                            small_model: SpamModel) -> None:
    cutoff = {"v1": small_model.spam_cutoff, "v2": 0.999}
    stop = threading.Event()
    answers: list[tuple[int, str | None, float | None]] = []
    failures: list[BaseException] = []

    def classify_loop() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for _ in range(400):  # bounded even if stop never comes
                if stop.is_set():
                    return
                try:
                    r = client.post("/v1/classify", content=MESSAGE)
                except httpx.HTTPError as exc:
                    failures.append(exc)
                    continue
                body = r.json() if r.status_code == 200 else {}
                answers.append((r.status_code, body.get("model_version"),
                                body.get("cutoffs", {}).get("spam")))

    clients = [threading.Thread(target=classify_loop) for _ in range(3)]
    for t in clients:
        t.start()
    try:
        with httpx.Client(base_url=base_url, timeout=30) as admin:
            for version in ("v2", "v1", "v2", "v1"):
                time.sleep(0.15)
                r = admin.post(f"/v1/models/{version}/activate", headers=bearer("admin"))
                assert r.status_code == 200, r.text
            time.sleep(0.15)
    finally:
        stop.set()
        for t in clients:
            t.join(30)
    assert not failures
    assert answers and all(status == 200 for status, _, _ in answers)
    assert {version for _, version, _ in answers} == {"v1", "v2"}
    assert all(spam == cutoff[version] for _, version, spam in answers)
    assert live_registry.active() == "v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(data: Path, *run_args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``serving.server.run`` on ``data`` in a subprocess (``run_args``: more of its
    keyword arguments, as source), until it answers ``/readyz``; yields it and its URL
    and terminates it at the end if it still runs."""
    port = _free_port()
    code = ("import sys; from spamsift.config import Settings; "
            "from spamsift.datadir import open_stores; "
            "from spamsift.serving.server import run; "
            "run('127.0.0.1', int(sys.argv[1]), sys.argv[2], Settings(), log_level='warning'"
            + "".join(", " + a for a in run_args) + ")")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    log = data.parent / f"serve-{port}.log"  # a file: a helper process may outlive a pipe
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(data)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "run() did not come up in 120 s"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=60)


def test_run_serves_a_fresh_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(data) as (_, url), httpx.Client(base_url=url, timeout=30) as http:
        ready = http.get("/readyz").json()
        assert (data / "models" / "ACTIVE").read_text().strip() == ready["model_version"]
        r = http.post("/v1/classify", content=MESSAGE)
        assert r.status_code == 200 and r.json()["classification_id"] is None
        # No store: no keys, so feedback and admin calls cannot be made at all.
        assert http.get("/v1/models").status_code == 401
        assert http.post("/v1/feedback", json={"label": "spam"}).status_code == 401


def test_sigterm_keeps_every_classification_answered(tmp_path: Path) -> None:
    # Two workers, as `make run` starts on two cores: uvicorn passes SIGTERM on to
    # each, and each writes out its queue of classifications before it exits.
    from spamsift.db.database import default_url
    from spamsift.feedback import FeedbackStore

    data = tmp_path / "data"
    with running(data, "workers=2", "stores=open_stores") as (proc, url):
        with httpx.Client(base_url=url, timeout=30) as http:
            ids = [http.post("/v1/classify", content=MESSAGE + f"note {i}\n".encode()
                             ).json()["classification_id"] for i in range(60)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert None not in ids
    with FeedbackStore(default_url(data)) as store:
        assert [i for i in ids if store.get_classification(i) is None] == []
        assert store.counts().classifications == 60


def test_workers_end_with_a_supervisor_killed_outright(tmp_path: Path) -> None:
    # Each worker listens on a socket of its own (SO_REUSEPORT): an orphan would go on
    # serving the port beside a restarted server. It is told to stop instead.
    with running(tmp_path / "data", "workers=2") as (proc, _):
        deadline = time.monotonic() + 60  # the second worker may still be starting
        while len(workers := _workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, f"workers: {workers}"
            time.sleep(0.2)
        proc.kill()
        proc.wait(30)
        deadline = time.monotonic() + 60
        while any(_alive(w) for w in workers):
            assert time.monotonic() < deadline, "a worker outlived its supervisor"
            time.sleep(0.2)


def _workers(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    out = []
    for c in children:
        try:
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes():
                out.append(int(c))
        except OSError:  # gone meanwhile
            pass
    return out


def _alive(pid: int) -> bool:
    # An exited orphan waits as a zombie until init reaps it: it serves nothing.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
