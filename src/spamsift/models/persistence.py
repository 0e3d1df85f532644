"""SpamModel <-> model artifact (manifest + arrays; no code, no pickle).

Weight vectors are stored sparse, as the value most columns share plus the
columns that differ: hashed token spaces are mostly columns no training message
touched, and Naive Bayes gives those all the same weight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spamsift.config import ParseLimits
from spamsift.exceptions import ModelFormatError
from spamsift.features.featurizer import REPUTATION_KEYS, MessageFeaturizer
from spamsift.features.reputation import SenderReputation
from spamsift.models.artifact import load_artifact, save_artifact
from spamsift.models.scorer import SpamScorer
from spamsift.models.spam_model import SpamModel

__all__ = ["save_model", "load_model", "model_to_arrays", "model_from_arrays"]

_FEATURIZER_PARAMS = ("token_bits", "reputation_bits", "keywords", "site_evidence", "byte_bits",
                      "byte_ngram", "byte_window")


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
    arrays: dict[str, np.ndarray] = {}
    _pack("coef_binary", clf.coef_binary_, arrays)
    _pack("coef_normalized", clf.coef_normalized_, arrays)
    _pack("coef_bytes", clf.coef_bytes_, arrays)
    arrays["intercept"] = np.array(clf.intercept_)
    arrays["intercept_base"] = np.array(clf.intercept_base_)
    arrays["binary_offset"] = np.array(clf.binary_offset_)
    # Naive Bayes' counts, so feedback can move them (and take them back) exactly.
    _pack("nb_count.ham", clf.nb_count_[0], arrays)
    _pack("nb_count.spam", clf.nb_count_[1], arrays)
    arrays["nb_class_count"] = np.asarray(clf.nb_class_count_, dtype=np.float64)
    _pack("feedback_count.ham", clf.feedback_count_[0], arrays)
    _pack("feedback_count.spam", clf.feedback_count_[1], arrays)
    arrays["binner.edges"] = clf.bin_edges_
    arrays["structure.mean"] = clf.structure_mean_
    arrays["structure.scale"] = clf.structure_scale_
    _pack("reputation.spam", clf.reputation_.spam_, arrays)
    _pack("reputation.ham", clf.reputation_.ham_, arrays)
    arrays["reputation.prior"] = np.array(clf.reputation_.prior_)
    arrays["member_weights"] = np.asarray(clf.member_weights_, dtype=np.float64)
    arrays["conflict_gamma"] = np.array(float(clf.conflict_gamma_))
    # The weights the aux blocks are scored with: tuned by fit, or as set.
    arrays["block_weights"] = np.asarray(clf.block_weights(), dtype=np.float64)
    arrays["conflict_calibration"] = np.asarray(clf.conflict_calibration_, dtype=np.float64)
    keys, counts, steps = clf.margin_log()
    if len(keys):  # feedback's margin steps, so the loaded model can take them back
        arrays["margin_log.keys"], arrays["margin_log.counts"] = keys, counts
        arrays["margin_log.steps"] = steps
    manifest = {
        "kind": "SpamModel",
        "featurizer": {p: (list(v) if isinstance(v := getattr(model.featurizer, p), tuple) else v)
                       for p in _FEATURIZER_PARAMS},
        "classifier": clf.get_params(),
        "members": list(clf.member_names_),
        "cutoffs": {"spam": model.spam_cutoff, "unsure": model.unsure_cutoff},
        **model.info,
    }
    return manifest, arrays


def model_from_arrays(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> SpamModel:
    try:
        if manifest.get("kind") != "SpamModel":
            raise ModelFormatError(
                f"expected a SpamModel artifact, got kind={manifest.get('kind')!r}")
        fparams = dict(manifest["featurizer"])
        fparams["keywords"] = tuple(fparams["keywords"])
        featurizer = MessageFeaturizer(**fparams)
        # A loaded model scores, explains and learns feedback; it is not refitted, so it is
        # the scorer, which needs no scikit-learn (models/scorer.py).
        clf = SpamScorer(**manifest["classifier"])
        clf.coef_binary_ = _unpack("coef_binary", arrays)
        clf.coef_normalized_ = _unpack("coef_normalized", arrays)
        # Files written before the byte block have none (and byte_bits 0).
        clf.coef_bytes_ = (_unpack("coef_bytes", arrays) if "coef_bytes.size" in arrays
                           else np.zeros(0))
        clf.intercept_ = float(arrays["intercept"])
        clf.intercept_base_ = float(arrays["intercept_base"])
        clf.binary_offset_ = float(arrays["binary_offset"])
        clf.nb_count_ = _unpack_rows(("nb_count.ham", "nb_count.spam"), arrays)
        clf.nb_class_count_ = np.asarray(arrays["nb_class_count"], dtype=np.float64)
        clf.feedback_count_ = _unpack_rows(("feedback_count.ham", "feedback_count.spam"),
                                           arrays)
        if clf.nb_count_.shape != (2, clf.coef_binary_.shape[0]):
            raise ModelFormatError(f"Naive Bayes counts have shape {clf.nb_count_.shape}: "
                                   f"expected 2 rows of {clf.coef_binary_.shape[0]} columns")
        clf.bin_edges_ = np.asarray(arrays["binner.edges"], dtype=np.float64)
        clf.structure_mean_ = np.asarray(arrays["structure.mean"], dtype=np.float64)
        clf.structure_scale_ = np.asarray(arrays["structure.scale"], dtype=np.float64)
        rep = SenderReputation(len(REPUTATION_KEYS), clf.rep_smoothing,
                               random_state=clf.random_state)
        rep.spam_ = _unpack("reputation.spam", arrays)
        rep.ham_ = _unpack("reputation.ham", arrays)
        rep.prior_ = float(arrays["reputation.prior"])
        rep.n_features_in_ = rep.spam_.shape[0]
        clf.reputation_ = rep
        clf.member_names_ = tuple(manifest["members"])
        clf.member_weights_ = arrays["member_weights"]
        # Models saved before the conflict scale existed score linearly, as they did.
        clf.conflict_gamma_ = float(arrays.get("conflict_gamma", 0.0))
        if "block_weights" in arrays:  # files before tuning score with the parameters
            clf.aux_weight_, clf.rep_weight_ = (float(v) for v in arrays["block_weights"])
        a, b = (float(v) for v in arrays.get("conflict_calibration", np.array([1.0, 0.0])))
        clf.conflict_calibration_ = (a, b)
        if "margin_log.keys" in arrays:
            clf.set_margin_log(arrays["margin_log.keys"], arrays["margin_log.counts"],
                               arrays["margin_log.steps"])
        clf.classes_ = np.array([0, 1])
        clf.n_features_in_ = clf.layout.n_features
        cut = manifest["cutoffs"]
        spam_cut, unsure_cut = float(cut["spam"]), float(cut["unsure"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFormatError(f"model artifact is missing or has a malformed part: {exc!r}"
                               ) from exc
    n_exp = (clf.layout.n_tokens + clf.bin_edges_.shape[0] * clf.n_bins + rep.n_output
             + clf.n_interactions)
    if clf.coef_binary_.shape != (n_exp,) or clf.coef_normalized_.shape != (n_exp,):
        raise ModelFormatError(f"weight vectors have {clf.coef_binary_.shape[0]} columns, "
                               f"the layout needs {n_exp}")
    if clf.coef_bytes_.shape != (clf.layout.n_bytes,):
        raise ModelFormatError(f"byte n-gram weights have {clf.coef_bytes_.shape[0]} columns, "
                               f"the layout needs {clf.layout.n_bytes}")
    if featurizer.layout != clf.layout:
        raise ModelFormatError(f"the featurizer's layout {featurizer.layout} is not the "
                               f"classifier's {clf.layout}")
    if clf.feedback_count_.shape != (2, rep.spam_.shape[0]):
        raise ModelFormatError(f"feedback counts have shape {clf.feedback_count_.shape}: "
                               f"expected 2 rows of {rep.spam_.shape[0]} columns")
    # Naive Bayes' weights are re-derived from its counts in full precision.
    clf._refresh_nb(slice(None))
    info = {k: v for k, v in manifest.items()
            if k not in ("kind", "featurizer", "classifier", "members", "cutoffs")}
    return SpamModel(featurizer, clf, spam_cut, unsure_cut, info)


def save_model(model: SpamModel, path: str | Path, overwrite: bool = False) -> Path:
    manifest, arrays = model_to_arrays(model)
    return save_artifact(path, manifest=manifest, arrays=arrays, overwrite=overwrite)


def load_model(path: str | Path, limits: ParseLimits | None = None) -> SpamModel:
    """Load a model directory; never executes code from it.

    ``limits``: the parse caps of the site serving it (``settings.limits``: message
    size, attachments, images and OCR). They are the site's, not the model's, so the
    file does not hold them; without them the defaults apply.
    """
    manifest, arrays = load_artifact(path)
    model = model_from_arrays(manifest, arrays)
    if limits is not None:
        model.featurizer.set_params(limits=limits)
    return model
