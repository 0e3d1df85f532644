"""featurize_stream: the rows and matrix featurize gives, chunk by chunk, read lazily."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from spamsift.exceptions import WorkerError
from spamsift.features.batch import featurize, featurize_stream
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import RawMessage

Mail = list[tuple[bytes, str]]


def raw(mail: Mail) -> list[RawMessage]:
    return [RawMessage(f"m{i:03d}", data, label) for i, (data, label) in enumerate(mail)]


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


def test_a_killed_worker_is_a_worker_error_and_the_next_call_works(
        mail_set: Mail, small_featurizer: MessageFeaturizer,
        threads: dict[int, ProcessPoolExecutor], workers_killed: Callable[[bool], None],
        request: pytest.FixtureRequest) -> None:
    msgs = raw(mail_set)
    workers_killed(True)
    with pytest.raises(WorkerError, match="worker process died.*out of memory.*--n-jobs"):
        list(featurize_stream(small_featurizer, iter(msgs), 11, n_jobs=2))
    assert threads == {}  # the broken pool is not kept for the next call
    workers_killed(False)
    X, _ = featurize(small_featurizer, [m.data for m in msgs], n_jobs=1)
    got = list(featurize_stream(small_featurizer, iter(msgs), 11, n_jobs=2))
    assert sum(len(b) for b, _, _ in got) == len(msgs)
    assert all((Xc != X[i * 11:i * 11 + len(b)]).nnz == 0 for i, (b, Xc, _) in enumerate(got))
    # A process alone with its main thread forks again: the dead pool's manager
    # thread was joined, not left running to push the next call onto loky.
    forked = "main-thread-only" in request.node.callspec.id
    assert list(threads) == ([2] if forked else [])

