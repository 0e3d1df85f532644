"""Train/test splits: stratified keeps the class ratio, time-ordered puts the newest in test."""

from __future__ import annotations

import numpy as np
import pytest

from spamsift.exceptions import TrainingError
from spamsift.training.splits import stratified_split, time_split


def _is_partition(tr: np.ndarray, te: np.ndarray, n: int) -> bool:
    return sorted(np.concatenate([tr, te]).tolist()) == list(range(n))


def test_stratified_split_keeps_the_class_ratio() -> None:
    y = np.array([1] * 30 + [0] * 70)
    tr, te = stratified_split(y, test_size=0.2, seed=3)
    assert _is_partition(tr, te, len(y))
    assert len(te) == 20
    assert y[te].sum() == 6 and y[tr].sum() == 24
    assert list(tr) == sorted(tr) and list(te) == sorted(te)


def test_stratified_split_is_seeded() -> None:
    y = np.array([0, 1] * 50)
    a = stratified_split(y, seed=1)
    b = stratified_split(y, seed=1)
    c = stratified_split(y, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("y", [
    pytest.param([0] * 10, id="ham-only"),
    pytest.param([0] * 10 + [1], id="one-spam"),
])
def test_stratified_split_needs_two_of_each_class(y: list[int]) -> None:
    with pytest.raises(TrainingError, match="at least 2"):
        stratified_split(np.array(y))


def test_time_split_puts_the_newest_in_test() -> None:
    ts = [50.0, 10.0, 90.0, 30.0, 70.0, 20.0, 80.0, 40.0, 60.0, 100.0]
    tr, te = time_split(ts, test_size=0.3)
    assert _is_partition(tr, te, len(ts))
    assert sorted(ts[i] for i in te) == [80.0, 90.0, 100.0]
    assert max(ts[i] for i in tr) < min(ts[i] for i in te)


def test_time_split_gives_undated_messages_their_predecessors_time() -> None:
    # None after 95 sorts with 95 (newest); a leading None is oldest of all.
    ts = [None, 10.0, 20.0, 95.0, None, 30.0, 40.0, 50.0, 60.0, 70.0]
    tr, te = time_split(ts, test_size=0.2)
    assert _is_partition(tr, te, len(ts))
    assert sorted(te.tolist()) == [3, 4]
    assert 0 in tr


def test_time_split_with_no_dates_at_all_keeps_input_order() -> None:
    tr, te = time_split([None] * 10, test_size=0.2)
    assert te.tolist() == [8, 9]
    assert tr.tolist() == list(range(8))


@pytest.mark.parametrize("n, test_size", [
    pytest.param(2, 0.2, id="too-few-for-a-test-row"),
    pytest.param(3, 0.9, id="nothing-left-to-train"),
])
def test_time_split_refuses_an_empty_side(n: int, test_size: float) -> None:
    with pytest.raises(TrainingError, match="cannot split"):
        time_split([float(i) for i in range(n)], test_size=test_size)
