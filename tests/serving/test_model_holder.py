"""ModelHolder: atomic swaps, activation that changes nothing when it fails, refresh."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from spamsift.exceptions import ModelError
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.model_holder import ModelHolder


@pytest.fixture
def registry(tmp_path: Path, small_model: SpamModel) -> ModelRegistry:
    reg = ModelRegistry(tmp_path / "models")
    reg.add(lambda p: save_model(small_model, p), version="v1")
    reg.add(lambda p: save_model(dataclasses.replace(small_model, spam_cutoff=0.999), p),
            version="v2")
    reg.activate("v1")
    return reg


def test_a_fixed_holder_serves_one_model(small_model: SpamModel) -> None:
    holder = ModelHolder.fixed(small_model, "pinned")
    assert holder.ready and holder.current.model is small_model
    assert holder.current.version == "pinned"
    assert holder.refresh() is False
    for call in (holder.reload, lambda: holder.activate("v1")):
        with pytest.raises(ModelError, match="fixed model"):
            call()


def test_nothing_is_served_before_the_first_load(registry: ModelRegistry) -> None:
    holder = ModelHolder(registry)
    assert not holder.ready
    with pytest.raises(ModelError, match="no model loaded yet"):
        holder.current  # noqa: B018
    assert holder.reload().version == "v1"
    assert holder.ready and holder.loads == 1


def test_reload_needs_an_active_version(tmp_path: Path, small_model: SpamModel) -> None:
    reg = ModelRegistry(tmp_path / "empty")
    reg.add(lambda p: save_model(small_model, p), version="v1")
    with pytest.raises(ModelError, match="no active version"):
        ModelHolder(reg).reload()


def test_activate_swaps_one_reference(registry: ModelRegistry, small_model: SpamModel
                                      ) -> None:
    holder = ModelHolder(registry)
    before = holder.reload()
    after = holder.activate("v2")
    assert registry.active() == "v2"
    assert holder.current is after and after.version == "v2"
    assert after.model.spam_cutoff == 0.999
    # A request that took the old snapshot still has it, whole.
    assert before.version == "v1" and before.model.spam_cutoff == small_model.spam_cutoff


@pytest.mark.parametrize("version", ["v3", "../v1"])
def test_activating_an_unknown_version_changes_nothing(registry: ModelRegistry,
                                                       version: str) -> None:
    holder = ModelHolder(registry)
    loaded = holder.reload()
    with pytest.raises(ModelError):
        holder.activate(version)
    assert registry.active() == "v1" and holder.current is loaded


def test_a_version_that_fails_to_load_changes_nothing(registry: ModelRegistry) -> None:
    calls: list[Path] = []

    def loader(path: Path) -> SpamModel:
        calls.append(path)
        raise ModelError(f"{path}: broken")

    holder = ModelHolder(registry)
    loaded = holder.reload()
    holder._loader = loader
    with pytest.raises(ModelError, match="broken"):
        holder.activate("v2")
    assert calls == [registry.path("v2")]
    assert registry.active() == "v1" and holder.current is loaded


def test_refresh_follows_the_registry(registry: ModelRegistry) -> None:
    holder = ModelHolder(registry)
    holder.reload()
    assert holder.refresh() is False
    registry.activate("v2")  # from outside, e.g. the CLI
    assert holder.refresh() is True
    assert holder.current.version == "v2" and holder.loads == 2


def test_readers_never_see_a_torn_swap(registry: ModelRegistry, mail_set: list) -> None:
    holder = ModelHolder(registry)
    holder.reload()
    expected = {"v1": holder.current.model.spam_cutoff, "v2": 0.999}
    stop = threading.Event()
    seen: list[str] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                loaded = holder.current
                loaded.model.score([mail_set[0][0]])
                assert loaded.model.spam_cutoff == expected[loaded.version]
                seen.append(loaded.version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for version in ["v2", "v1"] * 3:
        holder.activate(version)
    stop.set()
    for t in readers:
        t.join()
    assert not errors
    assert seen and set(seen) <= {"v1", "v2"}
