"""The feedback store's contract, run on the real store and on the API tests' fake.

The REST tests drive :class:`serving.api.support.FakeFeedbackStore`; these tests keep
it honest: whatever the API relies on (ids, duplicates, conflicts, corrections,
replays, retractions, errors) answers the same from both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serving.api.support import FakeFeedbackStore
from spamsift.exceptions import InputError, NotFoundError
from spamsift.feedback import FeedbackResult, FeedbackStore, RetractResult, message_id

from ._helpers import message

M1, M2 = message(1), message(2)


@pytest.fixture(params=["real", "fake"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "fake":
        yield FakeFeedbackStore()
        return
    with FeedbackStore(f"sqlite:///{tmp_path / 'spamsift.db'}") as s:
        yield s


def _shape(r: FeedbackResult) -> tuple[object, ...]:
    return r.label, r.duplicate, r.conflict, r.effective_label, r.replayed, r.previous_label


def test_first_vote_labels_and_a_second_agreeing_voter_is_a_duplicate(any_store: Any) -> None:
    first = any_store.add_feedback(M1, label="spam", user="ann")
    assert isinstance(first, FeedbackResult) and first.message_id == message_id(M1)
    assert _shape(first) == ("spam", False, False, "spam", False, None)
    again = any_store.add_feedback(M1, label="spam", user="bob")
    assert _shape(again) == ("spam", True, False, "spam", False, "spam")
    assert again.event_id != first.event_id


def test_voters_who_disagree_conflict_and_a_voter_who_changes_corrects(any_store: Any) -> None:
    any_store.add_feedback(M1, label="spam", user="ann")
    assert _shape(any_store.add_feedback(M1, label="ham", user="ann")) == (
        "ham", False, False, "ham", False, "spam")  # ann changed her mind
    assert _shape(any_store.add_feedback(M1, label="spam", user="bob")) == (
        "spam", False, True, None, False, "ham")


def test_without_a_user_the_key_votes(any_store: Any) -> None:
    any_store.add_feedback(M1, label="spam", key_id="k1")
    out = any_store.add_feedback(M1, label="ham", key_id="k2")
    assert out.conflict and out.effective_label is None


def test_feedback_on_a_recorded_classification(any_store: Any) -> None:
    cid = any_store.record_classification(M2, 0.9, "spam", "v1")
    out = any_store.add_feedback(label="ham", classification_id=cid, user="ann")
    assert out.message_id == message_id(M2) and out.effective_label == "ham"
    with pytest.raises(NotFoundError):
        any_store.add_feedback(label="ham", classification_id="nope", user="ann")


@pytest.mark.parametrize("kwargs", [
    pytest.param({"label": "spam"}, id="no-message"),
    pytest.param({"raw": M1, "label": "eggs"}, id="bad-label"),
    pytest.param({"raw": b"", "label": "spam"}, id="empty"),
])
def test_bad_feedback_is_an_input_error(any_store: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        any_store.add_feedback(user="ann", **kwargs)


def test_a_retried_client_event_id_replays_the_event(any_store: Any) -> None:
    first = any_store.add_feedback(M1, label="spam", user="ann", client_event_id="c-1")
    retry = any_store.add_feedback(M1, label="spam", user="ann", client_event_id="c-1")
    assert retry.replayed and retry.event_id == first.event_id
    assert retry.effective_label == "spam" and not retry.conflict


def test_retracting_unlearns_once(any_store: Any) -> None:
    a = any_store.add_feedback(M1, label="spam", user="ann")
    any_store.add_feedback(M1, label="ham", user="bob")
    out = any_store.retract(a.event_id, by="ann")
    assert isinstance(out, RetractResult)
    assert (out.effective_label, out.conflict, out.previous_label, out.already_retracted) == (
        "ham", False, None, False)
    assert any_store.retract(a.event_id).already_retracted
    with pytest.raises(NotFoundError):
        any_store.retract("no-such-event")
