"""The history of classifications, as the dashboard lists it: newest first, in pages.

Paging is by key, not by offset: the next page is the rows older than the last one
seen (``before=`` its id), so classifications recorded meanwhile do not shift rows
from one page to the next. Filters, each optional: the verdict; ``sender``, part of
the From address; ``text``, part of the subject or the sender. Text matches ignore
case (ILIKE on PostgreSQL, LIKE on SQLite, which ignores ASCII case).

Clues and flags are kept as JSON text, as the verdict gave them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from spamsift.db.schema import classifications
from spamsift.exceptions import InputError, NotFoundError
from spamsift.feedback.records import Classification

__all__ = ["MAX_PAGE", "clues_json", "flags_json", "page", "one", "latest_of",
           "row_to_classification"]

MAX_PAGE = 500
_C = classifications.c
_VERDICTS = ("spam", "unsure", "ham")


def clues_json(clues: Iterable[tuple[str, float]] | None) -> str | None:
    """The stored form of a verdict's clues (weights to 4 places, as the API gives them)."""
    if clues is None:
        return None
    return json.dumps([[str(c), round(float(w), 4)] for c, w in clues])


def flags_json(flags: Iterable[str] | None) -> str | None:
    return None if flags is None else json.dumps(sorted(str(f) for f in flags))


def row_to_classification(row: Any) -> Classification:
    clues = None if row.clues is None else tuple((c, float(w)) for c, w in json.loads(row.clues))
    flags = None if row.flags is None else tuple(json.loads(row.flags))
    return Classification(row.id, row.message_id, row.score, row.verdict, row.model_version,
                          row.created_at, row.sender, row.subject, clues, flags)


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page(conn: Connection, *, limit: int = 50, before: str | None = None,
         verdict: str | None = None, sender: str | None = None,
         text: str | None = None) -> list[Classification]:
    """At most ``limit`` classifications, newest first, older than ``before`` if given.

    Raises
    ------
    InputError
        ``limit`` outside 1..500, or an unknown verdict.
    NotFoundError
        ``before`` names no classification (never made, or purged since).
    """
    if not 0 < limit <= MAX_PAGE:
        raise InputError(f"limit: expected 1 to {MAX_PAGE}, got {limit}")
    if verdict is not None and verdict not in _VERDICTS:
        raise InputError(f"verdict: expected one of {', '.join(_VERDICTS)}, got {verdict!r}")
    q = select(classifications)
    if before is not None:
        cursor = conn.execute(select(_C.created_at).where(_C.id == before)).scalar()
        if cursor is None:
            raise NotFoundError(f"before: no classification with id {before!r} "
                                "(purged, or never made)")
        q = q.where(or_(_C.created_at < cursor, and_(_C.created_at == cursor, _C.id < before)))
    if verdict is not None:
        q = q.where(_C.verdict == verdict)
    if sender:
        q = q.where(_C.sender.ilike(_like(sender.strip()), escape="\\"))
    if text:
        pattern = _like(text.strip())
        q = q.where(or_(_C.subject.ilike(pattern, escape="\\"),
                        _C.sender.ilike(pattern, escape="\\")))
    rows = conn.execute(q.order_by(_C.created_at.desc(), _C.id.desc()).limit(limit)).all()
    return [row_to_classification(r) for r in rows]


def one(conn: Connection, classification_id: str) -> Classification | None:
    row = conn.execute(select(classifications).where(_C.id == classification_id)).first()
    return None if row is None else row_to_classification(row)


def latest_of(conn: Connection, message_id: str) -> Classification | None:
    """The newest classification of a message, or None (none kept)."""
    row = conn.execute(select(classifications).where(_C.message_id == message_id)
                       .order_by(_C.created_at.desc(), _C.id.desc()).limit(1)).first()
    return None if row is None else row_to_classification(row)
