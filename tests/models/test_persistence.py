"""SpamModel <-> model artifact: the same scores back, and refusal of anything altered."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from spamsift.exceptions import ModelError, ModelFormatError, ModelIntegrityError
from spamsift.models.artifact import ARRAYS_NAME, MANIFEST_NAME, load_artifact, save_artifact
from spamsift.models.persistence import load_model, model_from_arrays, model_to_arrays, save_model
from spamsift.models.spam_model import SpamModel


@pytest.fixture
def saved(small_model: SpamModel, tmp_path: Path) -> Path:
    return save_model(small_model, tmp_path / "model")


def test_round_trip_keeps_scores_cutoffs_and_settings(small_model: SpamModel, saved: Path,
                                                      mail_set: list[tuple[bytes, str]]) -> None:
    loaded = load_model(saved)
    datas = [d for d, _ in mail_set] + [b"", b"Subject: hi\n\nhello"]
    # Weights are stored as float32: scores move by far less than 1e-5.
    np.testing.assert_allclose(loaded.score(datas), small_model.score(datas), atol=1e-5)
    assert (loaded.spam_cutoff, loaded.unsure_cutoff) == (small_model.spam_cutoff,
                                                          small_model.unsure_cutoff)
    assert loaded.classifier.get_params() == small_model.classifier.get_params()
    assert loaded.classifier.member_names_ == small_model.classifier.member_names_
    assert loaded.featurizer.get_params()["token_bits"] == small_model.featurizer.token_bits
    assert loaded.info["settings"] == small_model.info["settings"]
    assert loaded.info["fit_diagnosis"]["verdict"] == small_model.info["fit_diagnosis"]["verdict"]


def test_loaded_model_gives_the_same_verdicts_and_clues(small_model: SpamModel, saved: Path,
                                                        mail_set: list[tuple[bytes, str]]) -> None:
    loaded = load_model(saved)
    datas = [d for d, _ in mail_set[:6]]
    for a, b in zip(small_model.classify(datas, top=5), loaded.classify(datas, top=5),
                    strict=True):
        assert a.verdict == b.verdict
        assert [c for c, _ in a.clues] == [c for c, _ in b.clues]


def test_artifact_holds_the_manifest_parts(saved: Path) -> None:
    manifest = json.loads((saved / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["kind"] == "SpamModel"
    assert set(manifest["cutoffs"]) == {"spam", "unsure"}
    assert manifest["members"] == ["nb", "svm"]
    assert manifest["featurizer"]["token_bits"] == 14


def test_refuses_to_overwrite_unless_asked(small_model: SpamModel, saved: Path) -> None:
    with pytest.raises(ModelError, match="overwrite"):
        save_model(small_model, saved)
    assert save_model(small_model, saved, overwrite=True) == saved


def _edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_unknown_format_version_is_refused(saved: Path) -> None:
    _edit_manifest(saved, format_version=99)
    with pytest.raises(ModelFormatError, match="format_version 99"):
        load_model(saved)


def test_tampered_arrays_are_refused(saved: Path) -> None:
    path = saved / ARRAYS_NAME
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(saved)


def test_missing_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="found nothing"):
        load_model(tmp_path / "absent")


def _resave(small_model: SpamModel, path: Path, manifest_changes: dict[str, object] | None = None,
            arrays_changes: dict[str, np.ndarray | None] | None = None) -> Path:
    manifest, arrays = model_to_arrays(small_model)
    manifest.update(manifest_changes or {})
    for name, value in (arrays_changes or {}).items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    return save_artifact(path, manifest=manifest, arrays=arrays)


@pytest.mark.parametrize("manifest_changes, arrays_changes, match", [
    pytest.param({"kind": "SomethingElse"}, None, "kind='SomethingElse'", id="wrong-kind"),
    pytest.param({"kind": None}, None, "kind=None", id="no-kind"),
    pytest.param({"cutoffs": {"spam": 0.9}}, None, "malformed", id="missing-cutoff"),
    pytest.param({"classifier": "nb"}, None, "malformed.*expected a mapping",
                 id="classifier-not-a-mapping"),
    pytest.param(None, {"coef_binary.value": None}, "malformed", id="missing-array"),
    pytest.param(None, {"coef_normalized.index": np.array([10**9], dtype=np.int32),
                        "coef_normalized.value": np.array([1.0], dtype=np.float32)},
                 "outside", id="index-out-of-range"),
    pytest.param(None, {"coef_binary.size": np.array(7, dtype=np.int64),
                        "coef_binary.index": np.array([], dtype=np.int32),
                        "coef_binary.value": np.array([], dtype=np.float32)},
                 "columns", id="wrong-length"),
])
def test_malformed_models_are_format_errors(
        small_model: SpamModel, tmp_path: Path, manifest_changes: dict[str, object] | None,
        arrays_changes: dict[str, np.ndarray | None] | None, match: str) -> None:
    path = _resave(small_model, tmp_path / "bad", manifest_changes, arrays_changes)
    with pytest.raises(ModelFormatError, match=match):
        load_model(path)


def test_featurizer_layout_that_disagrees_with_the_weights(small_model: SpamModel,
                                                          tmp_path: Path) -> None:
    manifest, _ = model_to_arrays(small_model)
    classifier = {**manifest["classifier"], "token_bits": 15}
    path = _resave(small_model, tmp_path / "bad", {"classifier": classifier})
    with pytest.raises(ModelFormatError, match="the layout needs"):
        load_model(path)


def test_the_conflict_exponent_is_kept_and_old_files_score_linearly(
        small_model: SpamModel, tmp_path: Path, mail_set: list[tuple[bytes, str]]) -> None:
    clf = copy.deepcopy(small_model.classifier)
    clf.set_state({**clf.get_state(), "conflict_gamma": 2.0})
    model = dataclasses.replace(small_model, classifier=clf)
    raws = [raw for raw, _ in mail_set[:10]]
    loaded = load_model(save_model(model, tmp_path / "m"))
    assert loaded.classifier.conflict_gamma_ == 2.0
    np.testing.assert_allclose(loaded.score(raws), model.score(raws), rtol=1e-5)
    manifest, arrays = load_artifact(tmp_path / "m")
    del arrays["conflict_gamma"]  # a file written before the scale existed
    old = model_from_arrays(manifest, arrays)
    assert old.classifier.conflict_gamma_ == 0.0


def test_tuned_block_weights_are_saved_with_the_model(small_model: SpamModel, tmp_path: Path,
                                                      mail_set: list[tuple[bytes, str]]) -> None:
    tuned = copy.deepcopy(small_model)
    tuned.classifier.set_state({**tuned.classifier.get_state(), "block_weights": (0.09, 0.3)})
    datas = [d for d, _ in mail_set]
    assert not np.allclose(tuned.score(datas), small_model.score(datas), atol=1e-4)
    loaded = load_model(save_model(tuned, tmp_path / "tuned"))
    assert loaded.classifier.block_weights() == (0.09, 0.3)
    np.testing.assert_allclose(loaded.score(datas), tuned.score(datas), atol=1e-5)


def test_the_prior_switch_is_the_sites_and_not_saved(small_model: SpamModel, tmp_path: Path
                                                     ) -> None:
    off = copy.deepcopy(small_model)
    off.classifier.set_params(priors=False)
    path = save_model(off, tmp_path / "off")
    manifest = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    # Not in the file: one written here loads in a release that predates the switch.
    assert "priors" not in manifest["classifier"]
    assert load_model(path).classifier.priors is True
    assert load_model(path, priors=False).classifier.priors is False


@pytest.mark.parametrize("part", ["classifier", "featurizer"])
def test_a_parameter_from_a_later_release_is_refused_by_name(
        small_model: SpamModel, tmp_path: Path, part: str) -> None:
    """A file written by a later spamsift, whose estimators take a parameter this one
    does not (as files with feedback_margin were to the releases before it): refused
    naming the parameter and the way back, not as a malformed file."""
    manifest, _ = model_to_arrays(small_model)
    later = {**manifest[part], "zeta_margin": 2.0, "alpha_later": True}
    path = _resave(small_model, tmp_path / "later", {part: later})
    with pytest.raises(ModelFormatError) as caught:
        load_model(path)
    said = str(caught.value)
    assert said.startswith(f"{path}: the model's {part} has parameters this spamsift does "
                           "not know: alpha_later, zeta_margin (written by a later release?)")
    assert "spamsift models activate" in said and "malformed" not in said
