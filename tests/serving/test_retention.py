"""``history_days``: the server purges older classifications at start and on a timer."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api.support import api_settings, make_keys
from spamsift.config import load_settings
from spamsift.db.database import default_url
from spamsift.exceptions import ConfigError
from spamsift.feedback import FeedbackStore
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.retention import purge_history

OLD = b"From: a@example.org\nSubject: old\n\nold\n"
NEW = b"From: b@example.org\nSubject: new\n\nnew\n"


@pytest.fixture
def holder(small_model: SpamModel) -> ModelHolder:
    return ModelHolder.fixed(small_model)


def _store(tmp_path: Path, days_ago: float) -> tuple[FeedbackStore, str]:
    then = datetime.now(UTC) - timedelta(days=days_ago)
    with FeedbackStore(default_url(tmp_path), clock=lambda: then) as old:
        cid = old.record_classification(OLD, 0.1, "ham", "v1")
    return FeedbackStore(default_url(tmp_path)), cid


def test_the_server_purges_at_start(tmp_path: Path, holder: ModelHolder) -> None:
    store, old = _store(tmp_path, days_ago=8)
    new = store.record_classification(NEW, 0.2, "ham", "v1")
    app = create_app(holder, keys=make_keys(), feedback=store,
                     settings=api_settings(history_days=7))
    try:
        with TestClient(app):
            deadline = time.monotonic() + 10
            while store.get_classification(old) is not None:
                assert time.monotonic() < deadline, "not purged in 10 s"
                time.sleep(0.02)
        assert store.get_classification(new) is not None
    finally:
        store.close()


def test_zero_days_keeps_everything(tmp_path: Path, holder: ModelHolder) -> None:
    store, old = _store(tmp_path, days_ago=400)
    app = create_app(holder, keys=make_keys(), feedback=store,
                     settings=api_settings(history_days=0))
    try:
        with TestClient(app) as client:
            client.get("/healthz")
        assert store.get_classification(old) is not None
    finally:
        store.close()


def test_purge_runs_again_and_survives_a_failing_store() -> None:
    class Flaky:
        calls = 0

        def prune_classifications(self, age: timedelta) -> object:
            self.calls += 1
            assert age == timedelta(days=2)
            if self.calls == 1:
                raise RuntimeError("database down")
            return type("R", (), {"classifications": 1, "messages": 0})()

    async def run(store: Flaky) -> None:
        task = asyncio.create_task(purge_history(store, 2, every=0.01))
        while store.calls < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    store = Flaky()
    asyncio.run(asyncio.wait_for(run(store), 10))
    assert store.calls >= 3


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_HISTORY_DAYS", "7.5")
    assert load_settings().history_days == 7.5
    monkeypatch.setenv("SPAMSIFT_HISTORY_DAYS", "-1")
    with pytest.raises(ConfigError, match="history_days"):
        load_settings()
    monkeypatch.delenv("SPAMSIFT_HISTORY_DAYS")
    assert load_settings().history_days == 30
