"""featurize_stream: the rows and matrix featurize gives, chunk by chunk, read lazily."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from spamsift.features.batch import featurize, featurize_stream
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import RawMessage

Mail = list[tuple[bytes, str]]


def raw(mail: Mail) -> list[RawMessage]:
    return [RawMessage(f"m{i:03d}", data, label) for i, (data, label) in enumerate(mail)]


@pytest.fixture(params=["main-thread-only", "with-another-thread"])
def threads(request: pytest.FixtureRequest) -> Iterator[str]:
    """A process alone with its main thread forks its workers; one with other threads
    (a server retraining) spawns them: both must give the same rows."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    if request.param == "with-another-thread":
        other.start()
    yield request.param
    stop.set()


@pytest.mark.parametrize("n_jobs", [pytest.param(1, id="one-process"),
                                    pytest.param(2, id="two-processes")])
def test_chunks_equal_the_whole_matrix_in_order(mail_set: Mail,
                                                small_featurizer: MessageFeaturizer,
                                                n_jobs: int, threads: str) -> None:
    if threads == "main-thread-only" and threading.active_count() > 1:
        pytest.skip(f"this test process runs {threading.active_count()} threads")
    msgs = raw(mail_set)
    X, meta = featurize(small_featurizer, [m.data for m in msgs], n_jobs=1)
    start = 0
    for batch, Xc, mc in featurize_stream(small_featurizer, iter(msgs), 11, n_jobs=n_jobs):
        assert batch == msgs[start:start + len(batch)]
        assert (Xc != X[start:start + len(batch)]).nnz == 0
        assert mc == meta[start:start + len(batch)]
        start += len(batch)
    assert start == len(msgs)


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
