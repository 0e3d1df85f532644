"""The model registry: add, list, activate, roll back, and refuse bad names."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest

from spamsift.exceptions import ModelError, ModelFormatError, ModelIntegrityError
from spamsift.models.artifact import ARRAYS_NAME, MANIFEST_NAME, save_artifact
from spamsift.models.registry import ACTIVE_NAME, ModelRegistry, VersionInfo


def builder(coef: float, **manifest: object):
    """A builder for ModelRegistry.add: writes a one-array artifact."""
    return lambda path: save_artifact(path, manifest=manifest, arrays={"coef": np.array([coef])})


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry")


def test_empty_registry(registry: ModelRegistry) -> None:
    assert registry.versions() == []
    assert registry.active() is None
    with pytest.raises(ModelError, match="no active version"):
        registry.load_active()


def test_add_from_a_directory_copies_it(registry: ModelRegistry, tmp_path: Path) -> None:
    source = save_artifact(tmp_path / "out", manifest={}, arrays={"coef": np.ones(2)})
    (source / "notes.txt").write_text("scratch", encoding="utf-8")
    version = registry.add(source, version="v1")
    assert version == "v1"
    assert sorted(p.name for p in registry.path("v1").iterdir()) == [ARRAYS_NAME, MANIFEST_NAME]
    assert (source / ARRAYS_NAME).is_file()  # copied, not moved


def test_default_version_sorts_by_time(registry: ModelRegistry) -> None:
    version = registry.add(builder(1.0))
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", version)
    assert [info.version for info in registry.versions()] == [version]


def test_versions_lists_created_metrics_and_active(registry: ModelRegistry) -> None:
    metrics = {"fn_rate": 0.03, "fp_rate": 0.001, "per_fold": [0.1, 0.2], "note": "5-fold"}
    registry.add(builder(1.0, metrics=metrics), version="a")
    registry.add(builder(2.0), version="b")
    registry.activate("b")
    a, b = registry.versions()
    assert isinstance(a, VersionInfo)
    assert (a.version, a.is_active, b.version, b.is_active) == ("a", False, "b", True)
    assert a.metrics == {"fn_rate": 0.03, "fp_rate": 0.001, "note": "5-fold"}  # scalars only
    assert b.metrics == {}
    assert a.created is not None and a.created.endswith("Z")
    assert a.problem is None


def test_activate_and_roll_back(registry: ModelRegistry) -> None:
    registry.add(builder(1.0), version="2026.1")
    registry.add(builder(2.0), version="2026.2")

    registry.activate("2026.2")
    assert registry.active() == "2026.2"
    assert registry.load_active()[1]["coef"].tolist() == [2.0]

    registry.activate("2026.1")  # roll back
    assert registry.active() == "2026.1"
    assert registry.load_active()[1]["coef"].tolist() == [1.0]
    assert (registry.root / ACTIVE_NAME).read_text(encoding="utf-8") == "2026.1\n"
    assert sorted(p.name for p in registry.root.iterdir()) == [ACTIVE_NAME, "versions"]


def test_activate_unknown_version(registry: ModelRegistry) -> None:
    registry.add(builder(1.0), version="v1")
    with pytest.raises(ModelError, match=r"unknown version 'v2'.*v1"):
        registry.activate("v2")
    assert registry.active() is None


def test_activate_refuses_a_damaged_version(registry: ModelRegistry) -> None:
    registry.add(builder(1.0), version="good")
    registry.add(builder(2.0), version="bad")
    registry.activate("good")
    arrays = registry.path("bad") / ARRAYS_NAME
    data = bytearray(arrays.read_bytes())
    data[-30] ^= 0xFF
    arrays.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        registry.activate("bad")
    assert registry.active() == "good"


def test_version_name_taken(registry: ModelRegistry) -> None:
    registry.add(builder(1.0), version="v1")
    with pytest.raises(ModelError, match="already exists"):
        registry.add(builder(2.0), version="v1")
    assert [info.version for info in registry.versions()] == ["v1"]
    assert sorted(p.name for p in registry.versions_dir.iterdir()) == ["v1"]  # no staging left


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../x", id="parent"),
        pytest.param("..", id="dotdot"),
        pytest.param(".", id="dot"),
        pytest.param(".hidden", id="hidden"),
        pytest.param("a/b", id="slash"),
        pytest.param("a\\b", id="backslash"),
        pytest.param("/etc", id="absolute"),
        pytest.param("", id="empty"),
        pytest.param("v1\n", id="trailing-newline"),
        pytest.param("-rf", id="option-like"),
        pytest.param("caf\u00e9", id="non-ascii"),
        pytest.param("x" * 129, id="too-long"),
        pytest.param(42, id="not-a-str"),
    ],
)
def test_bad_version_names(registry: ModelRegistry, tmp_path: Path, name: object) -> None:
    with pytest.raises(ModelError, match="version"):
        registry.add(builder(1.0), version=name)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="version"):
        registry.activate(name)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="version"):
        registry.path(name)  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()
    assert registry.versions() == []


def test_add_refuses_a_broken_artifact(registry: ModelRegistry, tmp_path: Path) -> None:
    source = save_artifact(tmp_path / "out", manifest={}, arrays={"coef": np.ones(2)})
    (source / ARRAYS_NAME).unlink()
    with pytest.raises(ModelFormatError, match=f"{ARRAYS_NAME} is missing"):
        registry.add(source, version="v1")
    assert registry.versions() == []


def test_add_refuses_a_builder_that_writes_nothing(registry: ModelRegistry) -> None:
    with pytest.raises(ModelFormatError, match="found nothing"):
        registry.add(lambda path: None, version="v1")
    assert registry.versions() == []


def test_a_damaged_manifest_is_listed_with_its_problem(registry: ModelRegistry) -> None:
    registry.add(builder(1.0), version="v1")
    (registry.path("v1") / MANIFEST_NAME).write_text("{", encoding="utf-8")
    (info,) = registry.versions()
    assert info.created is None
    assert info.problem is not None and "JSON" in info.problem


def test_corrupt_pointer_is_reported(registry: ModelRegistry) -> None:
    registry.add(builder(1.0), version="v1")
    (registry.root / ACTIVE_NAME).write_text("../../etc\n", encoding="utf-8")
    with pytest.raises(ModelError, match=ACTIVE_NAME):
        registry.active()


def test_readers_see_whole_names_while_another_activates(registry: ModelRegistry) -> None:
    names = {"first-version-name", "v2"}  # different lengths: a torn write would show
    for coef, name in enumerate(sorted(names)):
        registry.add(builder(float(coef)), version=name)
    registry.activate("v2")
    seen: list[str | None] = []
    stop = threading.Event()

    def read() -> None:
        reader = ModelRegistry(registry.root)
        while not stop.is_set():
            try:
                seen.append(reader.active())
            except ModelError as exc:  # recorded, not raised: the thread must not die silently
                seen.append(f"error: {exc}")

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for i in range(40):
            registry.activate(sorted(names)[i % 2])
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert seen
    assert set(seen) <= names
