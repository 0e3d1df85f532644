"""Train/test splits: given by an index column, stratified 80/20, or time-ordered."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import train_test_split

from spamsift.exceptions import TrainingError

__all__ = ["stratified_split", "time_split", "fill_forward"]


def stratified_split(y: np.ndarray, test_size: float = 0.2, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a stratified random split."""
    idx = np.arange(len(y))
    if np.bincount(y, minlength=2).min() < 2:
        raise TrainingError("a stratified split needs at least 2 messages of each class")
    tr, te = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    return np.sort(tr), np.sort(te)


def fill_forward(timestamps: Sequence[float | None]) -> np.ndarray:
    """Timestamps with each missing one taken from the message before it (-inf first)."""
    ts = np.empty(len(timestamps))
    last = -np.inf
    for i, t in enumerate(timestamps):
        last = t if t is not None else last
        ts[i] = last
    return ts


def time_split(timestamps: Sequence[float | None], test_size: float = 0.2
               ) -> tuple[np.ndarray, np.ndarray]:
    """Oldest (1 - test_size) for training, newest for testing.

    Messages without a usable Date keep their input order relative to their
    neighbours: they take the timestamp of the message before them.
    """
    order = np.argsort(fill_forward(timestamps), kind="stable")
    n_test = int(round(len(order) * test_size))
    if n_test == 0 or n_test == len(order):
        raise TrainingError(
            f"cannot split {len(order)} messages {1 - test_size:.0%}/{test_size:.0%}")
    return np.sort(order[:-n_test]), np.sort(order[-n_test:])
