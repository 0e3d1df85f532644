"""The public names of spamsift and of each stage, pinned so that a change to them is
deliberate (as httpx pins its own), and importable without loading what they do not need."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "spamsift": ["__version__", "load_model", "SpamModel", "Verdict", "SpamClassifier",
                 "MessageFeaturizer", "parse_message", "ParsedMessage", "Settings",
                 "load_settings", "SpamsiftError"],
    "spamsift.parse": ["parse_message", "ParsedMessage", "Attachment", "HtmlSignals",
                       "ReceivedHop"],
    "spamsift.features": ["MessageFeaturizer", "Layout", "REPUTATION_KEYS", "ByteNgrams",
                          "featurize", "featurize_stream", "MessageMeta", "exact_key",
                          "content_key", "duplicate_of", "structure_names"],
    "spamsift.models": ["SpamClassifier", "SpamScorer", "SpamModel", "Verdict", "load_model",
                        "save_model", "ModelRegistry", "DatabaseRegistry", "bundled_model_path"],
    "spamsift.training": ["TrainOptions", "fit_model", "DEFAULT_PARAMS", "stratified_split",
                          "time_split", "Dataset", "load_dataset", "train_job",
                          "evaluate_job", "TrainRun", "train_index", "evaluate_index",
                          "RetrainReport", "ReplayResult"],
    "spamsift.serving": ["SpamService", "resolve_model", "Live", "open_live", "learn",
                         "forget", "create_app"],
    "spamsift.mailauth": ["AuthResults", "MethodResult", "Authenticator", "Envelope",
                          "Resolver", "DnsTempError", "parse_servers",
                          "parse_authentication_results", "trusted_results", "METHODS",
                          "RESULTS", "TRUSTED_HEADER", "VERIFIED"],
    "spamsift.db": ["Database", "DB_FILENAME", "default_url", "resolve_url", "url_backend"],
}


@pytest.mark.parametrize("package", list(PUBLIC))
def test_public_names_are_pinned_and_resolve(package: str) -> None:
    mod = importlib.import_module(package)
    assert sorted(mod.__all__) == sorted(PUBLIC[package])
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
    assert set(mod.__all__) <= set(dir(mod))
    with pytest.raises(AttributeError, match="no attribute"):
        _ = mod.no_such_name


def test_importing_the_packages_loads_no_heavy_library() -> None:
    code = ("import sys, spamsift, spamsift.parse, spamsift.features, spamsift.models, "
            "spamsift.training, spamsift.serving, spamsift.mailauth\n"
            "heavy = [m for m in ('sklearn', 'scipy', 'fastapi', 'sqlalchemy', 'matplotlib', "
            "'dask', 'dns', 'dkim', 'spf') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""
