"""``spamsift spamd`` as mail systems run it, driven by Debian's real ``spamc``.

The daemon runs as a subprocess (``spamsift spamd --host 127.0.0.1 --port P
--data-dir DIR``, and ``--allow-tell`` where it learns) on a fresh data folder, so it
serves the bundled model; the
verdicts spamc reports must be those of the same model loaded in this process
(what ``spamsift classify`` and ``POST /v1/classify`` give). Everything stays on the
loopback address; every wait is bounded.

Without ``spamc`` installed these tests are skipped, except under ``CI=true``, where
they fail (``tests/needs.py``); ``make test`` as root installs it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from needs import which
from spamsift.config import Settings
from spamsift.db.database import default_url
from spamsift.feedback import FeedbackStore
from spamsift.feedback.messages import message_id
from spamsift.models.spam_model import SpamModel
from spamsift.serving.markup import scan_of, strip_markup, symbol
from spamsift.serving.server import build_app
from spamsift.serving.service import resolve_model

SPAMC = which("spamc")
pytestmark = pytest.mark.needs("spamc")

MAX_SIZE = 200_000
Mail = list[tuple[bytes, str]]


class Daemon:
    """One ``spamsift spamd`` subprocess on a free loopback port; ``options`` are added."""

    def __init__(self, data_dir: Path, *options: str) -> None:
        self.data_dir = data_dir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # No DNS checks: the verdicts are compared with the model alone (authentication
        # at the doors: tests/mailauth/test_doors.py).
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")},
               "SPAMSIFT_AUTH_VERIFY": "never"}
        self.log = data_dir.parent / f"spamd-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spamsift.cli", "spamd", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(data_dir), "--max-size", str(MAX_SIZE),
             *options],
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while self.spamc("-K").returncode != 0:
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "spamsift spamd did not answer PING in 60 s"
            time.sleep(0.1)

    def spamc(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(SPAMC), "-d", "127.0.0.1", "-p", str(self.port),
                               "-s", "1000000", "-t", "30", *args],
                              input=stdin, capture_output=True, timeout=60, check=False)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            assert self.proc.wait(20) == 0, self.log.read_text()
        finally:
            self._log.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("spamd") / "data")
    yield d
    d.stop()


@pytest.fixture(scope="module")
def bundled() -> SpamModel:
    return resolve_model(None)


@pytest.fixture(scope="module")
def examples(mail_set: Mail, bundled: SpamModel) -> dict[str, bytes]:
    """A message the bundled model calls spam, and one it calls ham."""
    verdicts = bundled.classify([raw for raw, _ in mail_set], top=0)
    first = {}
    for (raw, _), v in zip(mail_set, verdicts, strict=True):
        first.setdefault(v.verdict, raw)
    return first


def _check_line(model: SpamModel, raw: bytes) -> tuple[str, int]:
    v = model.classify([raw], top=8)[0]
    scan = scan_of(v, model.spam_cutoff, "bundled")
    return f"{scan.shown:.1f}/5.0\n", int(scan.is_spam)


def test_check_exit_codes_and_scores_are_the_models(daemon: Daemon, bundled: SpamModel,
                                                    mail_set: Mail) -> None:
    sample = mail_set[::5]  # ham and spam, some of them unsure
    for raw, _ in sample:
        r = daemon.spamc("-c", stdin=raw)
        assert (r.stdout.decode(), r.returncode) == _check_line(bundled, raw)
    assert {daemon.spamc("-c", stdin=raw).returncode for raw, _ in sample} == {0, 1}


def test_every_door_gives_the_same_verdict(daemon: Daemon, bundled: SpamModel,
                                           mail_set: Mail) -> None:
    raws = [raw for raw, _ in mail_set[1::9]]
    # The REST API on the daemon's own data folder (classify only: no stores opened).
    with TestClient(build_app(daemon.data_dir, Settings(model_poll_seconds=0,
                                                          auth_verify="never"))) as rest:
        for raw, v in zip(raws, bundled.classify(raws), strict=True):
            body = rest.post("/v1/classify", content=raw).json()
            assert (body["verdict"], body["score"]) == (v.verdict, pytest.approx(v.score))
            spamd = daemon.spamc("-E", stdin=raw)
            flag = b"X-Spamsift-Verdict: " + v.verdict.encode()
            assert flag in spamd.stdout
            assert b"X-Spamsift-Probability: %.6f" % v.score in spamd.stdout
            assert spamd.returncode == int(v.verdict == "spam")


def test_process_adds_headers_and_keeps_the_message(daemon: Daemon, bundled: SpamModel,
                                                    examples: dict[str, bytes]) -> None:
    for verdict, raw in examples.items():
        r = daemon.spamc(stdin=raw)
        assert r.returncode == 0
        out = r.stdout
        yes = verdict == "spam"
        assert (b"X-Spam-Flag: YES" if yes else b"X-Spam-Flag: NO") in out
        assert (b"X-Spam-Status: Yes, score=" if yes else b"X-Spam-Status: No, score=") in out
        assert b"X-Spam-Score: " in out and b"X-Spamsift-Clues: " in out
        assert strip_markup(out) == raw  # every other byte as it came
        head, body = raw.split(b"\n\n", 1)
        assert out.startswith(head) and out.endswith(b"\n\n" + body)
        assert daemon.spamc("--headers", stdin=raw).stdout == out


def test_symbols_and_reports(daemon: Daemon, bundled: SpamModel,
                             examples: dict[str, bytes]) -> None:
    spam, ham = examples["spam"], examples["ham"]
    v = bundled.classify([spam], top=8)[0]
    assert daemon.spamc("-y", stdin=spam).stdout.decode().strip() == ",".join(
        symbol(c) for c, _ in v.clues)
    report = daemon.spamc("-R", stdin=spam)
    first, _, rest = report.stdout.decode().partition("\n")
    assert first + "\n" == _check_line(bundled, spam)[0]
    assert "Content analysis details:" in rest and "spamsift:rest" in rest
    assert daemon.spamc("-r", stdin=spam).stdout == report.stdout
    assert daemon.spamc("-r", stdin=ham).stdout == b""  # REPORT_IFSPAM on ham: nothing
    assert daemon.spamc("-R", stdin=ham).stdout.startswith(
        _check_line(bundled, ham)[0].encode())


def test_ping(daemon: Daemon) -> None:
    r = daemon.spamc("-K")
    assert (r.returncode, r.stdout) == (0, b"SPAMD/1.5 0\n")


def test_an_oversized_message_comes_back_untouched(daemon: Daemon) -> None:
    big = b"Subject: big\n\n" + b"word " * (MAX_SIZE // 4)
    assert len(big) > MAX_SIZE
    r = daemon.spamc(stdin=big)  # the daemon answers EX_TOOBIG; spamc falls back
    assert (r.returncode, r.stdout) == (0, big)
    assert daemon.spamc("-c", stdin=big).stdout == b"0/0\n"
    assert daemon.spamc("-x", stdin=big).returncode != 0  # no safe fallback: an error
    assert b"EX_TOOBIG" in daemon.log.read_bytes()
    assert daemon.spamc("-K").returncode == 0


def _raw(daemon: Daemon, data: bytes, *, hang_up: bool = False) -> bytes:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as s:
        s.sendall(data)
        if hang_up:
            return b""
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_client_that_disconnects_mid_message(daemon: Daemon, bundled: SpamModel,
                                               examples: dict[str, bytes]) -> None:
    raw = examples["spam"]
    _raw(daemon, b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(raw)
         + raw[: len(raw) // 2], hang_up=True)
    r = daemon.spamc("-c", stdin=raw)
    assert (r.stdout.decode(), r.returncode) == _check_line(bundled, raw)


def test_a_malformed_request_is_ex_protocol(daemon: Daemon) -> None:
    answer = _raw(daemon, b"FROBNICATE SPAMC/1.5\r\nContent-length: 2\r\n\r\nhi")
    assert answer.startswith(b"SPAMD/1.0 76 Bad header line: ")
    assert daemon.spamc("-K").returncode == 0


def test_exims_request_gets_an_answer_exim_parses(daemon: Daemon, bundled: SpamModel,
                                                 examples: dict[str, bytes]) -> None:
    # Exim's spam.c sends this request and reads the answer with
    # sscanf("SPAMD/%7s 0 EX_OK\r\nSpam: %*s ; %lf / %lf\r\n\r\n%n").
    for raw in examples.values():
        answer = _raw(daemon, b"REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: %d\r\n"
                      b"\r\n" % len(raw) + raw)
        m = re.match(rb"SPAMD/\S{1,7} 0 EX_OK\r\nSpam: \S+ ; (-?[\d.]+) / (-?[\d.]+)\r\n\r\n",
                     answer)
        assert m is not None, answer[:200]
        score, threshold = float(m.group(1)), float(m.group(2))
        assert (score >= threshold) == (bundled.classify([raw])[0].verdict == "spam")
        assert b"Content analysis details:" in answer[m.end():]


def _score(d: Daemon, raw: bytes) -> float:
    return float(d.spamc("-c", stdin=raw).stdout.split(b"/")[0])


def _events(data_dir: Path, raw: bytes) -> list[str]:
    """The labels of the feedback events on ``raw`` in the daemon's store."""
    store = FeedbackStore(default_url(data_dir))
    try:
        return [e.label for e in store.events(message_id=message_id(raw))]
    finally:
        store.close()


