"""The live service every server front end opens, and per-user learn / forget."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamsift.config import Settings
from spamsift.datadir import open_stores
from spamsift.feedback import KeyStore
from spamsift.feedback.messages import message_id
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.live import StoresFactory, forget, learn, open_live
from spamsift.training.online import LearningFeedback

MESSAGE = b"From: ann@example.org\nSubject: lunch\n\nNoon at the usual place?\n"


@pytest.fixture
def data_dir(tmp_path: Path, small_model: SpamModel) -> Path:
    registry = ModelRegistry(tmp_path / "models")
    registry.activate(registry.add(lambda p: save_model(small_model, p), version="mine"))
    return tmp_path


def test_without_stores_there_is_a_model_and_nothing_else(data_dir: Path) -> None:
    live = open_live(data_dir, Settings())
    assert live.holder.current.version == "mine"
    assert live.feedback is None and live.keys is None


@pytest.mark.parametrize("stores", [pytest.param(None, id="no-stores"),
                                    pytest.param(open_stores, id="stores")])
def test_the_served_model_takes_the_sites_settings(data_dir: Path,
                                                   stores: StoresFactory | None) -> None:
    settings = Settings(priors=False, limits={"max_parts": 7})
    live = open_live(data_dir, settings, stores=stores)
    model = live.holder.current.model
    assert model.classifier.priors is False
    assert model.featurizer.limits.max_parts == 7


def test_with_stores_feedback_moves_the_served_model(data_dir: Path) -> None:
    holder, feedback, keys, *_ = open_live(data_dir, Settings(), stores=open_stores)
    assert isinstance(feedback, LearningFeedback) and isinstance(keys, KeyStore)
    before = holder.current.model.classify([MESSAGE], top=0)[0].logit
    assert learn(feedback, MESSAGE, "spam", user="ann", source="test")
    assert holder.current.model.classify([MESSAGE], top=0)[0].logit > before
    # a restart catches up with what was learned
    again = open_live(data_dir, Settings(), stores=open_stores)
    assert again.holder.current.model.classify([MESSAGE], top=0)[0].logit == pytest.approx(
        holder.current.model.classify([MESSAGE], top=0)[0].logit)


def test_learn_counts_a_users_vote_once_and_forget_takes_back_only_theirs(
        data_dir: Path) -> None:
    _, feedback, *_ = open_live(data_dir, Settings(), stores=open_stores)
    assert learn(feedback, MESSAGE, "spam", user="ann", source="test")
    assert not learn(feedback, MESSAGE, "spam", user="ann", source="test")
    assert learn(feedback, MESSAGE, "ham", user="ann", source="test")  # changed her mind
    assert learn(feedback, MESSAGE, "ham", user="bob", source="test")
    assert forget(feedback, MESSAGE, user="ann") == 2
    assert forget(feedback, MESSAGE, user="ann") == 0
    live = [e for e in feedback.events(message_id=message_id(MESSAGE)) if e.retracted_at is None]
    assert [(e.user, e.label) for e in live] == [("bob", "ham")]
    assert {e.retracted_by for e in feedback.events(message_id=message_id(MESSAGE))
            if e.user == "ann"} == {"ann"}


def test_the_models_commands_use_the_shared_registry_on_postgresql(tmp_path: Path,
                                                                   pg_url: str) -> None:
    from spamsift.datadir import open_registry
    from spamsift.models.db_registry import DatabaseRegistry

    assert isinstance(open_registry(tmp_path / "models", Settings()), ModelRegistry)
    shared = open_registry(tmp_path / "models", Settings(database_url=pg_url))
    try:
        assert isinstance(shared, DatabaseRegistry)
        assert shared.root == tmp_path / "models" / "shared"
    finally:
        shared.db.close()


def test_live_start_and_stop_follow_the_store(tmp_path: Path) -> None:
    live = open_live(tmp_path / "data", Settings(feedback_poll_seconds=0.05),
                     stores=open_stores)
    follower = live.feedback.follower
    live.start()
    live.start()  # twice is once
    try:
        assert follower._thread is not None and follower._thread.is_alive()
    finally:
        live.stop()
    assert follower._thread is None
    open_live(tmp_path / "bare", Settings()).stop()  # no store: nothing to follow
