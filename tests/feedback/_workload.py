"""The durability test's clients: a fixed plan of feedback per client, and a runner.

Run as a script (``python _workload.py URL CLIENT,CLIENT,...``) it is a process
of clients, one thread each: it opens their stores, prints ``ready``, waits for
a line on stdin, runs their plans and prints what they got back as JSON. It
imports nothing from the tests, so a child process needs only spamsift.

Each client sends ``EVENTS_PER_CLIENT`` events of its own over a shared pool of
messages and users, so clients meet on the same messages. Every 10th event is
sent twice (a retry after a timeout); every 25th is also sent by the partner
client (``client ^ 1``), as if a load balancer retried it on another node; every
40th is retracted by its sender afterwards.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from spamsift.feedback import FeedbackStore

CLIENTS = 50
EVENTS_PER_CLIENT = 200
MESSAGES = 300
USERS = 40


@dataclass(frozen=True)
class Send:
    client_event_id: str
    message: int
    label: str
    user: str


def message_bytes(i: int) -> bytes:
    return f"From: sender{i}@example.com\nSubject: message {i}\n\nbody of message {i}\n".encode()


def own_events(client: int) -> list[Send]:
    """The events ``client`` is the author of, in order."""
    rng = random.Random(client)
    return [Send(f"c{client}-e{j}", rng.randrange(MESSAGES), rng.choice(("spam", "ham")),
                 f"u{rng.randrange(USERS)}") for j in range(EVENTS_PER_CLIENT)]


def plan(client: int) -> list[tuple[str, Send]]:
    """What ``client`` does, in order: ``("send", event)`` or ``("retract", event)``."""
    partner = own_events(client ^ 1)
    ops: list[tuple[str, Send]] = []
    for j, ev in enumerate(own_events(client)):
        ops.append(("send", ev))
        if j % 10 == 0:
            ops.append(("send", ev))
        if j % 25 == 0:
            ops.append(("send", partner[j]))
        if j % 40 == 0:
            ops.append(("retract", ev))
    return ops


def expected_retracted() -> set[str]:
    return {f"c{c}-e{j}" for c in range(CLIENTS) for j in range(0, EVENTS_PER_CLIENT, 40)}


def run_client(store: FeedbackStore, client: int) -> dict[str, str]:
    """Carry out ``plan(client)``; returns client_event_id -> event_id as answered."""
    seen: dict[str, str] = {}
    for op, ev in plan(client):
        if op == "send":
            r = store.add_feedback(message_bytes(ev.message), label=ev.label, user=ev.user,
                                   source="replay", client_event_id=ev.client_event_id)
            if seen.setdefault(ev.client_event_id, r.event_id) != r.event_id:
                raise AssertionError(f"{ev.client_event_id}: two event ids")
        else:
            store.retract(seen[ev.client_event_id], by=f"client{client}")
    return seen


def run_clients(url: str, clients: list[int], ready: Callable[[], None]) -> dict[int, dict]:
    """Each client in a thread with a store of its own, started together after ``ready``.

    Returns each client's answers; raises the first error a client met.
    """
    stores = {c: FeedbackStore(url) for c in clients}
    answers: dict[int, dict[str, str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(clients) + 1)

    def client(c: int) -> None:
        start.wait()
        try:
            answers[c] = run_client(stores[c], c)
        except BaseException as exc:  # raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(c,)) for c in clients]
    try:
        for t in threads:
            t.start()
        ready()
        start.wait()
        for t in threads:
            t.join()
    finally:
        for s in stores.values():
            s.close()
    if errors:
        raise errors[0]
    return answers


def _wait_for_go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    got = run_clients(sys.argv[1], [int(c) for c in sys.argv[2].split(",")], _wait_for_go)
    print(json.dumps(got), flush=True)
