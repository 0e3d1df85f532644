"""Feedback moves the live model through the store's effective labels, exactly."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from conftest import make_message
from spamsift.db.database import default_url
from spamsift.feedback import FeedbackStore
from spamsift.models.bundled import bundled_model_path
from spamsift.models.persistence import load_model
from spamsift.models.spam_model import SpamModel
from spamsift.training.online import LearningFeedback, apply_change, catch_up


@pytest.fixture
def model(small_model: SpamModel) -> SpamModel:
    return copy.deepcopy(small_model)


@pytest.fixture
def store(tmp_path: Path):
    s = FeedbackStore(default_url(tmp_path))
    yield s
    s.close()


def _logit(model: SpamModel, raw: bytes) -> float:
    return float(model.classify([raw], top=0)[0].logit)


@pytest.mark.parametrize(("before", "after", "moves"), [
    pytest.param(None, "spam", True, id="new-label"),
    pytest.param("spam", "spam", False, id="same-label"),
    pytest.param("spam", "ham", True, id="flip"),
    pytest.param("ham", None, True, id="retracted-or-conflict"),
])
def test_apply_change(model: SpamModel, mail_set: list[tuple[bytes, str]], before: str | None,
                      after: str | None, moves: bool) -> None:
    raw = mail_set[0][0]
    z0 = _logit(model, raw)
    assert apply_change(model, raw, before, after) is moves
    assert (_logit(model, raw) != z0) is moves


def test_flip_equals_learning_the_new_label_alone(model: SpamModel, small_model: SpamModel,
                                                  mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[0][0]
    other = copy.deepcopy(small_model)
    apply_change(model, raw, None, "ham")
    apply_change(model, raw, "ham", "spam")
    apply_change(other, raw, None, "spam")
    assert _logit(model, raw) == pytest.approx(_logit(other, raw), abs=1e-9)


def test_feedback_duplicate_and_retraction(model: SpamModel, store: FeedbackStore,
                                           mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[0][0]  # a ham message, reported as spam
    fb = LearningFeedback(store, lambda: model)
    z0 = _logit(model, raw)
    first = fb.add_feedback(raw, label="spam", user="alice", source="api")
    z1 = _logit(model, raw)
    assert z1 > z0
    again = fb.add_feedback(raw, label="spam", user="alice", source="api")
    assert again.duplicate and _logit(model, raw) == z1  # learned twice, counts once
    fb.retract(again.event_id)
    fb.retract(first.event_id)
    assert _logit(model, raw) == pytest.approx(z0, abs=1e-9)  # unlearned exactly


def test_conflicting_feedback_counts_for_nothing(model: SpamModel, store: FeedbackStore,
                                                 mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[1][0]
    fb = LearningFeedback(store, lambda: model)
    z0 = _logit(model, raw)
    fb.add_feedback(raw, label="spam", user="alice", source="api")
    res = fb.add_feedback(raw, label="ham", user="bob", source="api")
    assert res.conflict and res.effective_label is None
    assert _logit(model, raw) == pytest.approx(z0, abs=1e-9)


def test_catch_up_teaches_a_fresh_model_what_the_store_holds(
        model: SpamModel, small_model: SpamModel, store: FeedbackStore,
        mail_set: list[tuple[bytes, str]]) -> None:
    fb = LearningFeedback(store, lambda: model)
    for raw, label in mail_set[:6]:
        fb.add_feedback(raw, label="ham" if label == "spam" else "spam", user="u", source="api")
    fresh = copy.deepcopy(small_model)
    assert catch_up(fresh, store) == 6
    for raw, _ in mail_set[:8]:
        assert _logit(fresh, raw) == pytest.approx(_logit(model, raw), abs=1e-9)


def test_feedback_on_one_sender_fixes_its_next_messages(store: FeedbackStore) -> None:
    """20 misclassified messages of one sender, reported: the next ones are not ham.

    With the bundled model, trained on real mail: plain, polite text from an unknown
    sender passes as ham until users report it.
    """
    model = load_model(bundled_model_path())
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def from_sender(i: int) -> bytes:
        # Ham-looking text from a sender that is in fact a spammer.
        raw = make_message("ham", 100 + i, rng, start + timedelta(hours=i))
        head, _, body = raw.partition(b"\n\n")
        lines = [ln for ln in head.split(b"\n") if not ln.lower().startswith(b"from:")]
        return b"\n".join([b"From: Newsletter <deals@promo-sender.example>", *lines]) + (
            b"\n\n" + body)

    before = [model.classify([from_sender(i)], top=0)[0].verdict for i in range(20, 25)]
    assert before.count("ham") >= 3, before  # the model is fooled at first
    fb = LearningFeedback(store, lambda: model)
    for i in range(20):
        fb.add_feedback(from_sender(i), label="spam", user="alice", source="api")
    after = [model.classify([from_sender(i)], top=0)[0] for i in range(20, 25)]
    assert all(v.verdict != "ham" for v in after), [(v.verdict, v.score) for v in after]
    assert np.mean([v.score for v in after]) > 0.5