def test_tell_is_refused_by_default(daemon: Daemon, examples: dict[str, bytes]) -> None:
    raw = examples["ham"]
    before = _score(daemon, raw)
    for action in ("spam", "ham", "forget"):
        r = daemon.spamc("-L", action, stdin=raw)
        assert r.returncode != 0 and b"successfully" not in r.stdout, r
    assert b"EX_NOPERM" in daemon.log.read_bytes()
    assert _events(daemon.data_dir, raw) == []
    assert _score(daemon, raw) == before


def test_learning_and_forgetting(tmp_path: Path, examples: dict[str, bytes]) -> None:
    # its own daemon: learning moves the model
    d = Daemon(tmp_path / "data", "--allow-tell")
    try:
        raw = examples["ham"]
        before = _score(d, raw)
        r = d.spamc("-L", "spam", stdin=raw)
        assert (r.returncode, r.stdout) == (0, b"Message successfully un/learned\n")
        assert d.spamc("-L", "spam", stdin=raw).stdout == b"Message was already un/learned\n"
        as_spam = _score(d, raw)
        assert as_spam > before
        assert d.spamc("-L", "forget", stdin=raw).stdout == b"Message successfully un/learned\n"
        assert _score(d, raw) == before  # exactly unlearned
        assert d.spamc("-L", "forget", stdin=raw).stdout == b"Message was already un/learned\n"
        assert d.spamc("-L", "ham", stdin=raw).returncode == 0
        assert _score(d, raw) < before
        # learning a processed copy is learning the message: no new message, no new vote
        processed = d.spamc(stdin=raw).stdout
        assert d.spamc("-L", "ham", stdin=processed).stdout == (
            b"Message was already un/learned\n")
        assert d.spamc("-C", "report", stdin=raw).stdout == b"Unable to report/revoke message\n"
        assert set(_events(d.data_dir, raw)) == {"spam", "ham"}  # in the daemon's store
    finally:
        d.stop()
