"""Hyperparameter search: best parameters, candidates ranked, best refitted on everything."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spamsift.models.classifier import SpamClassifier
from spamsift.training.search import DISTRIBUTIONS, GRID, search

Data = tuple[sp.csr_matrix, np.ndarray]
TINY_GRID = {"model": ["nb", "svm"], "aux_weight": [0.25, 1.0]}


def test_grid_search_on_a_tiny_grid(small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    best, summary = search(SpamClassifier(**small_layout), X, y, "grid", cv=3, grid=TINY_GRID)
    assert summary["kind"] == "grid" and summary["cv"] == 3
    candidates = summary["candidates"]
    assert len(candidates) == 4
    assert {tuple(sorted(c["params"].items())) for c in candidates} == {
        (("aux_weight", a), ("model", m)) for m in TINY_GRID["model"]
        for a in TINY_GRID["aux_weight"]}
    errors = [c["one_minus_roca_pct"] for c in candidates]
    assert errors == sorted(errors)
    assert all(0.0 <= e <= 100.0 and c["std"] >= 0.0 for e, c in zip(errors, candidates,
                                                                        strict=True))
    assert summary["best_params"] == candidates[0]["params"]
    # The best is refitted on all rows, with the layout kept from the base estimator.
    assert {k: best.get_params()[k] for k in summary["best_params"]} == summary["best_params"]
    assert best.token_bits == small_layout["token_bits"]
    assert best.oof_decision_.shape == (len(y),)


def test_search_params_are_plain_python(small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    _, summary = search(SpamClassifier(**small_layout), X, y, "grid", cv=3,
                        grid={"model": ["nb"], "alpha_nb": list(np.array([0.1, 1.0]))})
    for c in summary["candidates"]:
        assert type(c["params"]["alpha_nb"]) is float


def test_unknown_search_kind(small_xy: Data, small_layout: dict[str, int]) -> None:
    X, y = small_xy
    with pytest.raises(ValueError, match="'grid' or 'random'"):
        search(SpamClassifier(**small_layout), X, y, "bayes")


def test_search_spaces_name_real_parameters() -> None:
    params = set(SpamClassifier().get_params())
    assert set(GRID) <= params
    assert set(DISTRIBUTIONS) <= params
