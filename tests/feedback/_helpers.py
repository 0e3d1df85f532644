"""Small things the feedback tests share: messages written by hand, a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def message(n: int, subject: str | None = None) -> bytes:
    """A small message, distinct for each ``n``."""
    subject = subject if subject is not None else f"message {n}"
    return f"From: someone{n}@example.org\nSubject: {subject}\n\nbody {n}\n".encode()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # distinct, increasing times
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
