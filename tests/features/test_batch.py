"""featurize_stream: the rows and matrix featurize gives, chunk by chunk, read lazily."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from spamsift.features import batch as batch_module
from spamsift.features.batch import featurize, featurize_stream
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import RawMessage

Mail = list[tuple[bytes, str]]


def raw(mail: Mail) -> list[RawMessage]:
    return [RawMessage(f"m{i:03d}", data, label) for i, (data, label) in enumerate(mail)]


@pytest.fixture(params=["main-thread-only", "with-another-thread"])
def threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[dict[int, ProcessPoolExecutor]]:
    """A process alone with its main thread forks its workers (and keeps them); one
    with other threads (a server retraining) spawns them through loky. Yields this
    test's own table of kept pools, so the path taken is the one the case names."""
    pools: dict[int, ProcessPoolExecutor] = {}
    monkeypatch.setattr(batch_module, "_POOLS", pools)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    if request.param == "with-another-thread":
        other.start()
    elif threading.active_count() > 1:
        pytest.skip(f"this test process runs {threading.active_count()} threads")
    yield pools
    stop.set()
    for pool in pools.values():
        pool.shutdown()


@pytest.mark.parametrize("n_jobs", [pytest.param(1, id="one-process"),
                                    pytest.param(2, id="two-processes")])
def test_chunks_equal_the_whole_matrix_in_order(
        mail_set: Mail, small_featurizer: MessageFeaturizer, n_jobs: int,
        threads: dict[int, ProcessPoolExecutor], request: pytest.FixtureRequest) -> None:
    msgs = raw(mail_set)
    X, meta = featurize(small_featurizer, [m.data for m in msgs], n_jobs=1)
    start = 0
    for batch, Xc, mc in featurize_stream(small_featurizer, iter(msgs), 11, n_jobs=n_jobs):
        assert batch == msgs[start:start + len(batch)]
        assert (Xc != X[start:start + len(batch)]).nnz == 0
        assert mc == meta[start:start + len(batch)]
        start += len(batch)
    assert start == len(msgs)
    forked = n_jobs > 1 and "main-thread-only" in request.node.callspec.id
    assert list(threads) == ([2] if forked else [])


def test_an_endless_input_is_read_a_chunk_at_a_time(mail_set: Mail,
                                                    small_featurizer: MessageFeaturizer) -> None:
    pulled = 0

    def endless() -> Iterator[RawMessage]:
        nonlocal pulled
        for m in itertools.cycle(raw(mail_set)):
            pulled += 1
            yield m

    parts = featurize_stream(small_featurizer, endless(), 5, with_meta=False)
    first = [next(parts) for _ in range(3)]
    assert [len(b) for b, _, _ in first] == [5, 5, 5]
    assert pulled == 15
