"""fit_model: cut-offs from out-of-fold training scores, details for the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from spamsift.config import Settings, load_settings
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.persistence import load_model, save_model
from spamsift.training import search as search_module
from spamsift.training.trainer import DEFAULT_PARAMS, TrainOptions, fit_model

Data = tuple[sp.csr_matrix, np.ndarray]


@pytest.mark.parametrize("target_fpr, unsure_fpr", [
    pytest.param(0.001, 0.01, id="defaults"),
    pytest.param(0.05, 0.2, id="loose"),
    pytest.param(0.1, 0.1, id="equal"),
])
def test_cutoffs_meet_the_target_fpr_on_out_of_fold_scores(
        small_xy: Data, small_featurizer: MessageFeaturizer, target_fpr: float,
        unsure_fpr: float) -> None:
    X, y = small_xy
    settings = load_settings(target_fpr=target_fpr, unsure_fpr=unsure_fpr)
    model, details = fit_model(small_featurizer, X, y, settings,
                               TrainOptions(learning_curve=False))
    oof_ham = expit(model.classifier.oof_decision_)[y == 0]
    assert np.mean(oof_ham >= model.spam_cutoff) <= target_fpr
    assert np.mean(oof_ham >= model.unsure_cutoff) <= unsure_fpr
    assert model.unsure_cutoff <= model.spam_cutoff
    assert details["cutoffs"] == {"spam": model.spam_cutoff, "unsure": model.unsure_cutoff,
                                  "target_fpr": target_fpr, "unsure_fpr": unsure_fpr}


def test_cutoffs_come_from_training_scores_only(small_xy: Data,
                                                small_featurizer: MessageFeaturizer,
                                                small_settings: Settings) -> None:
    X, y = small_xy
    model, _ = fit_model(small_featurizer, X, y, small_settings,
                         TrainOptions(learning_curve=False))
    # The cut-off sits just above a ham's out-of-fold score (a float64 step above it).
    oof_ham = expit(model.classifier.oof_decision_)[y == 0]
    assert np.nextafter(model.spam_cutoff, -np.inf) in set(oof_ham.tolist())


def test_details_and_model_info(small_xy: Data, small_featurizer: MessageFeaturizer,
                                small_settings: Settings) -> None:
    X, y = small_xy
    model, details = fit_model(small_featurizer, X, y, small_settings,
                               TrainOptions(learning_curve=False), info={"note": "x"})
    assert details["n_train"] == len(y) and details["n_train_spam"] == int(y.sum())
    assert details["learning_curve"] is None
    assert details["fit_diagnosis"]["verdict"] in {"good fit", "overfit", "underfit"}
    assert details["fit_seconds"] >= 0
    assert "search" not in details
    # The small featurizer has no byte block: the default members without "bytes".
    assert model.classifier.model == DEFAULT_PARAMS["model"].replace("+bytes", "")
    assert model.classifier.random_state == small_settings.seed
    assert model.featurizer is small_featurizer
    assert model.info["note"] == "x"
    assert model.info["settings"] == {"target_fpr": small_settings.target_fpr,
                                      "unsure_fpr": small_settings.unsure_fpr,
                                      "seed": small_settings.seed}
    assert model.info["training"]["n_train"] == len(y)


def test_learning_curve_and_params_options(
        small_featurizer: MessageFeaturizer, small_settings: Settings,
        mail_factory: Callable[..., list[tuple[bytes, str]]]) -> None:
    # 200 messages: the curve's smallest subset (20% of a 3-fold training part) must
    # hold inner_cv messages of each class; see the xfail below for 80.
    mail = mail_factory(100, 100, seed=1)
    X = small_featurizer.transform([d for d, _ in mail])
    y = np.array([int(label == "spam") for _, label in mail])
    model, details = fit_model(small_featurizer, X, y, small_settings,
                               TrainOptions(learning_curve=True, params={"model": "nb"}))
    assert model.classifier.member_names_ == ("nb",)
    curve = details["learning_curve"]
    assert curve is not None and len(curve["train_sizes"]) == len(curve["valid_scores"])
    assert np.all(np.isfinite(curve["valid_scores"]))


def test_learning_curve_on_a_small_training_set(small_xy: Data,
                                                small_featurizer: MessageFeaturizer,
                                                small_settings: Settings) -> None:
    X, y = small_xy
    _, details = fit_model(small_featurizer, X, y, small_settings,
                           TrainOptions(learning_curve=True, params={"model": "nb"}))
    curve = details["learning_curve"]
    assert curve["train_sizes"] == sorted(curve["train_sizes"]) and curve["train_sizes"]
    assert all(np.all(np.isfinite(v)) for v in curve["valid_scores"])


def test_search_option(small_xy: Data, small_featurizer: MessageFeaturizer,
                       small_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = small_xy
    monkeypatch.setattr(search_module, "GRID", {"model": ["nb", "nb+svm"]})
    model, details = fit_model(small_featurizer, X, y, small_settings,
                               TrainOptions(search="grid", learning_curve=False))
    assert details["search"]["kind"] == "grid"
    assert model.info["search_best"] == details["search"]["best_params"]
    assert model.classifier.model == details["search"]["best_params"]["model"]


@pytest.mark.parametrize("on", [True, False])
def test_a_fitted_model_scores_with_the_sites_prior_switch(
        small_xy: Data, small_featurizer: MessageFeaturizer, on: bool, tmp_path: Path
) -> None:
    """What train's report, replay and retrain's comparison score with is what the
    site's servers will (SPAMSIFT_PRIORS); the file does not keep the switch."""
    X, y = small_xy
    model, _ = fit_model(small_featurizer, X, y, load_settings(priors=on),
                         TrainOptions(learning_curve=False))
    assert model.classifier.priors is on
    assert load_model(save_model(model, tmp_path / "m")).classifier.priors is True
