"""The service facade: which model is served, and classification one by one or streamed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from spamsift.config import ParseLimits, load_settings
from spamsift.exceptions import ModelError, ModelFormatError
from spamsift.ingest import RawMessage
from spamsift.models import bundled
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.parse import ParsedMessage, parse_message
from spamsift.serving.service import SpamService, prepare, prepare_sync, resolve_model

Mail = list[tuple[bytes, str]]


@pytest.fixture(scope="module")
def model_dir(small_model: SpamModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(small_model, tmp_path_factory.mktemp("service") / "model")


def test_classify_one_message(small_model: SpamModel, mail_set: Mail) -> None:
    svc = SpamService(small_model, top_clues=4)
    data = mail_set[1][0]
    v = svc.classify(data)
    expected = small_model.classify([data], top=4)[0]
    assert (v.score, v.verdict) == (expected.score, expected.verdict)
    assert len(v.clues) == 4


def test_classify_stream_in_batches_keeps_order(small_model: SpamModel, mail_set: Mail) -> None:
    # 150 messages: two full batches of 64 and a partial one.
    msgs = [RawMessage(f"m{i}", mail_set[i % len(mail_set)][0]) for i in range(150)]
    out = list(SpamService(small_model, top_clues=2).classify_stream(iter(msgs)))
    assert [raw.source for raw, _ in out] == [m.source for m in msgs]
    scores = small_model.score([m.data for m in msgs])
    np.testing.assert_allclose([v.score for _, v in out], scores)
    assert all(len(v.clues) == 2 for _, v in out)
    assert all(v.clues == [] for _, v in SpamService(small_model).classify_stream(msgs[:3],
                                                                                   top=0))


def test_classify_an_empty_stream(small_model: SpamModel) -> None:
    assert list(SpamService(small_model).classify_stream([])) == []


def test_resolve_a_model_directory(model_dir: Path, small_model: SpamModel) -> None:
    model = resolve_model(model_dir)
    assert model.spam_cutoff == small_model.spam_cutoff
    assert "version" not in model.info


def test_resolve_a_registry_serves_its_active_version(model_dir: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    v1 = registry.add(model_dir, version="v1")
    registry.add(model_dir, version="v2")
    registry.activate(v1)
    assert resolve_model(registry.root).info["version"] == "v1"
    registry.activate("v2")
    assert resolve_model(str(registry.root)).info["version"] == "v2"


def test_default_model_comes_from_the_data_dirs_registry(model_dir: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    registry.activate(registry.add(model_dir, version="only"))
    model = resolve_model(None, load_settings(data_dir=tmp_path))
    assert model.info["version"] == "only"


def test_no_model_anywhere_is_a_model_error(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "bundled_model_path", lambda: tmp_path / "no-bundled-model")
    with pytest.raises(ModelError, match="no bundled model"):
        resolve_model(None, load_settings(data_dir=tmp_path / "empty"))


def test_a_folder_that_is_no_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="manifest"):
        resolve_model(tmp_path)


def test_bundled_model_path_is_inside_the_package() -> None:
    path = bundled.bundled_model_path()
    assert path.parts[-3:] == ("spamsift", "data", "default-model")


class _Sandbox:
    """Parses in-process what a real sandbox would send to a worker; notes the limits."""

    min_bytes = 200

    def __init__(self) -> None:
        self.limits: list[object] = []

    def prepare_sync(self, raw: bytes, limits: ParseLimits) -> bytes | ParsedMessage:
        if len(raw) < self.min_bytes:
            return raw
        self.limits.append(limits)
        return parse_message(raw, limits)

    async def prepare(self, raw: bytes, limits: ParseLimits) -> bytes | ParsedMessage:
        return self.prepare_sync(raw, limits)


class _Auth:
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def apply(self, msg: ParsedMessage, raw: bytes, envelope: object = None) -> ParsedMessage:
        self.seen.append((msg.subject or "", envelope))
        return msg


@pytest.mark.parametrize("on_loop", [pytest.param(False, id="sync"),
                                     pytest.param(True, id="event-loop")])
def test_every_door_prepares_with_the_served_models_limits(small_model: SpamModel,
                                                           on_loop: bool) -> None:
    small = b"From: a@example.org\nSubject: short\n\nhi\n"
    large = b"From: a@example.org\nSubject: long\n\n" + b"word " * 100
    sandbox, auth = _Sandbox(), _Auth()
    out = []
    for raw, envelope in ((small, None), (large, "env")):
        args = (small_model, raw, sandbox, auth, envelope)
        out.append(asyncio.run(prepare(*args)) if on_loop else prepare_sync(*args))  # type: ignore[arg-type]
    # Only the large one went to the sandbox, with the model's own limits.
    assert sandbox.limits == [small_model.featurizer.limits]
    # Both were parsed for their authentication results, the envelope passed on.
    assert all(isinstance(m, ParsedMessage) for m in out)
    assert auth.seen == [("short", None), ("long", "env")]
    # Without an authenticator the small one stays raw bytes, for the batch to parse.
    assert prepare_sync(small_model, small, sandbox, None) == small  # type: ignore[arg-type]
