"""The one batcher of every door: slots, keys, bounds, faults (REST's use of it is
tested in tests/serving/api/test_batching.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from spamsift.serving.batching import Batcher


class Recorder:
    """Answers each item with itself upper-cased; raises on a batch holding 'bad'."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.batches: list[list[str]] = []
        self.busy = 0
        self.most_busy = 0
        self.lock = threading.Lock()

    def __call__(self, items: list[str]) -> list[str]:
        with self.lock:
            self.batches.append(list(items))
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        try:
            time.sleep(self.delay)
            if "bad" in items:
                raise ValueError("cannot score 'bad'")
            return [i.upper() for i in items]
        finally:
            with self.lock:
                self.busy -= 1


def _run(batcher: Batcher[str], first: str, rest: list[str]) -> list[object]:
    async def go() -> list[object]:
        head = asyncio.ensure_future(batcher.submit(first))
        await asyncio.sleep(0.02)  # the first is being scored; the rest queue behind it
        return await asyncio.gather(head, *(batcher.submit(i) for i in rest),
                                    return_exceptions=True)
    return asyncio.run(go())


def test_waiting_items_share_a_call_and_keep_their_order() -> None:
    rec = Recorder(delay=0.05)
    out = _run(Batcher(rec, max_batch=3), "a", ["b", "c", "d", "e"])
    assert out == ["A", "B", "C", "D", "E"]
    assert rec.batches == [["a"], ["b", "c", "d"], ["e"]]


def test_several_slots_score_batches_at_once_in_the_pool() -> None:
    rec = Recorder(delay=0.1)
    with ThreadPoolExecutor(2) as pool:
        out = _run(Batcher(rec, pool=pool, slots=2, max_batch=2), "a", ["b", "c"])
    assert out == ["A", "B", "C"] and rec.most_busy == 2


def test_only_items_with_one_key_and_within_the_bytes_share_a_batch() -> None:
    rec = Recorder(delay=0.05)
    batcher: Batcher[str] = Batcher(rec, key=lambda i: i[0], size=len, max_bytes=4)
    _run(batcher, "x0", ["a1", "a2", "b1", "a3", "aaaaaa"])
    assert rec.batches == [["x0"], ["a1", "a2"], ["b1"], ["a3"], ["aaaaaa"]]


def test_an_item_at_fault_fails_alone() -> None:
    rec = Recorder(delay=0.05)
    out = _run(Batcher(rec), "a", ["b", "bad", "c"])
    assert out[:2] == ["A", "B"] and out[3] == "C"
    assert isinstance(out[2], ValueError)


def test_a_result_may_be_an_exception_in_an_items_place() -> None:
    def score(items: list[str]) -> list[object]:
        return [KeyError(i) if i == "k" else i for i in items]

    out = _run(Batcher(score), "a", ["k", "b"])
    assert out[0] == "a" and out[2] == "b" and isinstance(out[1], KeyError)


def test_a_scorer_that_answers_the_wrong_number_fails_every_item() -> None:
    batcher: Batcher[str] = Batcher(lambda items: [])
    with pytest.raises(RuntimeError, match="results for"):
        _run_single(batcher)


def _run_single(batcher: Batcher[str]) -> None:
    async def go() -> None:
        await asyncio.gather(batcher.submit("a"), batcher.submit("b"))
    asyncio.run(go())
