"""Processes on one store follow each other's feedback through its change log.

Two "processes" here are two models, each with its own follower and learner, on one
store (SQLite and PostgreSQL): what one is taught, the other learns exactly once and
in the store's order, and each ends equal to a model taught every label directly.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator

import numpy as np
import pytest

from spamsift.feedback import FeedbackStore
from spamsift.models.spam_model import SpamModel
from spamsift.training.online import (
    FeedbackFollower,
    LearningFeedback,
    ModelLearner,
    apply_change,
    catch_up_seq,
)


@pytest.fixture
def store(db_url: str) -> Iterator[FeedbackStore]:
    with FeedbackStore(db_url) as s:
        yield s


class Process:
    """One server's share: a model, caught up, a follower and the wrapped store."""

    def __init__(self, model: SpamModel, store: FeedbackStore, interval: float = 0) -> None:
        self.model = copy.deepcopy(model)
        self.follower = FeedbackFollower(store, lambda: self.model, ModelLearner(),
                                         interval=interval)
        self.follower.track(self.model, catch_up_seq(self.model, store))
        self.feedback = LearningFeedback(store, lambda: self.model, follower=self.follower)

    def logit(self, raw: bytes) -> float:
        return float(self.model.classify([raw], top=0)[0].logit)


def test_feedback_given_to_one_reaches_the_other_once(small_model: SpamModel,
                                                      store: FeedbackStore,
                                                      mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[0][0]
    a, b = Process(small_model, store), Process(small_model, store)
    z0 = b.logit(raw)
    event = a.feedback.add_feedback(raw, label="spam", user="ann", source="api")
    z_a = a.logit(raw)
    assert z_a > z0  # its own feedback at once
    assert b.logit(raw) == z0  # the other one not before it syncs
    assert b.follower.sync() == 1
    assert b.logit(raw) == pytest.approx(z_a, abs=1e-9)
    assert (a.follower.sync(), b.follower.sync()) == (0, 0)  # nothing applied twice
    assert a.logit(raw) == pytest.approx(z_a, abs=1e-9)

    b.feedback.retract(event.event_id)  # retracted on the other one
    assert a.follower.sync() == 1
    assert a.logit(raw) == pytest.approx(z0, abs=1e-9)
    assert b.logit(raw) == pytest.approx(z0, abs=1e-9)


def test_interleaved_writers_equal_one_model_taught_directly(
        small_model: SpamModel, store: FeedbackStore,
        mail_set: list[tuple[bytes, str]]) -> None:
    a, b = Process(small_model, store), Process(small_model, store)
    raws = [raw for raw, _ in mail_set[:6]]
    events = []
    for i, raw in enumerate(raws):  # each process writes every other message...
        who = a if i % 2 else b
        events.append(who.feedback.add_feedback(raw, label="spam", user="ann", source="api"))
    for i, raw in enumerate(raws[:3]):  # ...the other flips or retracts some of them
        who = b if i % 2 else a
        if i == 1:
            who.feedback.retract(events[i].event_id)
        else:
            who.feedback.add_feedback(raw, label="ham", user="bob", source="api")  # conflict
    a.follower.sync()
    b.follower.sync()
    # The oracle: one model taught the store's change log directly, each change once
    # and in order (the margin members' steps depend on order, so the log's order is
    # the one every process must follow).
    oracle = copy.deepcopy(small_model)
    for c in store.label_changes(since=0, limit=1000):
        apply_change(oracle, c.raw, c.previous_label, c.effective_label)
    # Counts commute: those are the bundled counts plus each final label, learned once.
    counted = copy.deepcopy(small_model)
    for lm in store.effective_labels():
        apply_change(counted, lm.raw, None, lm.label)
    np.testing.assert_allclose(a.model.classifier.nb_count_, counted.classifier.nb_count_,
                               rtol=0, atol=1e-9)
    for raw in raws:
        want = float(oracle.classify([raw], top=0)[0].logit)
        assert a.logit(raw) == pytest.approx(want, abs=1e-9)
        assert b.logit(raw) == pytest.approx(want, abs=1e-9)


def test_a_model_loaded_later_starts_where_its_snapshot_ends(
        small_model: SpamModel, store: FeedbackStore,
        mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[1][0]
    a = Process(small_model, store)
    a.feedback.add_feedback(raw, label="spam", user="ann", source="api")
    late = Process(small_model, store)  # caught up on the label: the change is not re-applied
    assert late.follower.sync() == 0
    assert late.logit(raw) == pytest.approx(a.logit(raw), abs=1e-9)


def test_the_thread_follows_within_a_deadline(small_model: SpamModel, store: FeedbackStore,
                                              mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[2][0]
    a, b = Process(small_model, store), Process(small_model, store, interval=0.1)
    z0 = b.logit(raw)
    b.follower.start()
    try:
        a.feedback.add_feedback(raw, label="spam", user="ann", source="api")
        deadline = time.monotonic() + 20
        while b.follower.applied < 1:
            assert time.monotonic() < deadline, "the follower did not apply the change"
            time.sleep(0.02)
        assert b.logit(raw) > z0
    finally:
        b.follower.stop()
    assert b.follower._thread is None


def test_a_store_that_fails_is_logged_and_retried(small_model: SpamModel,
                                                  store: FeedbackStore,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    p = Process(small_model, store, interval=0.05)
    calls = []

    def broken(since: int, limit: int) -> list[object]:
        calls.append(since)
        raise RuntimeError("database down")

    p.follower.store = type("Broken", (), {"label_changes": staticmethod(broken),
                                            "last_change": staticmethod(lambda: 0)})()
    p.follower.start()
    try:
        deadline = time.monotonic() + 20
        while len(calls) < 2:  # polled again after the failure: the thread lives on
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        p.follower.stop()
    assert "could not follow" in caplog.text


def test_on_postgresql_a_notification_wakes_the_follower_before_its_poll(
        small_model: SpamModel, pg_url: str, mail_set: list[tuple[bytes, str]]) -> None:
    raw = mail_set[3][0]
    with FeedbackStore(pg_url) as store:
        a, b = Process(small_model, store), Process(small_model, store, interval=60)
        b.follower.start()
        try:
            for n, label in enumerate(("spam", "ham"), start=1):
                # The second change can only arrive by notification: the thread has
                # synced once and waits, with its next poll a minute away.
                a.feedback.add_feedback(raw, label=label, user="ann", source="api")
                deadline = time.monotonic() + 20
                while b.follower.applied < n:
                    assert time.monotonic() < deadline, f"change {n} not applied in 20 s"
                    time.sleep(0.02)
            assert b.logit(raw) == pytest.approx(a.logit(raw), abs=1e-9)
        finally:
            t0 = time.monotonic()
            b.follower.stop()
        assert time.monotonic() - t0 < 30  # a long wait ends when asked to stop
