"""The feedback store: what users said about messages, kept as an audit trail.

Every piece of feedback is an event that is never deleted (a retraction only
marks it), recorded with who gave it, through what and when. A message's
effective label follows from its live events by the rule in
:mod:`spamsift.feedback.labels`, and is kept in the ``labels`` table by the same
transaction that changes the events, so training reads one row per message.

Concurrency: a write locks the message's row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite the whole write transaction holds the database's write
lock), so one message's events are ordered (``seq``) and its label recomputed
by one writer at a time. Each change of a label is also appended to the change
log (``label_changes``) in that transaction; on PostgreSQL under one advisory lock
taken just before the insert, so log ids are handed out and committed in the same
order and a reader that has seen id ``n`` never finds an ``n - 1`` committed later.
On PostgreSQL the commit also notifies channel ``spamsift_label_changes``.

A ``client_event_id`` is unique in the table: a client that retries after a
timeout gets the stored event back, never a second one.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from spamsift.config import MAX_MESSAGE_BYTES
from spamsift.db.database import Database
from spamsift.db.schema import (
    classifications,
    feedback_events,
    label_changes,
    labels,
    messages,
)
from spamsift.exceptions import IdempotencyError, InputError, NotFoundError
from spamsift.feedback import history
from spamsift.feedback.labels import LABELS, LabelState, resolve, voter_of
from spamsift.feedback.messages import (
    compress,
    decompress,
    sender_of,
    strip_mbox_from,
    subject_of,
)
from spamsift.feedback.records import (
    Classification,
    Conflict,
    Counts,
    FeedbackEvent,
    FeedbackResult,
    LabelChangeRecord,
    LabelledMessage,
    NewClassification,
    PruneResult,
    RetractResult,
)

__all__ = ["FeedbackStore", "VERDICTS", "DEFAULT_MAX_MESSAGE_BYTES", "CHANGES_CHANNEL"]

# PostgreSQL NOTIFY channel a label change is announced on (followers LISTEN).
CHANGES_CHANNEL = "spamsift_label_changes"
# Any constant 64-bit number, other than the migration lock's: "SSLABELS".
_CHANGE_LOG_LOCK = 0x53534C4142454C53

VERDICTS = ("spam", "unsure", "ham")
# The parser's default cap (spamsift.config.MAX_MESSAGE_BYTES): a message it reads
# whole is kept whole here; a larger one is refused. The servers and `learn` pass
# their settings' limits.max_message_bytes.
DEFAULT_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES
_E = feedback_events.c

# The statements of the write path, built once: building them per call was half
# of add_feedback's time (cProfile, SQLite, 400 events: 3.2 ms an event, 1.5 ms
# with these), and writers in one process share one interpreter lock.
_EVENT_BY_CLIENT_ID = select(feedback_events).where(_E.client_event_id == bindparam("ceid"))
_CLASSIFIED_MESSAGE = select(classifications.c.message_id).where(
    classifications.c.id == bindparam("cid"))
_MESSAGE_EXISTS = select(messages.c.id).where(messages.c.id == bindparam("mid"))
_LOCK_MESSAGE = _MESSAGE_EXISTS.with_for_update()
_HISTORY = (select(_E.id, _E.seq, _E.label, _E.user_name, _E.key_id, _E.retracted_at)
            .where(_E.message_id == bindparam("mid")).order_by(_E.seq))
_MESSAGE_OF_EVENT = select(_E.message_id).where(_E.id == bindparam("eid"))
_LABEL_OF = select(labels.c.label, labels.c.conflict).where(
    labels.c.message_id == bindparam("mid"))
_INSERT_EVENT = insert(feedback_events)
_INSERT_CHANGE = insert(label_changes)
_LC = label_changes.c
_CHANGES = (select(_LC.id, _LC.message_id, _LC.previous_label, _LC.label, _LC.created_at,
                   messages.c.raw)
            .join(messages, messages.c.id == _LC.message_id)
            .where(_LC.id > bindparam("since")).order_by(_LC.id).limit(bindparam("limit")))
_LAST_CHANGE = select(func.coalesce(func.max(_LC.id), 0))
_UPSERTS = {}
for _name, _ins in (("postgresql", pg_insert), ("sqlite", sqlite_insert)):
    _u = _ins(labels)
    _UPSERTS[_name] = _u.on_conflict_do_update(
        index_elements=[labels.c.message_id],
        set_={c: _u.excluded[c] for c in ("label", "conflict", "active_events", "updated_at")})
    _UPSERTS[_name + ".message"] = _ins(messages).on_conflict_do_nothing(
        index_elements=[messages.c.id])


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _text(name: str, value: str | None, limit: int, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InputError(f"{name}: expected a non-empty string of at most {limit} characters, "
                         f"got {value!r:.80}")


class FeedbackStore:
    """Feedback events, effective labels and earlier classifications in one database.

    Parameters
    ----------
    database : str or Database
        A database URL (``sqlite:///PATH``, ``postgresql+psycopg://...``), opened and
        migrated here and closed by :meth:`close`; or an open :class:`Database` to
        share (with a :class:`~spamsift.feedback.keys.KeyStore`, say), left open.
    max_message_bytes : int
        Larger messages are refused with :class:`~spamsift.exceptions.InputError`.
    clock : callable, optional
        Returns the current aware datetime; for tests.

    Notes
    -----
    One store may serve many threads: each call takes its own pooled connection
    and runs in its own transaction.

    Examples
    --------
    >>> store = FeedbackStore("sqlite:///" + str(tmp / "fb.db"))  # doctest: +SKIP
    >>> store.add_feedback(raw, label="spam", user="ann@example.org")  # doctest: +SKIP
    FeedbackResult(event_id='...', message_id='...', label='spam', duplicate=False, ...)
    """

    def __init__(self, database: str | Database, *,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._owns = not isinstance(database, Database)
        self.db = Database(database) if isinstance(database, str) else database
        self.max_message_bytes = max_message_bytes
        self._clock = clock or _utcnow

    def close(self) -> None:
        """Close the database, if this store opened it."""
        if self._owns:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------

    def add_feedback(self, raw: bytes | None = None, *, label: str,
                     classification_id: str | None = None, user: str | None = None,
                     source: str = "api", key_id: str | None = None,
                     client_event_id: str | None = None) -> FeedbackResult:
        """Record that ``user`` says a message is ``label``.

        Parameters
        ----------
        raw : bytes, optional
            The message. May be left out when ``classification_id`` names it.
        label : {'spam', 'ham'}
        classification_id : str, optional
            The id :meth:`record_classification` gave a verdict on the message.
        user : str, optional
            The person or mailbox the feedback belongs to (its voter).
        source : str
            Through what it came: ``api``, ``cli``, ``replay``, ``imap``, ...
        key_id : str, optional
            The API key that sent it.
        client_event_id : str, optional
            The client's idempotency key: sending it again returns the stored
            event (``replayed=True``) instead of recording a second one.

        Raises
        ------
        InputError
            A bad label or field, no message, a message too large, or ``raw`` and
            ``classification_id`` naming different messages.
        NotFoundError
            No classification has ``classification_id``.
        IdempotencyError
            ``client_event_id`` names an event with other content or another key.
        """
        if label not in LABELS:
            raise InputError(f"label: expected 'spam' or 'ham', got {label!r}")
        _text("source", source, 32, required=True)
        _text("user", user, 320)
        _text("key_id", key_id, 32)
        _text("client_event_id", client_event_id, 128)
        _text("classification_id", classification_id, 36)
        body = self._check_raw(raw) if raw is not None else None
        if body is None and classification_id is None:
            raise InputError("feedback needs the message: give its bytes or a classification_id")
        mid = hashlib.sha256(body).hexdigest() if body is not None else None
        voter = voter_of(user, key_id)

        def tx(conn: Connection) -> FeedbackResult:
            if client_event_id is not None:
                row = conn.execute(_EVENT_BY_CLIENT_ID, {"ceid": client_event_id}).first()
                if row is not None:
                    return self._replay(conn, row, mid, label, user, key_id, classification_id)
            target = mid
            if classification_id is not None:
                cmid = conn.execute(_CLASSIFIED_MESSAGE, {"cid": classification_id}).scalar()
                if cmid is None:
                    raise NotFoundError(f"no classification with id {classification_id!r}")
                if target is not None and target != cmid:
                    raise InputError(f"classification {classification_id!r} is of message "
                                     f"{cmid[:12]}..., not of the message given ({target[:12]}...)")
                target = cmid
            assert target is not None
            self._lock_message(conn, target, body)
            now = self._clock()
            history = _history(conn, target)
            before = _state(history)
            event_id = str(uuid.uuid4())
            conn.execute(_INSERT_EVENT, {
                "id": event_id, "message_id": target,
                "seq": max((h.seq for h in history), default=0) + 1, "label": label,
                "user_name": user, "source": source, "key_id": key_id,
                "client_event_id": client_event_id, "classification_id": classification_id,
                "duplicate": before.label == label, "created_at": now})
            live = [(voter_of(h.user_name, h.key_id), h.label)
                    for h in history if h.retracted_at is None]
            after = resolve([*live, (voter, label)])
            _save_state(conn, target, after, len(live) + 1, now)
            _log_change(conn, target, before.label, after.label, now)
            return FeedbackResult(event_id, target, label, before.label == label, after.conflict,
                                  after.label, previous_label=before.label)

        # A unique-key race (the same client_event_id sent twice at once) is
        # retried: the second try finds the first one's event and replays it.
        return self.db.run(tx, what="recording feedback", retry_integrity=True)

    def retract(self, event_id: str, by: str | None = None) -> RetractResult:
        """Unlearn one feedback event exactly.

        The message's label becomes what it would be had the event never been
        recorded; the event stays in the audit trail, marked retracted ``by``.
        Retracting an event twice changes nothing the second time.

        Raises
        ------
        NotFoundError
            No event has ``event_id``.
        """
        _text("event_id", event_id, 36, required=True)
        _text("by", by, 320)

        def tx(conn: Connection) -> RetractResult:
            target = conn.execute(_MESSAGE_OF_EVENT, {"eid": event_id}).scalar()
            if target is None:
                raise NotFoundError(f"no feedback event with id {event_id!r}")
            self._lock_message(conn, target, None)
            history = _history(conn, target)
            before = _state(history)
            event = next(h for h in history if h.id == event_id)
            if event.retracted_at is not None:
                return RetractResult(event_id, target, before.label, before.conflict,
                                     before.label, already_retracted=True)
            now = self._clock()
            conn.execute(update(feedback_events).where(_E.id == event_id)
                         .values(retracted_at=now, retracted_by=by))
            live = [h for h in history if h.retracted_at is None and h.id != event_id]
            after = _state(live)
            _save_state(conn, target, after, len(live), now)
            _log_change(conn, target, before.label, after.label, now)
            return RetractResult(event_id, target, after.label, after.conflict, before.label)

        return self.db.run(tx, what="retracting feedback")

    def record_classification(self, raw: bytes, score: float, verdict: str,
                              model_version: str, *,
                              clues: Sequence[tuple[str, float]] | None = None,
                              flags: Sequence[str] | None = None) -> str:
        """Keep a verdict and its message, so feedback can cite it; returns its id.

        The row also keeps the message's sender and subject, and the verdict's
        ``clues`` and ``flags`` when given: the dashboard's history
        (:meth:`classifications`).
        """
        new = self.new_classification(raw, score, verdict, model_version, clues=clues,
                                      flags=flags)
        self.record_classifications([new])
        return new.id

    def new_classification(self, raw: bytes, score: float, verdict: str,
                           model_version: str, *,
                           clues: Sequence[tuple[str, float]] | None = None,
                           flags: Sequence[str] | None = None) -> NewClassification:
        """A classification checked and given its id and time, not yet written
        (:meth:`record_classifications` writes it). Cheap: no database.

        Raises
        ------
        InputError
            A verdict, score or model version out of range, or a message this store
            refuses (empty, over ``max_message_bytes``).
        """
        if verdict not in VERDICTS:
            raise InputError(f"verdict: expected one of {VERDICTS}, got {verdict!r}")
        if not isinstance(score, int | float) or not math.isfinite(score):
            raise InputError(f"score: expected a finite number, got {score!r}")
        _text("model_version", model_version, 200, required=True)
        body = self._check_raw(raw)
        return NewClassification(str(uuid.uuid4()), hashlib.sha256(body).hexdigest(), body,
                                 float(score), verdict, model_version, self._clock(),
                                 None if clues is None else tuple(clues),
                                 None if flags is None else tuple(flags))

    def record_classifications(self, new: Sequence[NewClassification]) -> None:
        """Write classifications made by :meth:`new_classification`, all in one
        transaction (each message stored once, however often it was classified)."""
        if not new:
            return
        bodies = {c.message_id: c.body for c in new}
        rows = [{"id": c.id, "message_id": c.message_id, "score": c.score,
                 "verdict": c.verdict, "model_version": c.model_version,
                 "sender": sender_of(c.body), "subject": subject_of(c.body),
                 "clues": history.clues_json(c.clues), "flags": history.flags_json(c.flags),
                 "created_at": c.created_at} for c in new]

        def tx(conn: Connection) -> None:
            # One look for all the messages and one insert of those missing: row by
            # row, the two statements were half of a batch's time (SQLite, 256 rows).
            have = set(conn.execute(select(messages.c.id).where(
                messages.c.id.in_(list(bodies)))).scalars())
            now = self._clock()
            missing = [self._message_row(mid, body, now) for mid, body in bodies.items()
                       if mid not in have]
            if missing:
                conn.execute(_UPSERTS[conn.dialect.name + ".message"], missing)
            conn.execute(insert(classifications), rows)

        # Integrity races here are a prune deleting a message at the same
        # moment: the retry stores the message again.
        self.db.run(tx, what=f"recording {len(rows)} classification(s)", retry_integrity=True)

    def prune_classifications(self, older_than: datetime | timedelta) -> PruneResult:
        """Delete classifications made before a time (or longer ago than an age).

        Messages then referred to by no classification and no feedback event are
        deleted too: what was only classified is not kept past its retention.
        """
        cutoff = self._clock() - older_than if isinstance(older_than, timedelta) else older_than
        c = classifications.c

        def tx(conn: Connection) -> PruneResult:
            n_cls = conn.execute(delete(classifications).where(c.created_at < cutoff)).rowcount
            orphan = and_(
                messages.c.first_seen < cutoff,
                ~exists().where(c.message_id == messages.c.id),
                ~exists().where(_E.message_id == messages.c.id),
            )
            n_msg = conn.execute(delete(messages).where(orphan)).rowcount
            return PruneResult(n_cls, n_msg)

        return self.db.run(tx, what="pruning classifications", retry_integrity=True)

    # -- reads ----------------------------------------------------------------

    def get_classification(self, classification_id: str) -> Classification | None:
        """The classification with this id, or None (never made, or pruned)."""
        with self.db.read() as conn:
            return history.one(conn, classification_id)

    def latest_classification(self, message_id: str) -> Classification | None:
        """The newest classification of a message still kept, or None."""
        with self.db.read() as conn:
            return history.latest_of(conn, message_id)

    def classifications(self, limit: int = 50, before: str | None = None, *,
                        verdict: str | None = None, sender: str | None = None,
                        text: str | None = None) -> list[Classification]:
        """Recent classifications, newest first, in pages (:mod:`spamsift.feedback.history`).

        Raises
        ------
        InputError
            ``limit`` outside 1..500, or an unknown verdict.
        NotFoundError
            ``before`` names no classification.
        """
        with self.db.read() as conn:
            return history.page(conn, limit=limit, before=before, verdict=verdict,
                                sender=sender, text=text)

    def raw_message(self, message_id: str) -> bytes | None:
        """A stored message's bytes (without any mbox ``From `` line), or None."""
        with self.db.read() as conn:
            stored = conn.execute(select(messages.c.raw)
                                  .where(messages.c.id == message_id)).scalar()
        return None if stored is None else decompress(stored)

    def effective_labels(self, since: datetime | None = None) -> Iterator[LabelledMessage]:
        """The training set: each message with a label and no conflict, once.

        ``since`` (inclusive) keeps the messages whose label changed at or after
        it, oldest change first. The time is taken inside each writing
        transaction, so a slow one may commit after a faster, later one: to read
        changes incrementally, ask from a little before the last change seen.
        """
        q = _labels_query(since)
        with self.db.read() as conn:
            for row in conn.execute(q.execution_options(yield_per=256)):
                yield LabelledMessage(row.message_id, decompress(row.raw), row.label,
                                      row.updated_at)

    def label_changes(self, since: int = 0, limit: int = 1000) -> list[LabelChangeRecord]:
        """The changes of effective labels after change ``since``, oldest first.

        Applying every change in order, from 0, gives each message's current label;
        a reader that keeps the last ``seq`` it applied and asks again gets each
        change once (the ids are committed in order, see the module docstring).
        """
        if not 0 < limit <= 10_000 or since < 0:
            raise InputError(f"label_changes: expected 0 < limit <= 10000 and since >= 0, "
                             f"got limit={limit}, since={since}")
        with self.db.read() as conn:
            rows = conn.execute(_CHANGES, {"since": since, "limit": limit}).all()
        return [LabelChangeRecord(r.id, r.message_id, r.previous_label, r.label,
                                  decompress(r.raw), r.created_at) for r in rows]

    def last_change(self) -> int:
        """The newest change's ``seq`` (0 before any)."""
        with self.db.read() as conn:
            return int(conn.execute(_LAST_CHANGE).scalar_one())

    def labels_with_seq(self, since: datetime | None = None
                        ) -> tuple[int, Iterator[LabelledMessage]]:
        """:meth:`effective_labels` and the change ``seq`` they include, from one snapshot.

        A model taught these labels then follows :meth:`label_changes` from ``seq``:
        nothing is learned twice, nothing falls between. The iterator holds a read
        transaction open until it is exhausted or closed.
        """
        gen = self._labels_with_seq(since)
        return next(gen), gen  # type: ignore[return-value]

    def _labels_with_seq(self, since: datetime | None) -> Iterator[int | LabelledMessage]:
        with self.db.read(snapshot=True) as conn:
            yield int(conn.execute(_LAST_CHANGE).scalar_one())
            for row in conn.execute(_labels_query(since).execution_options(yield_per=256)):
                yield LabelledMessage(row.message_id, decompress(row.raw), row.label,
                                      row.updated_at)

    def conflicts(self) -> list[Conflict]:
        """The messages whose voters disagree, most recently changed first."""
        q = (select(labels.c.message_id, labels.c.updated_at, messages.c.subject,
                    _E.user_name, _E.key_id, _E.label)
             .join(messages, messages.c.id == labels.c.message_id)
             .join(feedback_events, _E.message_id == labels.c.message_id)
             .where(labels.c.conflict, _E.retracted_at.is_(None))
             .order_by(labels.c.updated_at.desc(), labels.c.message_id, _E.seq))
        out: dict[str, Conflict] = {}
        with self.db.read() as conn:
            for row in conn.execute(q):
                c = out.setdefault(row.message_id, Conflict(row.message_id, row.subject, {},
                                                            row.updated_at))
                voter = voter_of(row.user_name, row.key_id)
                c.votes.pop(voter, None)
                c.votes[voter] = row.label
        return list(out.values())

    def events(self, limit: int = 100, offset: int = 0,
               message_id: str | None = None) -> list[FeedbackEvent]:
        """The audit trail, newest first (retracted events included, marked)."""
        if not 0 < limit <= 10_000 or offset < 0:
            raise InputError(f"events: expected 0 < limit <= 10000 and offset >= 0, "
                             f"got limit={limit}, offset={offset}")
        q = select(feedback_events).order_by(_E.created_at.desc(), _E.message_id, _E.seq.desc())
        if message_id is not None:
            q = q.where(_E.message_id == message_id)
        with self.db.read() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).all()
        return [_event(r) for r in rows]

    def counts(self) -> Counts:
        """How many messages, classifications, events and labels the store holds."""
        def n(conn: Connection, table: Any, *where: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table).where(*where))
                       .scalar_one())

        with self.db.read() as conn:
            return Counts(
                messages=n(conn, messages),
                classifications=n(conn, classifications),
                events=n(conn, feedback_events),
                retracted_events=n(conn, feedback_events, _E.retracted_at.is_not(None)),
                spam=n(conn, labels, labels.c.label == "spam"),
                ham=n(conn, labels, labels.c.label == "ham"),
                conflicts=n(conn, labels, labels.c.conflict),
            )

    # -- helpers ---------------------------------------------------------------

    def _check_raw(self, raw: bytes) -> bytes:
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise InputError(f"message: expected bytes, got {type(raw).__name__}")
        # Stripped once here, so the stored bytes hash to the message's id
        # (spamsift.feedback.messages.message_id).
        body = strip_mbox_from(bytes(raw))
        if not body:
            raise InputError("message: expected the bytes of a message, got nothing")
        if len(body) > self.max_message_bytes:
            raise InputError(f"message: expected at most {self.max_message_bytes} bytes, "
                             f"got {len(body)}")
        return body

    def _ensure_message(self, conn: Connection, mid: str, body: bytes) -> None:
        if conn.execute(_MESSAGE_EXISTS, {"mid": mid}).first() is None:
            self._insert_message(conn, mid, body)

    def _insert_message(self, conn: Connection, mid: str, body: bytes) -> None:
        # ON CONFLICT DO NOTHING: another writer may store the same message first.
        conn.execute(_UPSERTS[conn.dialect.name + ".message"],
                     self._message_row(mid, body, self._clock()))

    @staticmethod
    def _message_row(mid: str, body: bytes, now: datetime) -> dict[str, Any]:
        return {"id": mid, "raw": compress(body), "size": len(body),
                "subject": subject_of(body), "first_seen": now}

    def _lock_message(self, conn: Connection, mid: str, body: bytes | None) -> None:
        """Lock a message's row (storing ``body`` first if it is new) until commit.

        SQLite has no row locks and renders no FOR UPDATE: its write transaction
        holds the whole database's lock already.
        """
        if conn.execute(_LOCK_MESSAGE, {"mid": mid}).first() is not None:
            return
        if body is None:  # its classification is there, so it is: a prune got in between
            raise NotFoundError(f"message {mid[:12]}... is no longer stored")
        self._insert_message(conn, mid, body)
        conn.execute(_LOCK_MESSAGE, {"mid": mid}).first()

    def _replay(self, conn: Connection, row: Row[Any], mid: str | None, label: str,
                user: str | None, key_id: str | None,
                classification_id: str | None) -> FeedbackResult:
        cid = row.client_event_id
        if row.key_id != key_id:
            raise IdempotencyError(f"client_event_id {cid!r} was used by another client")
        same_message = (row.message_id == mid if mid is not None
                        else row.classification_id == classification_id)
        if not same_message or row.label != label or row.user_name != user:
            raise IdempotencyError(
                f"client_event_id {cid!r} names an earlier event with other content "
                f"(label {row.label!r}, user {row.user_name!r}, message {row.message_id[:12]}...)")
        state = conn.execute(_LABEL_OF, {"mid": row.message_id}).one()
        return FeedbackResult(row.id, row.message_id, row.label, row.duplicate, state.conflict,
                              state.label, replayed=True, previous_label=state.label)


