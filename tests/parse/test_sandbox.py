"""The parse sandbox: a worker's answer equals the in-process parse; a worker that
spins in C, runs out of memory or dies is replaced, and its message is still
scored on what could be read, flagged; one stuck message never holds up another."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from parse.sandbox_parsers import misbehaving
from spamsift.config import ParseLimits
from spamsift.parse import parse_message
from spamsift.parse.sandbox import FALLBACK_BYTES, ParseSandbox

LIMITS = ParseLimits()
HAM = (b"From: Ann <ann@example.org>\nTo: bob@example.net\nSubject: lunch\n"
       b"Date: Tue, 1 Dec 2026 10:00:00 +0000\nContent-Type: text/html\n\n"
       b"<p>Shall we meet at <b>noon</b>? http://example.org/menu</p>\n")


def misbehaving_mail(how: str, body: bytes = b"still here") -> bytes:
    return b"Subject: trouble\nX-Test: " + how.encode() + b"\n\n" + body


@pytest.fixture
def box() -> Iterator[ParseSandbox]:
    sandbox = ParseSandbox(min_bytes=0, timeout=1.0, memory_mb=256, workers=2,
                           parse=misbehaving)
    yield sandbox
    sandbox.close()


def test_a_workers_parse_equals_the_in_process_parse(box: ParseSandbox) -> None:
    assert box.parse(HAM, LIMITS) == parse_message(HAM, LIMITS)
    assert box.stats.parsed == 1


@pytest.mark.parametrize("how, flag, counter, timeout", [
    pytest.param("spin", "truncated:time", "timeouts", 1.0, id="stuck-in-C"),
    # A deadline far past what filling the memory takes, even on a loaded machine.
    pytest.param("hog", "truncated:memory", "memory", 60.0, id="out-of-memory"),
    pytest.param("die", "parser:crash", "crashes", 60.0, id="worker-dies"),
])
def test_a_worker_that_gives_up_is_replaced_and_its_message_still_read(
        box: ParseSandbox, how: str, flag: str, counter: str, timeout: float) -> None:
    box.timeout = timeout
    msg = box.parse(misbehaving_mail(how), LIMITS)
    assert flag in msg.flags
    assert msg.subject == "trouble" and msg.text_plain == "still here"
    assert getattr(box.stats, counter) == 1
    assert box.parse(HAM, LIMITS) == parse_message(HAM, LIMITS)  # a fresh worker
    assert box.stats.started == 2


def test_the_fallback_reads_only_the_start_of_a_large_message(box: ParseSandbox) -> None:
    body = b"early words " + b"x" * (2 * FALLBACK_BYTES) + b" late words"
    msg = box.parse(misbehaving_mail("spin", body), LIMITS)
    assert {"truncated:time", "truncated:bytes"} <= msg.flags
    assert "early words" in msg.text_plain and "late words" not in msg.text_plain
    assert msg.size > 2 * FALLBACK_BYTES


def test_workers_are_recycled_after_max_tasks() -> None:
    box = ParseSandbox(min_bytes=0, max_tasks=2, workers=1, parse=misbehaving)
    try:
        for _ in range(5):
            box.parse(HAM, LIMITS)
        assert box.stats.started == 3 and box.stats.parsed == 5
    finally:
        box.close()


def test_a_stuck_message_does_not_hold_up_the_next() -> None:
    # A long deadline, so "still stuck" cannot be the deadline passing on a slow machine.
    box = ParseSandbox(min_bytes=0, timeout=5.0, workers=2, parse=misbehaving)
    box.warm()
    assert box.stats.started == 2
    try:
        with ThreadPoolExecutor(2) as pool:
            stuck = pool.submit(box.parse, misbehaving_mail("spin"), LIMITS)
            quick = pool.submit(box.parse, HAM, LIMITS)
            assert quick.result().subject == "lunch"
            assert not stuck.done()  # answered while the other was still stuck
            assert "truncated:time" in stuck.result().flags
    finally:
        box.close()


def test_small_messages_are_parsed_in_process() -> None:
    box = ParseSandbox(min_bytes=1024)
    assert not box.wanted(HAM) and box.wanted(HAM + b" " * 1024)
    assert box.prepare_sync(HAM, LIMITS) is HAM
    assert box.stats.started == 0
