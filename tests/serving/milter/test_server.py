"""``spamsift milter`` as an MTA talks to it: the milter protocol over TCP.

The daemon runs as a subprocess on a fresh data folder (so it serves the bundled
model) and :mod:`tests.serving.milter.mta` plays the MTA, offering what Postfix
offers. Its verdicts must be those of the same model loaded here (what
``spamsift classify``, ``spamc`` and ``POST /v1/classify`` give), and its headers
those spamd's ``PROCESS`` writes. Everything stays on loopback; every wait is bounded.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spamsift.models.spam_model import SpamModel
from spamsift.serving.markup import Scan, header_lines, scan_of
from spamsift.serving.service import resolve_model

from .conftest import MilterDaemon
from .mta import MTA, frame

pytestmark = pytest.mark.needs("pymilter")
Mail = list[tuple[bytes, str]]
MAX_SIZE = 100_000


@pytest.fixture(scope="module")
def bundled() -> SpamModel:
    return resolve_model(None)


@pytest.fixture(scope="module")
def scans(mail_set: Mail, bundled: SpamModel) -> list[tuple[bytes, Scan]]:
    raws = [raw for raw, _ in mail_set[::3]]
    return [(raw, scan_of(v, bundled.spam_cutoff, "bundled"))
            for raw, v in zip(raws, bundled.classify(raws, top=8), strict=True)]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilterDaemon]:
    d = MilterDaemon(tmp_path_factory.mktemp("milter") / "data", "--max-size", str(MAX_SIZE))
    yield d
    assert d.stop() == 0, d.log.read_text()


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory,
           scans: list[tuple[bytes, Scan]]) -> Iterator[tuple[MilterDaemon, float]]:
    """A milter that quarantines spam and rejects the spam scoring above the median spam."""
    spam = sorted(s.shown for _, s in scans if s.is_spam)
    assert len(spam) >= 4, "the mail set needs spam the bundled model calls spam"
    reject = spam[len(spam) // 2]
    d = MilterDaemon(tmp_path_factory.mktemp("strict") / "data",
                     "--quarantine-score", "5.0", "--reject-score", str(reject))
    yield d, reject
    assert d.stop() == 0, d.log.read_text()


def _version(out_headers: dict[str, str]) -> str:
    return out_headers["X-Spamsift-Model"]


def test_negotiation_asks_only_for_what_it_uses(daemon: MilterDaemon) -> None:
    with MTA("127.0.0.1", daemon.port) as mta:
        actions, protocol = mta.negotiate()
    assert actions == 0x01 | 0x10 | 0x20  # add headers, change headers, quarantine
    # connect and HELO (for SPF: the client's address and name) without replies; no rcpt
    assert not protocol & 0x01 and not protocol & 0x02 and protocol & 0x08
    assert protocol & 0x1000 and protocol & 0x2000  # no replies to connect and HELO
    assert protocol & 0x80 and protocol & 0x80000  # no replies to headers and body chunks


def test_every_door_gives_the_same_verdict_and_headers(daemon: MilterDaemon,
                                                       scans: list[tuple[bytes, Scan]]) -> None:
    with MTA("127.0.0.1", daemon.port) as mta:
        mta.negotiate()
        for raw, scan in scans:  # many messages on one connection, as an MTA sends them
            out = mta.message(raw)
            assert out.final == b"a"
            got = out.headers
            assert got["X-Spamsift-Probability"] == f"{scan.verdict.score:.6f}"
            assert got["X-Spamsift-Verdict"] == scan.verdict.verdict
            assert got["X-Spam-Flag"] == ("YES" if scan.is_spam else "NO")
            # the very header lines spamd's PROCESS writes (the daemon's model
            # is the bundled one, under the version its registry gave it)
            expect = header_lines(Scan(scan.verdict, _version(got), scan.score, scan.shown))
            assert out.added == _fields(expect)
    assert {s.verdict.verdict for _, s in scans} >= {"spam", "ham"}


def _fields(lines: list[str]) -> list[tuple[str, str]]:
    """spamd's header lines as (name, value) with folded lines joined by LF."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith("\t"):
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
        else:
            name, _, value = line.partition(":")
            out.append((name, value.strip()))
    return out


def test_forged_markup_is_removed(daemon: MilterDaemon) -> None:
    raw = (b"From: ann@example.org\nX-Spam-Flag: NO\nSubject: hi\nX-Spam-Status: No, "
           b"score=-100\nx-spam-flag: NO\nX-Spamsift-Verdict: ham\n\nHello there.\n")
    with MTA("127.0.0.1", daemon.port) as mta:
        mta.negotiate()
        out = mta.message(raw)
    # Deleted from the last to the first, so the indexes stay right as they go.
    assert out.changed == [(1, "X-Spamsift-Verdict", ""), (2, "x-spam-flag", ""),
                           (1, "X-Spam-Status", ""), (1, "X-Spam-Flag", "")]
    assert "X-Spam-Flag" in out.headers


def test_spam_is_quarantined_or_rejected_above_the_cut_offs(
        strict: tuple[MilterDaemon, float], scans: list[tuple[bytes, Scan]]) -> None:
    d, reject = strict
    seen = set()
    with MTA("127.0.0.1", d.port) as mta:
        mta.negotiate()
        for raw, scan in scans:
            out = mta.message(raw)
            if not scan.is_spam:
                assert (out.final, out.quarantine) == (b"a", None)
                seen.add("accept")
            elif scan.shown >= reject:
                assert out.final == b"y"
                assert out.reply == b"550 5.7.1 Message classified as spam"
                seen.add("reject")
            else:
                assert out.final == b"a"
                assert out.quarantine == f"spamsift: spam, score {scan.shown:.1f}"
                assert out.headers["X-Spam-Flag"] == "YES"
                seen.add("quarantine")
    assert seen == {"accept", "reject", "quarantine"}


