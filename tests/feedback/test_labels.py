"""The effective-label rule on its own, as a table of event sequences."""

from __future__ import annotations

import pytest

from spamsift.feedback.labels import LabelState, resolve, voter_of

A, B, C = "user:ann", "user:bob", "user:cat"


@pytest.mark.parametrize(
    ("events", "label", "conflict"),
    [
        pytest.param([], None, False, id="no-events-no-label"),
        pytest.param([(A, "spam")], "spam", False, id="one-vote"),
        pytest.param([(A, "spam"), (A, "spam")], "spam", False, id="same-voter-twice-counts-once"),
        pytest.param([(A, "spam"), (B, "spam")], "spam", False, id="agreement"),
        pytest.param([(A, "spam"), (B, "ham")], None, True, id="disagreement-is-conflict"),
        pytest.param([(A, "spam"), (A, "ham")], "ham", False, id="voter-corrects-themself"),
        pytest.param([(A, "spam"), (B, "ham"), (B, "spam")], "spam", False,
                     id="conflict-settled-by-a-changed-vote"),
        pytest.param([(A, "spam"), (B, "ham"), (C, "spam")], None, True,
                     id="majority-does-not-settle-a-conflict"),
        pytest.param([(A, "ham"), (B, "spam"), (A, "spam")], "spam", False,
                     id="latest-per-voter-not-latest-overall"),
    ],
)
def test_rule(events: list[tuple[str, str]], label: str | None, conflict: bool) -> None:
    state = resolve(events)
    assert (state.label, state.conflict) == (label, conflict)


def test_votes_are_each_voters_latest_label() -> None:
    assert resolve([(A, "spam"), (B, "ham"), (A, "ham")]) == LabelState(
        "ham", False, {B: "ham", A: "ham"})


@pytest.mark.parametrize(
    ("user", "key_id", "voter"),
    [
        pytest.param("ann@example.org", "k1", "user:ann@example.org", id="user-wins"),
        pytest.param(None, "k1", "key:k1", id="else-the-key"),
        pytest.param(None, None, "anonymous", id="else-anonymous"),
        pytest.param("key:k1", None, "user:key:k1", id="namespaces-do-not-collide"),
    ],
)
def test_voter(user: str | None, key_id: str | None, voter: str) -> None:
    assert voter_of(user, key_id) == voter
