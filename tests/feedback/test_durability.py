"""Durability: 50 concurrent clients, 10,000 feedback events, none lost or duplicated.

The clients (``_workload.py``) meet on a few hundred messages, send some events
twice and some through a partner client, and retract some. Afterwards the
database must hold exactly the planned events, each once, with the planned
content; every client that sent an event must have been told the same id; each
message's events must be numbered 1..n; and every stored effective label must be
the rule applied to the message's live events.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from spamsift.db.schema import feedback_events, labels
from spamsift.feedback import FeedbackStore, message_id, resolve, voter_of

from . import _workload as wl
from .conftest import POSTGRESQL, sqlite_url

WORKLOAD = Path(wl.__file__)


def run_all(url: str, processes: int, per_process: int) -> dict[int, dict[str, str]]:
    """The 50 clients: ``processes`` children of ``per_process`` client threads each,
    the rest as threads of this process; all start together."""
    in_children = processes * per_process
    groups = [list(range(i, i + per_process)) for i in range(0, in_children, per_process)]
    children = [subprocess.Popen(
        [sys.executable, str(WORKLOAD), url, ",".join(map(str, g))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for g in groups]

    def release_children() -> None:
        for p in children:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in children:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()

    try:
        answers = wl.run_clients(url, list(range(in_children, wl.CLIENTS)), release_children)
        for p in children:
            out, _ = p.communicate(timeout=300)
            assert p.returncode == 0, f"a client process failed: {out[-2000:]}"
            answers.update({int(c): a for c, a in json.loads(out.splitlines()[-1]).items()})
    finally:
        for p in children:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert sorted(answers) == list(range(wl.CLIENTS))
    return answers


def check(url: str, answers: dict[int, dict[str, str]]) -> None:
    planned = {ev.client_event_id: ev for c in range(wl.CLIENTS) for ev in wl.own_events(c)}
    assert len(planned) == wl.CLIENTS * wl.EVENTS_PER_CLIENT == 10_000
    with FeedbackStore(url) as store, store.db.read() as conn:
        rows = conn.execute(select(feedback_events).order_by(
            feedback_events.c.message_id, feedback_events.c.seq)).all()
        stored_labels = {r.message_id: (r.label, r.conflict, r.active_events)
                         for r in conn.execute(select(labels))}

    # Exactly the planned events, each once, as planned.
    assert len(rows) == len(planned)
    by_ceid = {r.client_event_id: r for r in rows}
    assert by_ceid.keys() == planned.keys()
    for ceid, r in by_ceid.items():
        ev = planned[ceid]
        assert (r.message_id, r.label, r.user_name) == (
            message_id(wl.message_bytes(ev.message)), ev.label, ev.user), ceid
    assert {r.client_event_id for r in rows if r.retracted_at is not None} == (
        wl.expected_retracted())

    # Every client was told the id that was stored, retries and partners alike.
    for answered in answers.values():
        for ceid, event_id in answered.items():
            assert by_ceid[ceid].id == event_id, ceid

    # Each message's events are numbered 1..n, and its label follows the rule.
    per_message: dict[str, list] = defaultdict(list)
    for r in rows:
        per_message[r.message_id].append(r)
    assert stored_labels.keys() == per_message.keys()
    for mid, events in per_message.items():
        assert [e.seq for e in events] == list(range(1, len(events) + 1)), mid
        live = [e for e in events if e.retracted_at is None]
        expected = resolve((voter_of(e.user_name, e.key_id), e.label) for e in live)
        assert stored_labels[mid] == (expected.label, expected.conflict, len(live)), mid


def test_sqlite_threads_and_processes(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    FeedbackStore(url).close()  # created once, so the clients time writing, not migrating
    check(url, run_all(url, processes=4, per_process=3))


def test_postgresql_threads(pg_url: str) -> None:
    FeedbackStore(pg_url).close()
    check(pg_url, run_all(pg_url, processes=1, per_process=25))


@pytest.mark.parametrize("backend", ["sqlite", POSTGRESQL])
def test_same_event_sent_by_many_clients_at_once(request: pytest.FixtureRequest,
                                                 tmp_path: Path, backend: str) -> None:
    """The sharpest race: 20 clients send one client_event_id at the same instant."""
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    FeedbackStore(url).close()
    stores = [FeedbackStore(url) for _ in range(20)]
    start = threading.Barrier(len(stores))
    got: list[str] = []

    def send(s: FeedbackStore) -> None:
        start.wait()
        got.append(s.add_feedback(wl.message_bytes(1), label="spam", user="ann",
                                  client_event_id="once").event_id)

    threads = [threading.Thread(target=send, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores[1:]:
        s.close()
    try:
        assert len(got) == 20 and len(set(got)) == 1
        assert stores[0].counts().events == 1
    finally:
        stores[0].close()
