"""SpamModel <-> model artifact (manifest + arrays; no code, no pickle).

Weight vectors are stored sparse, as the value most columns share plus the
columns that differ: hashed token spaces are mostly columns no training message
touched, and Naive Bayes gives those all the same weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spamsift.config import ParseLimits
from spamsift.estimator import Estimator
from spamsift.exceptions import ModelFormatError
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.artifact import load_artifact, save_artifact
from spamsift.models.scorer import SpamScorer
from spamsift.models.spam_model import SpamModel

__all__ = ["save_model", "load_model", "model_to_arrays", "model_from_arrays"]

_FEATURIZER_PARAMS = ("token_bits", "reputation_bits", "keywords", "site_evidence", "byte_bits",
                      "byte_ngram", "byte_window")
# Classifier parameters that are the site's, set by load_model (as the featurizer's
# limits are), not the model's: not saved, so the file is the same whatever the site chose.
_SITE_PARAMS = ("priors",)


def _pack(name: str, v: np.ndarray, out: dict[str, np.ndarray]) -> None:
    vals, counts = np.unique(v, return_counts=True)
    default = vals[np.argmax(counts)] if len(vals) else 0.0
    idx = np.flatnonzero(v != default)
    out[f"{name}.default"] = np.array(default, dtype=np.float64)
    # int32 columns and float32 values halve the file; scores move by < 1e-6.
    out[f"{name}.index"] = idx.astype(np.int32)
    out[f"{name}.value"] = v[idx].astype(np.float32)
    out[f"{name}.size"] = np.array(len(v), dtype=np.int64)


def _unpack(name: str, arrays: dict[str, np.ndarray], out: np.ndarray | None = None
            ) -> np.ndarray:
    size = int(arrays[f"{name}.size"])
    idx = arrays[f"{name}.index"]
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise ModelFormatError(f"{name}: column index outside 0..{size - 1}")
    if out is None or out.shape != (size,):
        out = np.empty(size)
    out.fill(float(arrays[f"{name}.default"]))
    out[idx] = arrays[f"{name}.value"]
    return out


def _unpack_rows(names: tuple[str, ...], arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Vectors of one size as the rows of one array, unpacked in place."""
    size = int(arrays[f"{names[0]}.size"])
    rows = np.empty((len(names), size))
    for row, name in zip(rows, names, strict=True):
        if _unpack(name, arrays, row) is not row:
            raise ModelFormatError(f"{name}: expected {size} columns, as {names[0]} has")
    return rows


