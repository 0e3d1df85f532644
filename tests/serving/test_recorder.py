"""Classifications written off the request path: nothing lost on a clean close, a full
queue drops (counted) instead of blocking, a refused message gets no id."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from spamsift.exceptions import StoreError
from spamsift.feedback import FeedbackStore, NewClassification
from spamsift.models.spam_model import Verdict
from spamsift.serving.recorder import ClassificationRecorder

HAM = Verdict(0.1, "ham", -2.2, [("subj:lunch", -0.5)], ["charset:latin1"])


def message(i: int) -> bytes:
    return f"From: ann@example.org\nSubject: note {i}\n\nbody {i}\n".encode()


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = FeedbackStore(f"sqlite:///{tmp_path / 'fb.db'}", max_message_bytes=1000)
    yield s
    s.close()


class Gate:
    """A store whose writes wait until the gate opens; counts what it wrote."""

    def __init__(self, real: Any, fail: bool = False) -> None:
        self.real = real
        self.open = threading.Event()
        self.entered = threading.Event()  # the writer has taken a batch
        self.fail = fail
        self.writes: list[int] = []

    def new_classification(self, *args: Any, **kw: Any) -> NewClassification:
        return self.real.new_classification(*args, **kw)  # type: ignore[no-any-return]

    def record_classifications(self, new: list[NewClassification]) -> None:
        self.entered.set()
        assert self.open.wait(10)
        if self.fail:
            raise StoreError("database is down")
        self.real.record_classifications(new)
        self.writes.append(len(new))


def test_a_clean_close_writes_everything_queued(store: Any) -> None:
    gate = Gate(store)
    rec = ClassificationRecorder(gate)
    ids = [rec.record(message(i), HAM, "v1") for i in range(50)]
    assert None not in ids and rec.pending == 50  # held by the gate: none written yet
    gate.open.set()
    rec.close()
    assert rec.pending == 0 and rec.written == 50 and rec.dropped == rec.failed == 0
    assert sum(gate.writes) == 50 and len(gate.writes) < 50  # in batches
    got = store.get_classification(ids[7])
    assert (got.score, got.verdict, got.model_version, got.clues, got.flags) == (
        0.1, "ham", "v1", (("subj:lunch", -0.5),), ("charset:latin1",))
    assert store.counts().classifications == 50
    assert rec.record(message(99), HAM, "v1") is None  # closed: nothing more is kept


def test_a_full_queue_drops_and_counts_instead_of_waiting(store: Any) -> None:
    gate = Gate(store)
    rec = ClassificationRecorder(gate, max_pending=3)
    assert rec.record(message(0), HAM, "v1") is not None
    assert gate.entered.wait(10)  # the writer took it and waits on the store
    kept = [rec.record(message(i), HAM, "v1") for i in range(1, 4)]
    over = rec.record(message(4), HAM, "v1")  # returns at once, the store still stuck
    assert None not in kept and over is None and rec.dropped == 1
    gate.open.set()
    assert rec.flush(10)
    assert rec.written == 4 and store.get_classification(kept[-1]) is not None
    rec.close()


def test_the_queue_is_bounded_in_bytes_too(store: Any) -> None:
    gate = Gate(store)
    big = message(0) + b"x" * 600
    rec = ClassificationRecorder(gate, max_pending_bytes=1000)
    rec.record(message(1), HAM, "v1")
    assert gate.entered.wait(10)  # the writer took it and waits on the store
    assert rec.record(big, HAM, "v1") is not None
    assert rec.record(big, HAM, "v1") is None and rec.dropped == 1
    gate.open.set()
    rec.close()


def test_a_message_the_store_refuses_gets_no_id(store: Any) -> None:
    rec = ClassificationRecorder(store)
    assert rec.record(b"x" * 2000, HAM, "v1") is None  # over the store's 1000 bytes
    assert rec.record(message(1), Verdict(0.5, "maybe", 0.0), "v1") is None
    assert rec.pending == 0 and rec.dropped == 0
    rec.close()
    assert store.counts().classifications == 0


def test_a_failed_write_is_counted_and_the_writer_goes_on(store: Any) -> None:
    gate = Gate(store, fail=True)
    gate.open.set()
    rec = ClassificationRecorder(gate)
    rec.record(message(1), HAM, "v1")
    assert rec.flush(10) and rec.failed == 1
    gate.fail = False
    cid = rec.record(message(2), HAM, "v1")
    rec.close()
    assert rec.written == 1 and store.get_classification(cid) is not None