def test_an_oversized_message_is_scored_on_what_was_kept(daemon: MilterDaemon,
                                                         bundled: SpamModel) -> None:
    big = b"Subject: a big one\nFrom: ann@example.org\n\n" + b"word and more words\n" * 20_000
    with MTA("127.0.0.1", daemon.port) as mta:
        mta.negotiate()
        out = mta.message(big)
    assert out.final == b"a"
    kept = big[:MAX_SIZE]
    expect = bundled.classify([kept])[0]
    assert out.headers["X-Spamsift-Probability"] == f"{expect.score:.6f}"
    assert b"(truncated)" in daemon.log.read_bytes()


def _raw_conversation(port: int, data: bytes) -> bytes:
    """Send ``data``, read until the milter closes (or 10 s pass), return what came."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return out


OPTNEG = frame(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))


@pytest.mark.parametrize("data", [
    pytest.param(b"GET / HTTP/1.0\r\n\r\n", id="not-milter"),
    pytest.param(struct.pack(">I", 0x7FFFFFFF) + b"B", id="huge-length"),
    pytest.param(frame(b"O", b"\0\0"), id="short-negotiation"),
    pytest.param(OPTNEG + frame(b"Z", b"junk"), id="unknown-command"),
])
def test_a_malformed_conversation_is_closed_and_others_go_on(daemon: MilterDaemon,
                                                             data: bytes) -> None:
    # libmilter's answer to a frame it cannot take is to end that connection; the
    # MTA then applies its milter_default_action to that message.
    answer = _raw_conversation(daemon.port, data)
    if data.startswith(OPTNEG):  # the negotiation was answered, then the line hung up
        assert answer[4:5] == b"O" and len(answer) == 4 + struct.unpack(">I", answer[:4])[0]
    else:
        assert answer == b""
    with MTA("127.0.0.1", daemon.port) as mta:
        mta.negotiate()
        assert mta.message(b"Subject: still there?\n\nyes\n").final == b"a"


def test_an_mta_that_goes_away_mid_message(daemon: MilterDaemon) -> None:
    mta = MTA("127.0.0.1", daemon.port)
    mta.negotiate()
    mta.send(b"M", b"<ann@example.org>\0")
    mta.recv()
    mta.send(b"L", b"Subject\0half a message\0")
    mta.send(b"B", b"and then nothing")
    mta.close()
    with MTA("127.0.0.1", daemon.port) as again:
        again.negotiate()
        assert again.message(b"Subject: next\n\nhello\n").final == b"a"


def test_an_aborted_message_does_not_leak_into_the_next(daemon: MilterDaemon,
                                                        bundled: SpamModel) -> None:
    clean = b"Subject: lunch\nFrom: bob@example.com\n\nSee you at noon.\n"
    with MTA("127.0.0.1", daemon.port) as mta:
        mta.negotiate()
        mta.send(b"M", b"<x@example.net>\0")
        mta.recv()
        mta.send(b"L", b"Subject\0FREE MONEY click here now\0")
        mta.send(b"A")  # the SMTP client sent RSET
        out = mta.message(clean)
    assert out.headers["X-Spamsift-Probability"] == f"{bundled.classify([clean])[0].score:.6f}"


def test_a_bad_cut_off_is_a_configuration_error(tmp_path: Path) -> None:
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "spamsift.cli", "milter", "--port", "1",
                        "--data-dir", str(tmp_path), "--reject-score", "2"],
                       capture_output=True, timeout=60, check=False)
    assert r.returncode == 6, r.stderr
    assert b"reject_score" in r.stderr


def _probability(port: int, raw: bytes) -> float:
    with MTA("127.0.0.1", port) as mta:
        mta.negotiate()
        return float(mta.message(raw).headers["X-Spamsift-Probability"])


def test_feedback_given_through_another_process_moves_the_milter(
        tmp_path: Path, scans: list[tuple[bytes, Scan]]) -> None:
    from spamsift.config import Settings
    from spamsift.datadir import open_stores

    raw = next(raw for raw, s in scans if s.verdict.verdict == "ham")
    data = tmp_path / "data"
    d = MilterDaemon(data, env={"SPAMSIFT_FEEDBACK_POLL_SECONDS": "0.2"})
    try:
        before = _probability(d.port, raw)
        # Another process on the same folder (the REST API, spamd, `spamsift learn`)
        # records a vote in the folder's store; the milter follows the store.
        _, store = open_stores(data, Settings(data_dir=data))
        event_id = store.add_feedback(raw, label="spam", user="ann", source="test").event_id
        deadline = time.monotonic() + 30
        while (after := _probability(d.port, raw)) <= before:
            assert time.monotonic() < deadline, "the milter did not learn the vote in 30 s"
            time.sleep(0.2)
        store.retract(event_id, by="ann")
        while _probability(d.port, raw) != before:
            assert time.monotonic() < deadline, "the milter did not unlearn the vote"
            time.sleep(0.2)
        assert after > before
    finally:
        assert d.stop() == 0, d.log.read_text()


def test_no_delay_is_set_on_the_listening_socket_only() -> None:
    from spamsift.serving.milter.server import _no_delay

    with socket.socket() as listener, socket.socket() as other:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        other.bind(("127.0.0.1", 0))  # bound, not listening: not libmilter's
        port = listener.getsockname()[1]
        assert _no_delay(port)
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert not other.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert not _no_delay(other.getsockname()[1])
