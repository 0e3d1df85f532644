"""The history of classifications: what each row keeps, filters, paging by key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spamsift.exceptions import InputError
from spamsift.feedback import FeedbackStore, NotFoundError, message_id

from ._helpers import Clock

HAM = b"From: Ann Lee <Ann@Example.org>\nSubject: Lunch on Friday?\n\nNoon?\n"
SPAM = b"From: promo@win.example\nSubject: You WON 100% free_stuff\n\nClaim now\n"
UNSURE = b"From: bob@example.net\nSubject: invoice\n\nsee attached\n"
CLUES = [("subj:won", 2.5), ("url_host:win.example", 1.25)]


def _fill(store: FeedbackStore) -> dict[str, str]:
    return {"ham": store.record_classification(HAM, 0.01, "ham", "v1"),
            "spam": store.record_classification(SPAM, 0.99, "spam", "v1", clues=CLUES,
                                                flags=["missing:date", "charset:unknown"]),
            "unsure": store.record_classification(UNSURE, 0.6, "unsure", "v2")}


def test_a_row_keeps_sender_subject_clues_and_flags(store: FeedbackStore) -> None:
    ids = _fill(store)
    c = store.get_classification(ids["spam"])
    assert c is not None
    assert (c.sender, c.subject, c.clues, c.flags) == (
        "promo@win.example", "You WON 100% free_stuff", tuple(CLUES),
        ("charset:unknown", "missing:date"))
    plain = store.get_classification(ids["ham"])
    assert plain is not None and (plain.sender, plain.clues, plain.flags) == (
        "ann@example.org", None, None)


def test_newest_first_with_filters(store: FeedbackStore) -> None:
    ids = _fill(store)
    assert [c.id for c in store.classifications()] == [ids["unsure"], ids["spam"], ids["ham"]]
    assert [c.id for c in store.classifications(verdict="spam")] == [ids["spam"]]
    assert [c.id for c in store.classifications(sender="EXAMPLE.ORG")] == [ids["ham"]]
    assert [c.id for c in store.classifications(text="lunch")] == [ids["ham"]]
    assert [c.id for c in store.classifications(text="win.ex")] == [ids["spam"]]  # sender
    assert {c.id for c in store.classifications(text="example")} == {ids["ham"], ids["unsure"],
                                                                      ids["spam"]}
    # LIKE's wildcards are plain characters here.
    assert [c.id for c in store.classifications(text="100%")] == [ids["spam"]]
    assert [c.id for c in store.classifications(text="_")] == [ids["spam"]]
    assert store.classifications(text="%") == store.classifications(text="100%")
    assert store.classifications(verdict="ham", text="won") == []


def test_pages_by_key_see_every_row_once(store: FeedbackStore, clock: Clock) -> None:
    made = [store.record_classification(HAM + str(i).encode(), 0.1, "ham", "v1")
            for i in range(7)]
    seen: list[str] = []
    before = None
    while True:
        page = store.classifications(limit=3, before=before)
        seen += [c.id for c in page]
        if len(page) < 3:
            break
        before = page[-1].id
        store.record_classification(SPAM, 0.9, "spam", "v1")  # newer rows shift nothing
    assert seen == made[::-1]


def test_rows_of_one_instant_are_paged_by_id(db_url: str) -> None:
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    with FeedbackStore(db_url, clock=lambda: instant) as store:
        made = {store.record_classification(HAM + bytes([65 + i]), 0.1, "ham", "v1")
                for i in range(5)}
        first = store.classifications(limit=2)
        rest = store.classifications(limit=10, before=first[-1].id)
        assert [c.id for c in first + rest] == sorted(made, reverse=True)


@pytest.mark.parametrize(("kwargs", "error"), [
    pytest.param({"limit": 0}, InputError, id="limit-0"),
    pytest.param({"limit": 501}, InputError, id="limit-501"),
    pytest.param({"verdict": "maybe"}, InputError, id="verdict"),
    pytest.param({"before": "no-such-id"}, NotFoundError, id="before-unknown"),
])
def test_bad_pages(store: FeedbackStore, kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        store.classifications(**kwargs)  # type: ignore[arg-type]


def test_latest_classification_of_a_message(store: FeedbackStore, clock: Clock) -> None:
    store.record_classification(SPAM, 0.8, "spam", "v1")
    clock.advance(minutes=1)
    newest = store.record_classification(SPAM, 0.7, "unsure", "v2")
    found = store.latest_classification(message_id(SPAM))
    assert found is not None and found.id == newest
    assert store.latest_classification(message_id(HAM)) is None


def test_retention_purges_old_rows_only(store: FeedbackStore, clock: Clock) -> None:
    old = store.record_classification(HAM, 0.01, "ham", "v1")
    clock.advance(days=31)
    new = store.record_classification(SPAM, 0.99, "spam", "v1")
    store.prune_classifications(timedelta(days=30))
    assert [c.id for c in store.classifications()] == [new]
    assert store.get_classification(old) is None and store.raw_message(message_id(HAM)) is None
