"""The data folder a server starts on, and how the app is built from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spamsift.config import Settings
from spamsift.datadir import prepare_data_dir
from spamsift.exceptions import ConfigError
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving import server
from spamsift.serving.api import InMemoryKeys
from spamsift.serving.server import build_app, run


def test_a_fresh_folder_starts_with_the_bundled_model(tmp_path: Path) -> None:
    registry = prepare_data_dir(tmp_path / "data")
    versions = registry.versions()
    assert len(versions) == 1 and versions[0].is_active
    assert (registry.path(versions[0].version) / "manifest.json").is_file()
    again = prepare_data_dir(tmp_path / "data")  # a restart adds nothing
    assert [v.version for v in again.versions()] == [versions[0].version]


def test_a_registry_without_an_active_version_is_refused(tmp_path: Path,
                                                         small_model: SpamModel) -> None:
    ModelRegistry(tmp_path / "models").add(lambda p: save_model(small_model, p), version="v1")
    with pytest.raises(ConfigError, match="none is active"):
        prepare_data_dir(tmp_path)


def test_build_app_serves_the_active_version_with_the_stores(tmp_path: Path,
                                                             small_model: SpamModel) -> None:
    registry = ModelRegistry(tmp_path / "models")
    registry.activate(registry.add(lambda p: save_model(small_model, p), version="mine"))
    keys = InMemoryKeys()
    secret = keys.add("ops", {"admin"})
    seen: list[tuple[Path, Settings]] = []

    def stores(data_dir: Path, settings: Settings) -> tuple[InMemoryKeys, None]:
        seen.append((data_dir, settings))
        return keys, None

    settings = Settings(model_poll_seconds=0)
    with TestClient(build_app(tmp_path, settings, stores=stores)) as client:
        assert client.get("/readyz").json()["model_version"] == "mine"
        models = client.get("/v1/models", headers={"Authorization": f"Bearer {secret}"})
        assert models.json()["active"] == "mine"
    assert seen == [(tmp_path, settings)]


def test_without_stores_only_classify_works(tmp_path: Path) -> None:
    with TestClient(build_app(tmp_path, Settings(model_poll_seconds=0))) as client:
        assert client.post("/v1/classify", content=b"Subject: x\n\ny").status_code == 200
        assert client.get("/v1/models").status_code == 401


def module_level_stores(data_dir: Path, settings: Settings) -> tuple[None, None]:
    return None, None


def test_workers_need_a_stores_factory_they_can_import(tmp_path: Path) -> None:
    assert server._name_of(module_level_stores) == f"{__name__}:module_level_stores"
    with pytest.raises(ConfigError, match="module-level function"):
        server._name_of(lambda d, s: (None, None))
    with pytest.raises(ConfigError, match="workers: expected 1 or more"):
        run("127.0.0.1", 0, tmp_path, Settings(), workers=0)


def test_a_worker_builds_its_app_from_the_environment(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    settings = Settings(model_poll_seconds=0, top_clues=3)
    monkeypatch.setenv(server._WORKER_ENV, json.dumps({
        "data_dir": str(tmp_path), "settings": settings.model_dump(mode="json"),
        "stores": server._name_of(module_level_stores)}))
    app = server._worker_app()
    assert app.state.spamsift.settings == settings
    assert app.state.spamsift.holder.ready


def test_processes_seeding_one_fresh_folder_at_once_add_one_version(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from spamsift.datadir import prepare_data_dir; "
            "print(prepare_data_dir(sys.argv[1]).active())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "data")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e.decode()[-500:] for _, e in outs]
    assert len({o for o, _ in outs}) == 1
    assert len(prepare_data_dir(tmp_path / "data").versions()) == 1


@pytest.mark.parametrize(("workers", "setting", "expected"), [
    pytest.param(None, 0, "cores", id="default-one-per-core"),
    pytest.param(None, 3, 3, id="setting"),
    pytest.param(1, 3, 1, id="argument-wins"),
])
def test_serve_uses_every_core_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           workers: int | None, setting: int,
                                           expected: int | str) -> None:
    import os

    started: list[int] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: started.append(1))
    monkeypatch.setattr(server, "_run_workers", lambda config: started.append(config.workers))
    monkeypatch.setattr(server, "build_app", lambda *a, **k: None)
    monkeypatch.setenv(server._WORKER_ENV, "")  # run() sets it: restored after
    run("127.0.0.1", 0, tmp_path, Settings(serve_workers=setting), workers=workers)
    cores = len(os.sched_getaffinity(0))
    assert started == [cores if expected == "cores" else expected]
    assert server.default_workers() == cores
