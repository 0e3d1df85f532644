"""Fixtures for the parse tests."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

from ._checks import HANG_SECONDS


class Hang(BaseException):
    """Raised by the guard; a BaseException so that Hypothesis does not shrink it."""


@pytest.fixture
def hang_guard() -> Iterator[None]:
    """Fail a test still running after three times :data:`HANG_SECONDS` (SIGALRM)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() != threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"still running after {HANG_SECONDS * 3} s: a hang")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS * 3)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
