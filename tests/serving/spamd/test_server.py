"""The daemon in this process, spoken to over loopback sockets byte by byte.

Everything spamc cannot be made to do: half a message then a hang-up, a stall, a
compressed body (Debian's spamc is built without zlib), a wrong Content-length, a
request line that is not the protocol, a scan that fails. After each, the daemon
must still answer the next client.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.spamd.support import exchange, read_all, request, running
from spamsift.config import Settings
from spamsift.db.database import default_url
from spamsift.exceptions import ConfigError
from spamsift.feedback import FeedbackStore
from spamsift.feedback.messages import message_id
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.live import Live, open_live
from spamsift.serving.markup import scan_of
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.spamd.protocol import Ex, SpamdError
from spamsift.serving.spamd.server import SpamdOptions, SpamdServer
from spamsift.training.online import LearningFeedback

HAM = b"From: ann@example.org\r\nSubject: lunch\r\n\r\nNoon at the usual place?\r\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    s = FeedbackStore(default_url(tmp_path))
    yield s
    s.close()


@pytest.fixture
def live(small_model: SpamModel, store: FeedbackStore) -> Live:
    holder = ModelHolder.fixed(copy.deepcopy(small_model), version="small")
    return Live(holder, LearningFeedback(store, lambda: holder.current.model), None)


def make(live: Live, **options: object) -> SpamdServer:
    return SpamdServer(live, Settings(model_poll_seconds=0, top_clues=5),
                       SpamdOptions(**{"timeout": 5.0, **options}))  # type: ignore[arg-type]


def ping(port: int) -> bytes:
    return exchange(port, b"PING SPAMC/1.5\r\n\r\n")


def test_check_gives_the_in_process_verdict(live: Live, small_model: SpamModel,
                                            mail_set: list[tuple[bytes, str]]) -> None:
    with running(make(live)) as port:
        for raw, _ in mail_set[:3] + mail_set[-3:]:
            v = small_model.classify([raw], top=5)[0]
            scan = scan_of(v, small_model.spam_cutoff, "small")
            answer = exchange(port, request("CHECK", raw, "User: ann"))
            spam = "True" if v.verdict == "spam" else "False"
            assert answer == (f"SPAMD/1.1 0 EX_OK\r\nSpam: {spam} ; {scan.shown:.1f} / 5.0"
                              "\r\n\r\n").encode()


def test_a_malformed_request_line_is_ex_protocol_and_the_next_client_is_served(
        live: Live) -> None:
    server = make(live)
    with running(server) as port:
        answer = exchange(port, b"HELLO WORLD\r\n\r\n")
        assert answer.startswith(b"SPAMD/1.0 76 Bad header line: (expected 'METHOD SPAMC/x.y'")
        assert exchange(port, b"CHECK SPAMC/1.5\r\nContent-length: x\r\n\r\n").startswith(
            b"SPAMD/1.0 76 ")
        assert ping(port) == b"SPAMD/1.5 0 PONG\r\n"
    assert server.errors == 2


def test_a_client_that_hangs_up_mid_message(live: Live) -> None:
    server = make(live)
    with running(server) as port:
        full = request("PROCESS", HAM * 100)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(full[: len(full) // 2])
        deadline = time.monotonic() + 10
        while server.errors == 0:
            assert time.monotonic() < deadline, "the daemon never noticed the hang-up"
            time.sleep(0.01)
        assert exchange(port, request("CHECK", HAM)).startswith(b"SPAMD/1.1 0 EX_OK\r\nSpam: ")


def test_a_short_body_is_a_content_length_mismatch(live: Live) -> None:
    with running(make(live)) as port:
        answer = exchange(port, b"CHECK SPAMC/1.5\r\nContent-length: 1000\r\n\r\n" + HAM)
        assert answer == (b"SPAMD/1.0 76 Bad header line: (Content-Length mismatch: expected "
                          b"1000 bytes, got %d bytes)\r\n" % len(HAM))


def test_a_client_that_stalls_times_out(live: Live) -> None:
    server = make(live, timeout=0.5)
    with running(server) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: 100\r\n\r\nSubject: x")
            answer = read_all(s)  # the daemon answers and closes; we never finished
        assert answer.startswith(b"SPAMD/1.0 79 Timeout: (0.5 second socket timeout")
        assert ping(port) == b"SPAMD/1.5 0 PONG\r\n"


@pytest.mark.parametrize("headers", [
    pytest.param(True, id="content-length"),
    pytest.param(False, id="to-end-of-input"),
])
def test_too_big_is_ex_toobig(live: Live, headers: bool) -> None:
    with running(make(live, max_size=1000)) as port:
        body = HAM * 40
        data = (request("CHECK", body) if headers
                else b"CHECK SPAMC/1.5\r\nUser: ann\r\n\r\n" + body)
        answer = exchange(port, data)
        assert answer.startswith(b"SPAMD/1.0 98 Message too big: ")
        assert exchange(port, request("CHECK", HAM)).startswith(b"SPAMD/1.1 0 EX_OK")


def test_without_content_length_the_message_runs_to_the_end(live: Live) -> None:
    with running(make(live)) as port:
        with_length = exchange(port, request("SYMBOLS", HAM))
        without = exchange(port, b"SYMBOLS SPAMC/1.5\r\n\r\n" + HAM)
        assert with_length == without


def test_zlib_bodies(live: Live) -> None:
    with running(make(live, max_size=2000)) as port:
        plain = exchange(port, request("PROCESS", HAM))
        packed = exchange(port, request("PROCESS", zlib.compress(HAM), "Compress: zlib"))
        assert packed == plain
        bad = exchange(port, request("CHECK", b"not zlib", "Compress: zlib"))
        assert bad.startswith(b"SPAMD/1.0 65 EX_DATAERR: (zlib: ")
        bomb = exchange(port, request("CHECK", zlib.compress(b"a" * 100_000), "Compress: zlib"))
        assert bomb.startswith(b"SPAMD/1.0 98 Message too big: (message inflates to more")


def test_protocol_1_0_process(live: Live) -> None:
    with running(make(live)) as port:
        answer = exchange(port, b"PROCESS SPAMC/1.0\r\n" + HAM)
        assert answer.startswith(b"SPAMD/1.0 0 EX_OK\r\nFrom: ann@example.org\r\n")
        assert answer.endswith(b"\r\n\r\nNoon at the usual place?\r\n")


def test_headers_answers_the_header_part_only(live: Live) -> None:
    with running(make(live)) as port:
        full = exchange(port, request("PROCESS", HAM)).partition(b"\r\n\r\n")[2]
        head = exchange(port, request("HEADERS", HAM)).partition(b"\r\n\r\n")[2]
        assert full.startswith(head) and head.endswith(b"\r\n\r\n")
        assert full[len(head):] == b"Noon at the usual place?\r\n"


def _wrap_classify(live: Live, before: object) -> None:
    """Run ``before(raws)`` ahead of every classify call of the served model."""
    model = live.holder.current.model
    classify = model.classify

    def wrapped(items, top=8):  # type: ignore[no-untyped-def]
        before(items)  # type: ignore[operator]
        return classify(items, top=top)

    model.classify = wrapped  # type: ignore[method-assign]


def test_a_slow_scan_does_not_hold_up_other_clients(live: Live) -> None:
    release = threading.Event()
    _wrap_classify(live, lambda raws: any(b"SLOW" in r for r in raws) and release.wait(20))
    with running(make(live)) as port:
        slow: list[bytes] = []
        t = threading.Thread(target=lambda: slow.append(
            exchange(port, request("CHECK", b"Subject: SLOW\r\n\r\nx"))))
        t.start()
        time.sleep(0.2)
        assert exchange(port, request("CHECK", HAM), timeout=5).startswith(b"SPAMD/1.1 0 EX_OK")
        assert not slow  # still waiting
        release.set()
        t.join(20)
        assert slow and slow[0].startswith(b"SPAMD/1.1 0 EX_OK")


def test_a_failing_scan_is_ex_software_and_the_daemon_goes_on(live: Live) -> None:
    def fail(raws: list[bytes]) -> None:
        if any(b"BREAK" in r for r in raws):
            raise RuntimeError("boom")

    _wrap_classify(live, fail)
    with running(make(live)) as port:
        answer = exchange(port, request("CHECK", b"Subject: BREAK\r\n\r\nx"))
        assert answer.startswith(b"SPAMD/1.0 70 EX_SOFTWARE: ")
        assert exchange(port, request("CHECK", HAM)).startswith(b"SPAMD/1.1 0 EX_OK")


def test_busy_daemons_score_in_batches_with_the_verdicts_of_one_by_one(
        live: Live, small_model: SpamModel, mail_set: list[tuple[bytes, str]]) -> None:
    gate = threading.Event()

    def held(raws: list[bytes]) -> None:
        gate.wait(20)
        if any(b"BREAK" in r for r in raws):  # fails its batch: the others still get answers
            raise RuntimeError("boom")

    _wrap_classify(live, held)
    server = make(live, threads=1)
    raws = [raw for raw, _ in mail_set[::4]] + [b"Subject: BREAK\r\n\r\nx"]
    with running(server) as port:
        answers: dict[int, bytes] = {}
        threads = [threading.Thread(target=lambda i=i, r=r: answers.__setitem__(
            i, exchange(port, request("CHECK", r)))) for i, r in enumerate(raws)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # all queued behind the first batch
        gate.set()
        for t in threads:
            t.join(20)
    assert server.batcher.batches < len(raws)
    assert answers[len(raws) - 1].startswith(b"SPAMD/1.0 70 EX_SOFTWARE: ")
    for i, raw in enumerate(raws[:-1]):
        v = small_model.classify([raw], top=5)[0]
        shown = scan_of(v, small_model.spam_cutoff, "small").shown
        assert answers[i].endswith(f"; {shown:.1f} / 5.0\r\n\r\n".encode())


def _score(answer: bytes) -> float:
    line = answer.split(b"\r\n")[1].decode()  # Spam: X ; score / 5.0
    return float(line.split(";")[1].split("/")[0])


def test_tell_learns_and_forgets_per_user(live: Live, store: FeedbackStore) -> None:
    with running(make(live, allow_tell=True)) as port:
        before = _score(exchange(port, request("CHECK", HAM)))
        learn = ("Message-class: spam", "Set: local")
        assert exchange(port, request("TELL", HAM, *learn, "User: ann")) == (
            b"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n")
        assert exchange(port, request("TELL", HAM, *learn, "User: ann")) == (
            b"SPAMD/1.1 0 EX_OK\r\n\r\n")  # already learned
        assert exchange(port, request("TELL", HAM, *learn, "User: bob")).endswith(
            b"DidSet: local\r\n\r\n")
        after = _score(exchange(port, request("CHECK", HAM)))
        assert after > before
        events = store.events(message_id=message_id(HAM))
        assert sorted(e.user for e in events) == ["ann", "bob"]
        assert {e.source for e in events} == {"spamd"}
        # ann forgets: bob's vote stands, so the label (and the model) stay
        assert exchange(port, request("TELL", HAM, "Remove: local", "User: ann")).endswith(
            b"DidRemove: local\r\n\r\n")
        assert exchange(port, request("TELL", HAM, "Remove: local", "User: ann")) == (
            b"SPAMD/1.1 0 EX_OK\r\n\r\n")
        assert _score(exchange(port, request("CHECK", HAM))) == after
        assert exchange(port, request("TELL", HAM, "Remove: local", "User: bob")).endswith(
            b"DidRemove: local\r\n\r\n")
        assert _score(exchange(port, request("CHECK", HAM))) == before
        # without a User header the voter is "spamd"; remote reporting is not done
        assert exchange(port, request("TELL", HAM, "Message-class: ham", "Set: local,remote")
                        ).endswith(b"DidSet: local\r\n\r\n")
        assert store.events(limit=1, message_id=message_id(HAM))[0].user == "spamd"


def test_tell_learns_the_scanned_message_from_a_processed_copy(live: Live,
                                                              store: FeedbackStore) -> None:
    with running(make(live, allow_tell=True)) as port:
        processed = exchange(port, request("PROCESS", HAM)).partition(b"\r\n\r\n")[2]
        assert b"X-Spam-Status: " in processed
        exchange(port, request("TELL", processed, "Message-class: spam", "Set: local"))
        assert store.events(message_id=message_id(HAM))[0].label == "spam"


@pytest.mark.parametrize(("options", "feedback", "answer"), [
    pytest.param({}, True, b"SPAMD/1.0 77 Permission denied: ", id="off-by-default"),
    pytest.param({"allow_tell": False}, True, b"SPAMD/1.0 77 Permission denied: ",
                 id="no-tell"),
    pytest.param({"allow_tell": True}, True, b"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n",
                 id="allow-tell-from-loopback"),
    pytest.param({"allow_tell": True}, False, b"SPAMD/1.0 69 Service Unavailable: ",
                 id="no-store"),
])
def test_who_may_tell(live: Live, store: FeedbackStore, options: dict[str, bool],
                      feedback: bool, answer: bytes) -> None:
    if not feedback:
        live = live._replace(feedback=None)
    with running(make(live, **options)) as port:
        got = exchange(port, request("TELL", HAM, "Message-class: spam", "Set: local"))
        assert got.startswith(answer), got
        assert ping(port).endswith(b"PONG\r\n")  # a refusal leaves the daemon serving
    learned = answer.startswith(b"SPAMD/1.1 0 EX_OK")
    assert len(store.events(message_id=message_id(HAM))) == (1 if learned else 0)


@pytest.mark.parametrize(("options", "peer", "allowed"), [
    pytest.param({}, ("127.0.0.1", 4000), False, id="off-even-for-loopback"),
    pytest.param({"allow_tell": True}, ("127.0.0.1", 4000), True, id="loopback"),
    pytest.param({"allow_tell": True}, ("::1", 4000, 0, 0), True, id="loopback-v6"),
    pytest.param({"allow_tell": True}, ("::ffff:127.0.0.1", 4000, 0, 0), True,
                 id="loopback-v4-mapped"),
    pytest.param({"allow_tell": True}, "", True, id="unix-socket"),
    pytest.param({"allow_tell": True}, ("10.1.2.3", 4000), False, id="remote"),
    pytest.param({"allow_tell": True}, None, False, id="unknown-peer"),
    pytest.param({"allow_tell": True, "allowed_ips": ("10.0.0.0/8",)}, ("10.1.2.3", 4000),
                 True, id="in-allowed-ips"),
    pytest.param({"allow_tell": True, "allowed_ips": ("10.0.0.0/8", "192.0.2.7")},
                 ("192.0.2.8", 4000), False, id="outside-allowed-ips"),
    pytest.param({"allow_tell": True, "allowed_ips": ("2001:db8::/32",)},
                 ("2001:db8::25", 4000, 0, 0), True, id="in-allowed-ips-v6"),
])
def test_who_may_tell_by_address(live: Live, options: dict[str, object], peer: object,
                                 allowed: bool) -> None:
    server = make(live, **options)
    assert server.options.may_tell(peer) is allowed
    if allowed:
        server._check_tell_allowed(peer)
    else:
        with pytest.raises(SpamdError) as refused:
            server._check_tell_allowed(peer)
        assert refused.value.code == Ex.EX_NOPERM


def test_the_size_cap_is_the_settings_unless_options_say_otherwise(live: Live) -> None:
    small = Settings(limits={"max_message_bytes": 1000})
    assert SpamdServer(live, small).options.max_size == 1000
    assert SpamdServer(live, small, SpamdOptions(max_size=500)).options.max_size == 500


def test_a_version_activated_in_the_registry_is_served(tmp_path: Path,
                                                       small_model: SpamModel) -> None:
    registry = ModelRegistry(tmp_path / "models")
    for version in ("v1", "v2"):
        registry.add(lambda p: save_model(small_model, p), version=version)
    registry.activate("v1")
    live = open_live(tmp_path, Settings())
    server = SpamdServer(live, Settings(model_poll_seconds=0.05), SpamdOptions())
    with running(server) as port:
        assert b"X-Spamsift-Model: v1\r\n" in exchange(port, request("PROCESS", HAM))
        registry.activate("v2")
        deadline = time.monotonic() + 10
        while b"X-Spamsift-Model: v2\r\n" not in exchange(port, request("PROCESS", HAM)):
            assert time.monotonic() < deadline, "the new version was never served"
            time.sleep(0.05)


@pytest.mark.parametrize(("args", "named"), [
    pytest.param(["--max-size", "0"], "max_size", id="max-size"),
    pytest.param(["--timeout", "0"], "timeout", id="timeout"),
    pytest.param(["--log-level", "chatty"], "chatty", id="log-level"),
    pytest.param(["--allow-tell", "--allowed-ips", "10.0.0.0/8,10.0.0.300"], "10.0.0.300",
                 id="bad-address"),
    pytest.param(["--allow-tell", "-A", "10.0.0.0/8", "-A", "10.1.2.3/8"], "10.1.2.3/8",
                 id="host-bits-set"),
    pytest.param(["--allowed-ips", "10.0.0.0/8"], "--allow-tell", id="allowed-ips-alone"),
])
def test_bad_options_are_configuration_errors(tmp_path: Path, args: list[str],
                                              named: str) -> None:
    from typer.testing import CliRunner

    from spamsift.cli import app

    result = CliRunner().invoke(app, ["spamd", "--data-dir", str(tmp_path), "--port", "0",
                                      *args])
    assert result.exit_code == 6, result.output
    assert named in " ".join(result.output.split()), result.output


def test_allowed_ips_repeat_and_split_on_commas() -> None:
    options = SpamdOptions(allow_tell=True, allowed_ips=("10.0.0.0/8, 192.0.2.7",
                                                         "2001:db8::/32"))
    assert [str(n) for n in options.allowed_ips] == ["10.0.0.0/8", "192.0.2.7/32",
                                                     "2001:db8::/32"]


def test_a_port_it_cannot_listen_on_is_a_config_error(live: Live) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = make(live)
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            asyncio.run(server.start("127.0.0.1", port))
