"""Fixtures of the REST API tests: a registry with two versions, apps and clients."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.api.support import FakeFeedbackStore, MakeClient, api_settings, make_keys
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder


@pytest.fixture(scope="session")
def second_model(small_model: SpamModel) -> SpamModel:
    """The small model with other cut-offs: a second version that is easy to tell apart."""
    return dataclasses.replace(small_model, spam_cutoff=0.999, unsure_cutoff=0.998)


@pytest.fixture(scope="session")
def model_dirs(small_model: SpamModel, second_model: SpamModel,
               tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("api-models")
    return {"v1": save_model(small_model, base / "v1"),
            "v2": save_model(second_model, base / "v2")}


@pytest.fixture
def registry(tmp_path: Path, model_dirs: dict[str, Path]) -> ModelRegistry:
    """A registry holding v1 (active) and v2."""
    reg = ModelRegistry(tmp_path / "models")
    for version, path in model_dirs.items():
        reg.add(path, version=version)
    reg.activate("v1")
    return reg


@pytest.fixture
def holder(registry: ModelRegistry) -> ModelHolder:
    h = ModelHolder(registry)
    h.reload()
    return h


@pytest.fixture
def store() -> FakeFeedbackStore:
    return FakeFeedbackStore()


@pytest.fixture
def make_client(holder: ModelHolder) -> Iterator[MakeClient]:
    """``make_client(holder=..., feedback=..., address=..., **settings)``: a started
    TestClient; ``address`` is the (host, port) the app sees the requests come from
    (by default Starlette's ``("testclient", 50000)``: not an IP address, so not
    loopback)."""
    clients: list[TestClient] = []

    def make(holder: ModelHolder = holder, feedback: Any = None,
             raise_server_exceptions: bool = True,
             address: tuple[str, int] = ("testclient", 50000), **settings: Any) -> TestClient:
        app = create_app(holder, keys=make_keys(), settings=api_settings(**settings),
                         feedback=feedback)
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions,
                            client=address)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