def _labels_query(since: datetime | None) -> Any:
    q = (select(labels.c.message_id, messages.c.raw, labels.c.label, labels.c.updated_at)
         .join(messages, messages.c.id == labels.c.message_id)
         .where(labels.c.label.is_not(None))
         .order_by(labels.c.updated_at, labels.c.message_id))
    if since is not None:
        q = q.where(labels.c.updated_at >= since)
    return q


def _log_change(conn: Connection, mid: str, before: str | None, after: str | None,
                now: datetime) -> None:
    """Append a label change to the log (nothing when the label stayed)."""
    if before == after:
        return
    if conn.dialect.name == "postgresql":
        # Held to commit: the next writer's id is drawn after this one is visible.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHANGE_LOG_LOCK})
        conn.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANGES_CHANNEL})
    conn.execute(_INSERT_CHANGE, {"message_id": mid, "previous_label": before,
                                  "label": after, "created_at": now})


def _history(conn: Connection, mid: str) -> Sequence[Any]:
    return conn.execute(_HISTORY, {"mid": mid}).all()


def _state(history: Sequence[Any]) -> LabelState:
    return resolve((voter_of(h.user_name, h.key_id), h.label)
                   for h in history if h.retracted_at is None)


def _save_state(conn: Connection, mid: str, state: LabelState, active: int,
                now: datetime) -> None:
    conn.execute(_UPSERTS[conn.dialect.name], {
        "message_id": mid, "label": state.label, "conflict": state.conflict,
        "active_events": active, "updated_at": now})


def _event(r: Row[Any]) -> FeedbackEvent:
    return FeedbackEvent(r.id, r.message_id, r.seq, r.label, r.user_name, r.source, r.key_id,
                         r.client_event_id, r.classification_id, r.duplicate, r.created_at,
                         r.retracted_at, r.retracted_by)