def model_to_arrays(model: SpamModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    clf = model.classifier
    state = clf.get_state()
    arrays: dict[str, np.ndarray] = {}
    _pack("coef_binary", state["coef_binary"], arrays)
    _pack("coef_normalized", state["coef_normalized"], arrays)
    _pack("coef_bytes", state["coef_bytes"], arrays)
    # Derived from the counts on loading; kept in the file as format 1 has them.
    arrays["intercept"] = np.array(clf.intercept_)
    arrays["binary_offset"] = np.array(clf.binary_offset_)
    arrays["intercept_base"] = np.array(state["intercept_base"])
    # Naive Bayes' counts, so feedback can move them (and take them back) exactly.
    _pack("nb_count.ham", state["nb_count"][0], arrays)
    _pack("nb_count.spam", state["nb_count"][1], arrays)
    arrays["nb_class_count"] = np.asarray(state["nb_class_count"], dtype=np.float64)
    _pack("feedback_count.ham", state["feedback_count"][0], arrays)
    _pack("feedback_count.spam", state["feedback_count"][1], arrays)
    arrays["binner.edges"] = state["bin_edges"]
    arrays["structure.mean"] = state["structure_mean"]
    arrays["structure.scale"] = state["structure_scale"]
    _pack("reputation.spam", state["reputation_spam"], arrays)
    _pack("reputation.ham", state["reputation_ham"], arrays)
    arrays["reputation.prior"] = np.array(state["reputation_prior"])
    arrays["member_weights"] = np.asarray(state["member_weights"], dtype=np.float64)
    arrays["conflict_gamma"] = np.array(state["conflict_gamma"])
    # The weights the aux blocks are scored with: tuned by fit, or as set.
    arrays["block_weights"] = np.asarray(state["block_weights"], dtype=np.float64)
    arrays["conflict_calibration"] = np.asarray(state["conflict_calibration"],
                                                dtype=np.float64)
    keys, counts, steps = state["margin_log"]
    if len(keys):  # feedback's margin steps, so the loaded model can take them back
        arrays["margin_log.keys"], arrays["margin_log.counts"] = keys, counts
        arrays["margin_log.steps"] = steps
    manifest = {
        "kind": "SpamModel",
        "featurizer": {p: (list(v) if isinstance(v := getattr(model.featurizer, p), tuple) else v)
                       for p in _FEATURIZER_PARAMS},
        "classifier": {k: v for k, v in clf.get_params().items() if k not in _SITE_PARAMS},
        "members": list(state["member_names"]),
        "cutoffs": {"spam": model.spam_cutoff, "unsure": model.unsure_cutoff},
        **model.info,
    }
    return manifest, arrays


def _known(cls: type[Estimator], part: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` of the manifest's ``part``, refused naming any ``cls`` does not take:
    a file written by a later spamsift, whose estimators have parameters this one lacks
    (feedback_margin and rep_cap were such, to the releases before them)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{part}: expected a mapping of parameters, got {type(params).__name__}")
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ModelFormatError(
            f"the model's {part} has parameters this spamsift does not know: "
            f"{', '.join(unknown)} (written by a later release?); upgrade spamsift, or "
            f"activate a model version this release wrote (`spamsift models activate`)")
    return dict(params)


def model_from_arrays(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> SpamModel:
    try:
        if manifest.get("kind") != "SpamModel":
            raise ModelFormatError(
                f"expected a SpamModel artifact, got kind={manifest.get('kind')!r}")
        fparams = _known(MessageFeaturizer, "featurizer", manifest["featurizer"])
        fparams["keywords"] = tuple(fparams["keywords"])
        featurizer = MessageFeaturizer(**fparams)
        # A loaded model scores, explains and learns feedback; it is not refitted, so it is
        # the scorer, which needs no scikit-learn (models/scorer.py).
        clf = SpamScorer(**_known(SpamScorer, "classifier", manifest["classifier"]))
        state = {
            "coef_binary": _unpack("coef_binary", arrays),
            "coef_normalized": _unpack("coef_normalized", arrays),
            # Files written before the byte block have none (and byte_bits 0).
            "coef_bytes": (_unpack("coef_bytes", arrays) if "coef_bytes.size" in arrays
                           else np.zeros(0)),
            "intercept_base": float(arrays["intercept_base"]),
            "nb_count": _unpack_rows(("nb_count.ham", "nb_count.spam"), arrays),
            "nb_class_count": arrays["nb_class_count"],
            "feedback_count": _unpack_rows(("feedback_count.ham", "feedback_count.spam"),
                                           arrays),
            "bin_edges": arrays["binner.edges"],
            "structure_mean": arrays["structure.mean"],
            "structure_scale": arrays["structure.scale"],
            "reputation_spam": _unpack("reputation.spam", arrays),
            "reputation_ham": _unpack("reputation.ham", arrays),
            "reputation_prior": float(arrays["reputation.prior"]),
            "member_names": tuple(manifest["members"]),
            "member_weights": arrays["member_weights"],
            # Models saved before the conflict scale existed score linearly, as they did.
            "conflict_gamma": float(arrays.get("conflict_gamma", 0.0)),
            "conflict_calibration": arrays.get("conflict_calibration", (1.0, 0.0)),
            # Files before tuning score with the parameters.
            "block_weights": arrays.get("block_weights"),
            # Feedback's margin steps, where the model had taken any.
            "margin_log": tuple(arrays.get(f"margin_log.{k}", np.zeros(0))
                                for k in ("keys", "counts", "steps")),
        }
        cut = manifest["cutoffs"]
        spam_cut, unsure_cut = float(cut["spam"]), float(cut["unsure"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFormatError(f"model artifact is missing or has a malformed part: {exc!r}"
                               ) from exc
    try:
        clf.set_state(state)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"model artifact: {exc}") from None
    if featurizer.layout != clf.layout:
        raise ModelFormatError(f"the featurizer's layout {featurizer.layout} is not the "
                               f"classifier's {clf.layout}")
    info = {k: v for k, v in manifest.items()
            if k not in ("kind", "featurizer", "classifier", "members", "cutoffs")}
    return SpamModel(featurizer, clf, spam_cut, unsure_cut, info)


def save_model(model: SpamModel, path: str | Path, overwrite: bool = False) -> Path:
    manifest, arrays = model_to_arrays(model)
    return save_artifact(path, manifest=manifest, arrays=arrays, overwrite=overwrite)


def load_model(path: str | Path, limits: ParseLimits | None = None, *,
               priors: bool = True) -> SpamModel:
    """Load a model directory; never executes code from it.

    ``limits``: the parse caps of the site serving it (``settings.limits``: message
    size, attachments, images and OCR); ``priors``: whether it scores with prior
    evidence (``settings.priors``; :mod:`spamsift.models.priors`). They are the site's,
    not the model's, so the file does not hold them; without them the defaults apply.
    """
    manifest, arrays = load_artifact(path)
    try:
        model = model_from_arrays(manifest, arrays)
    except ModelFormatError as exc:  # which file: a registry holds many
        raise ModelFormatError(f"{path}: {exc}") from exc
    if limits is not None:
        model.featurizer.set_params(limits=limits)
    model.classifier.set_params(priors=priors)
    return model
