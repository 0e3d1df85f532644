"""Fit diagnosis: training vs out-of-fold error, and the learning curve behind it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from spamsift.models.classifier import SpamClassifier
from spamsift.training.diagnostics import diagnose_fit, learning_curve_data

VERDICTS = {"good fit", "overfit", "underfit"}


def test_diagnosis_of_a_fitted_classifier(fitted_classifier: SpamClassifier,
                                          small_xy: tuple[sp.csr_matrix, np.ndarray]) -> None:
    X, y = small_xy
    d = diagnose_fit(fitted_classifier, X, y)
    assert d["verdict"] in VERDICTS
    assert d["verdict"] == "good fit"  # the hand-made set is easy
    assert 0.0 <= d["train_one_minus_roca_pct"] <= 100.0
    assert 0.0 <= d["valid_one_minus_roca_pct"] <= 100.0
    assert d["gap"] == pytest.approx(d["valid_one_minus_roca_pct"]
                                     - d["train_one_minus_roca_pct"])
    assert d["explanation"]


class _Stub:
    """A fitted classifier reduced to what diagnose_fit reads."""

    def __init__(self, train: np.ndarray, oof: np.ndarray):
        self._train = train
        self.oof_decision_ = oof

    def decision_function(self, X: Any) -> np.ndarray:
        return self._train


Y = np.array([0] * 50 + [1] * 50)
PERFECT = np.where(Y == 1, 1.0, -1.0)
# Twenty of each class ranked the wrong way round: (1-ROCA)% = 16.
POOR = PERFECT.copy()
POOR[:20] = 2.0
POOR[50:70] = -2.0


@pytest.mark.parametrize("train, oof, verdict", [
    pytest.param(PERFECT, PERFECT, "good fit", id="both-perfect"),
    pytest.param(PERFECT, POOR, "overfit", id="validation-trails"),
    pytest.param(POOR, POOR, "underfit", id="both-poor"),
])
def test_verdict_follows_the_training_and_validation_errors(train: np.ndarray, oof: np.ndarray,
                                                            verdict: str) -> None:
    d = diagnose_fit(_Stub(train, oof), None, Y)  # type: ignore[arg-type]
    assert d["verdict"] == verdict


def _curve(valid: list[float]) -> dict[str, Any]:
    return {"valid_scores": [[v, v] for v in valid], "train_scores": [[0.0, 0.0]] * len(valid)}


def test_a_falling_learning_curve_says_more_mail_will_help() -> None:
    falling = diagnose_fit(_Stub(PERFECT, POOR), None, Y, _curve([20.0, 10.0]))  # type: ignore[arg-type]
    flat = diagnose_fit(_Stub(PERFECT, POOR), None, Y, _curve([10.0, 10.0]))  # type: ignore[arg-type]
    assert "more training mail" in falling["explanation"]
    assert "more training mail" not in flat["explanation"]


def test_learning_curve_data(small_xy: tuple[sp.csr_matrix, np.ndarray],
                             small_layout: dict[str, int]) -> None:
    X, y = small_xy
    curve = learning_curve_data(SpamClassifier(model="nb", **small_layout), X, y,
                                sizes=(0.5, 1.0), cv=3)
    assert curve["metric"] == "(1-ROCA)%"
    sizes = curve["train_sizes"]
    assert len(sizes) == 2 and sizes[0] < sizes[1] <= len(y)
    for key in ("train_scores", "valid_scores"):
        assert np.asarray(curve[key]).shape == (2, 3)
        assert all(0.0 <= v <= 100.0 for row in curve[key] for v in row)
