"""FeedbackStore on SQLite and PostgreSQL: the label rule through the database,
idempotency, retraction, classifications and the audit trail."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from spamsift.exceptions import InputError
from spamsift.feedback import (
    FeedbackStore,
    IdempotencyError,
    NotFoundError,
    message_id,
    resolve,
    voter_of,
)

from ._helpers import Clock, message

M1, M2, M3 = message(1), message(2), message(3)


def state(store: FeedbackStore, raw: bytes) -> tuple[str | None, bool]:
    """(effective label, in conflict) of one message, read back from the store."""
    mid = message_id(raw)
    labelled = {m.message_id: m.label for m in store.effective_labels()}
    conflicted = {c.message_id for c in store.conflicts()}
    return labelled.get(mid), mid in conflicted


def test_first_feedback_labels_the_message(store: FeedbackStore) -> None:
    r = store.add_feedback(M1, label="spam", user="ann")
    assert (r.message_id, r.label, r.effective_label, r.previous_label) == (
        message_id(M1), "spam", "spam", None)
    assert not r.duplicate and not r.conflict and not r.replayed
    [lm] = store.effective_labels()
    assert (lm.message_id, lm.raw, lm.label) == (message_id(M1), M1, "spam")


def test_same_message_learned_twice_counts_once(store: FeedbackStore) -> None:
    first = store.add_feedback(M1, label="spam", user="ann")
    again = store.add_feedback(M1, label="spam", user="ann")
    other = store.add_feedback(M1, label="spam", user="bob")
    assert not first.duplicate and again.duplicate and other.duplicate
    assert len(list(store.effective_labels())) == 1
    counts = store.counts()
    assert (counts.messages, counts.events, counts.spam, counts.ham) == (1, 3, 1, 0)
    # Duplicates are still in the audit trail, marked.
    assert [e.duplicate for e in store.events()] == [True, True, False]


def test_learned_both_ways_is_a_conflict(store: FeedbackStore) -> None:
    store.add_feedback(M1, label="spam", user="ann")
    r = store.add_feedback(M1, label="ham", user="bob")
    assert r.conflict and r.effective_label is None and not r.duplicate
    assert state(store, M1) == (None, True)
    [c] = store.conflicts()
    assert c.votes == {"user:ann": "spam", "user:bob": "ham"} and c.subject == "message 1"
    assert store.counts().conflicts == 1
    # Whoever speaks last does not settle it; only a changed vote does.
    assert store.add_feedback(M1, label="spam", user="cat").conflict
    settled = store.add_feedback(M1, label="spam", user="bob")
    assert (settled.conflict, settled.effective_label) == (False, "spam")
    assert store.conflicts() == []


def test_per_user_latest_event_wins(store: FeedbackStore) -> None:
    store.add_feedback(M1, label="spam", user="ann")
    r = store.add_feedback(M1, label="ham", user="ann")
    assert (r.effective_label, r.previous_label, r.conflict, r.duplicate) == (
        "ham", "spam", False, False)
    assert [e.label for e in store.events()] == ["ham", "spam"]  # the change is on record


def test_without_a_user_the_key_votes(store: FeedbackStore) -> None:
    store.add_feedback(M1, label="spam", key_id="k1")
    assert store.add_feedback(M1, label="ham", key_id="k1").effective_label == "ham"
    assert store.add_feedback(M1, label="spam", key_id="k2").conflict


def test_retract_restores_exactly(store: FeedbackStore) -> None:
    store.add_feedback(M1, label="spam", user="ann")
    ham = store.add_feedback(M1, label="ham", user="bob")
    r = store.retract(ham.event_id, by="admin")
    assert (r.effective_label, r.conflict, r.previous_label) == ("spam", False, None)
    assert state(store, M1) == ("spam", False)
    [ev] = store.events(message_id=message_id(M1), limit=1)
    assert ev.id == ham.event_id and ev.retracted_by == "admin" and ev.retracted_at is not None
    again = store.retract(ham.event_id)
    assert again.already_retracted and again.effective_label == "spam"
    assert store.counts().retracted_events == 1


def test_retracting_a_correction_brings_back_the_earlier_vote(store: FeedbackStore) -> None:
    store.add_feedback(M1, label="spam", user="ann")
    fix = store.add_feedback(M1, label="ham", user="ann")
    assert store.retract(fix.event_id).effective_label == "spam"


def test_retracting_the_only_event_unlabels(store: FeedbackStore) -> None:
    r = store.add_feedback(M1, label="spam", user="ann")
    assert store.retract(r.event_id).effective_label is None
    assert list(store.effective_labels()) == [] and store.counts().spam == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_store_follows_the_rule_under_random_feedback(store: FeedbackStore, seed: int) -> None:
    """Model-based: after every add or retract, each message's state is the rule
    applied to the live events a plain list says it has."""
    rng = random.Random(seed)
    msgs, users = [M1, M2, M3], ["ann", "bob", "cat", None]
    live: dict[str, tuple[bytes, str, str]] = {}  # event id -> (message, voter, label)
    for _ in range(40):
        if live and rng.random() < 0.3:
            eid = rng.choice(sorted(live))
            raw = live.pop(eid)[0]
            store.retract(eid)
        else:
            raw, user, label = rng.choice(msgs), rng.choice(users), rng.choice(["spam", "ham"])
            key = None if user else rng.choice(["k1", "k2"])
            before = resolve((v, lab) for m, v, lab in live.values() if m == raw)
            r = store.add_feedback(raw, label=label, user=user, key_id=key)
            assert r.previous_label == before.label
            live[r.event_id] = (raw, voter_of(user, key), label)
        expected = resolve((v, lab) for m, v, lab in live.values() if m == raw)
        assert state(store, raw) == (expected.label, expected.conflict)


def test_retract_unknown_event(store: FeedbackStore) -> None:
    with pytest.raises(NotFoundError, match="no feedback event"):
        store.retract("00000000-0000-0000-0000-000000000000")


def test_client_event_id_makes_a_retry_harmless(store: FeedbackStore) -> None:
    first = store.add_feedback(M1, label="spam", user="ann", client_event_id="c-1")
    retry = store.add_feedback(M1, label="spam", user="ann", client_event_id="c-1")
    assert retry.replayed and retry.event_id == first.event_id
    assert (retry.duplicate, retry.effective_label, retry.previous_label) == (False, "spam", "spam")
    assert store.counts().events == 1


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param({"label": "ham"}, "other content", id="other-label"),
        pytest.param({"raw": M2}, "other content", id="other-message"),
        pytest.param({"user": "bob"}, "other content", id="other-user"),
        pytest.param({"key_id": "k2"}, "another client", id="other-key"),
    ],
)
def test_client_event_id_reused_for_other_content(store: FeedbackStore, change: dict[str, str],
                                                  match: str) -> None:
    request = {"raw": M1, "label": "spam", "user": "ann", "key_id": "k1"}
    store.add_feedback(**request, client_event_id="c-1")  # type: ignore[arg-type]
    with pytest.raises(IdempotencyError, match=match):
        store.add_feedback(**{**request, **change}, client_event_id="c-1")  # type: ignore[arg-type]


def test_feedback_on_an_earlier_classification(store: FeedbackStore) -> None:
    cid = store.record_classification(M1, 0.97, "spam", "model-7")
    c = store.get_classification(cid)
    assert c is not None and (c.message_id, c.score, c.verdict, c.model_version) == (
        message_id(M1), 0.97, "spam", "model-7")
    r = store.add_feedback(label="ham", classification_id=cid, user="ann")
    assert (r.message_id, r.effective_label) == (message_id(M1), "ham")
    assert store.events()[0].classification_id == cid
    # Giving the bytes too is fine when they are the same message...
    assert store.add_feedback(M1, label="ham", classification_id=cid, user="bob").duplicate
    # ...and refused when they are not.
    with pytest.raises(InputError, match="not of the message given"):
        store.add_feedback(M2, label="ham", classification_id=cid)
    with pytest.raises(NotFoundError, match="no classification"):
        store.add_feedback(label="ham", classification_id="no-such-id")
    assert store.get_classification("no-such-id") is None


def test_classifying_twice_keeps_one_message(store: FeedbackStore) -> None:
    a = store.record_classification(M1, 0.2, "ham", "v1")
    b = store.record_classification(b"From x@y Sat Jan  1 00:00:00 2000\n" + M1, 0.3, "ham", "v1")
    assert a != b and store.counts().messages == 1 and store.counts().classifications == 2
    assert store.raw_message(message_id(M1)) == M1


def test_prune_classifications(store: FeedbackStore, clock: Clock) -> None:
    old_fed = store.record_classification(M1, 0.9, "spam", "v1")
    store.record_classification(M2, 0.1, "ham", "v1")
    store.add_feedback(label="spam", classification_id=old_fed, user="ann")
    clock.advance(days=10)
    recent = store.record_classification(M3, 0.5, "unsure", "v1")
    pruned = store.prune_classifications(timedelta(days=5))
    assert (pruned.classifications, pruned.messages) == (2, 1)
    assert store.get_classification(old_fed) is None and store.get_classification(recent)
    assert store.raw_message(message_id(M2)) is None  # only classified: gone
    assert store.raw_message(message_id(M1)) == M1  # has feedback: kept
    assert store.events()[0].classification_id is None
    assert store.prune_classifications(timedelta(days=5)).classifications == 0


def test_effective_labels_since(store: FeedbackStore, clock: Clock) -> None:
    store.add_feedback(M1, label="spam", user="ann")
    clock.advance(hours=1)
    mark = clock.now
    store.add_feedback(M2, label="ham", user="ann")
    store.add_feedback(M3, label="spam", user="ann")
    got = [m.message_id for m in store.effective_labels(since=mark)]
    assert got == [message_id(M2), message_id(M3)]  # oldest change first
    assert all(m.updated_at >= mark for m in store.effective_labels(since=mark))
    assert len(list(store.effective_labels())) == 3


def test_events_are_listed_newest_first_and_paged(store: FeedbackStore) -> None:
    ids = [store.add_feedback(message(i), label="spam", user="ann", source="cli",
                              key_id="k9").event_id for i in range(5)]
    assert [e.id for e in store.events()] == ids[::-1]
    assert [e.id for e in store.events(limit=2, offset=1)] == ids[3:1:-1]
    [e] = store.events(message_id=message_id(message(0)))
    assert (e.user, e.source, e.key_id, e.seq, e.created_at.tzinfo is not None) == (
        "ann", "cli", "k9", 1, True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"raw": M1, "label": "Spam"}, "expected 'spam' or 'ham'", id="label"),
        pytest.param({"label": "spam"}, "needs the message", id="no-message"),
        pytest.param({"raw": b"", "label": "spam"}, "got nothing", id="empty"),
        pytest.param({"raw": b"From x@y\n", "label": "spam"}, "got nothing", id="only-from-line"),
        pytest.param({"raw": b"x" * 2000, "label": "spam"}, "at most 1000 bytes", id="too-big"),
        pytest.param({"raw": "text", "label": "spam"}, "expected bytes", id="str"),
        pytest.param({"raw": M1, "label": "spam", "user": "u" * 321}, "user", id="long-user"),
        pytest.param({"raw": M1, "label": "spam", "source": ""}, "source", id="empty-source"),
    ],
)
def test_bad_feedback_is_refused(db_url: str, kwargs: dict[str, object], match: str) -> None:
    with FeedbackStore(db_url, max_message_bytes=1000) as store:
        with pytest.raises(InputError, match=match):
            store.add_feedback(**kwargs)  # type: ignore[arg-type]
        assert store.counts().events == 0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        pytest.param((M1, 0.5, "maybe", "v1"), "verdict", id="verdict"),
        pytest.param((M1, float("nan"), "ham", "v1"), "finite", id="nan"),
        pytest.param((M1, 0.5, "ham", ""), "model_version", id="no-version"),
    ],
)
def test_bad_classification_is_refused(store: FeedbackStore, args: tuple[object, ...],
                                       match: str) -> None:
    with pytest.raises(InputError, match=match):
        store.record_classification(*args)  # type: ignore[arg-type]


def test_events_limit_checked(store: FeedbackStore) -> None:
    with pytest.raises(InputError, match="limit"):
        store.events(limit=0)


def test_stores_share_one_database(db_url: str) -> None:
    from spamsift.feedback import Database, KeyStore

    db = Database(db_url)
    try:
        with FeedbackStore(db) as fs, KeyStore(db) as ks:
            fs.add_feedback(M1, label="spam")
            ks.create({"admin"})
        # Closing the stores left the shared database open.
        assert FeedbackStore(db).counts().events == 1
    finally:
        db.close()
