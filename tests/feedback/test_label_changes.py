"""The label-change log: one numbered row per change of an effective label."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from spamsift.exceptions import InputError
from spamsift.feedback import Database, FeedbackStore

from ._helpers import message


def _changes(store: FeedbackStore, since: int = 0) -> list[tuple[str | None, str | None]]:
    return [(c.previous_label, c.effective_label) for c in store.label_changes(since)]


def test_each_change_of_a_label_is_logged_once(store: FeedbackStore) -> None:
    raw = message(1)
    a = store.add_feedback(raw, label="spam", user="ann")
    store.add_feedback(raw, label="spam", user="bob")  # agrees: no change
    store.add_feedback(raw, label="ham", user="cat")  # disagrees: a conflict, no label
    store.retract(a.event_id)  # bob spam, cat ham: still a conflict
    assert _changes(store) == [(None, "spam"), ("spam", None)]
    changes = store.label_changes()
    assert [c.raw for c in changes] == [raw, raw]
    assert changes[0].seq < changes[1].seq == store.last_change()


def test_retraction_and_flip(store: FeedbackStore) -> None:
    e = store.add_feedback(message(2), label="ham", user="ann")
    store.add_feedback(message(2), label="spam", user="ann")  # ann changes her mind
    store.retract(e.event_id)  # her older vote: the label stays spam
    assert _changes(store) == [(None, "ham"), ("ham", "spam")]


def test_since_and_limit_page_through_in_order(store: FeedbackStore) -> None:
    for i in range(5):
        store.add_feedback(message(10 + i), label="spam", user="ann")
    all_ = store.label_changes()
    assert [c.seq for c in all_] == sorted(c.seq for c in all_)
    first = store.label_changes(0, limit=2)
    rest = store.label_changes(first[-1].seq)
    assert [c.seq for c in first + rest] == [c.seq for c in all_]
    assert store.label_changes(store.last_change()) == []


@pytest.mark.parametrize(("since", "limit"), [(-1, 10), (0, 0), (0, 10_001)])
def test_bad_arguments_are_refused(store: FeedbackStore, since: int, limit: int) -> None:
    with pytest.raises(InputError, match="label_changes"):
        store.label_changes(since, limit)


def test_labels_with_seq_is_one_snapshot(store: FeedbackStore) -> None:
    store.add_feedback(message(20), label="spam", user="ann")
    seq, rows = store.labels_with_seq()
    # Written while the snapshot is open: not in its labels, and after its seq.
    store.add_feedback(message(21), label="ham", user="ann")
    assert [r.raw for r in rows] == [message(20)]
    assert _changes(store, seq) == [(None, "ham")]


def test_existing_labels_are_logged_by_the_migration(db_url: str) -> None:
    db = Database(db_url)
    try:
        with FeedbackStore(db) as store:
            store.add_feedback(message(30), label="spam", user="ann")
            store.add_feedback(message(31), label="ham", user="ann")
            # Back to a store at schema 0001, labels and all, with no log yet.
            with db.write() as conn:
                for table in ("model_active", "model_versions", "label_changes"):
                    conn.execute(text(f"DROP TABLE {table}"))
                for column in ("sender", "subject", "clues", "flags"):  # 0003's
                    conn.execute(text(f"ALTER TABLE classifications DROP COLUMN {column}"))
                conn.execute(text("UPDATE spamsift_schema_version SET version_num = '0001'"))
            db.migrate()
            assert sorted(_changes(store)) == [(None, "ham"), (None, "spam")]
    finally:
        db.close()
