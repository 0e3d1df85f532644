"""Single classify calls scored together: batches form only under load, never mix
models, keep each answer with its message, and one bad message fails alone."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.api.support import FakeFeedbackStore, MakeClient
from spamsift.models.spam_model import SpamModel, Verdict
from spamsift.parse.message import ParsedMessage
from spamsift.serving.api.batching import ScoreBatcher
from spamsift.serving.model_holder import LoadedModel, ModelHolder

Mail = list[tuple[bytes, str]]


def loaded(name: str) -> LoadedModel:
    return LoadedModel(model=None, version=name, loaded_at=0.0)  # type: ignore[arg-type]


V1 = loaded("v1")  # batches group requests by the very model object they took


class Scorer:
    """Answers each message with its own bytes; records the batches; fails on b'bad'."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.batches: list[tuple[str, list[bytes]]] = []
        self.threads: set[int] = set()

    def __call__(self, model: LoadedModel, raws: list[bytes], items: list[Any]) -> list[Any]:
        assert items == raws  # no sandbox here: every item is its raw message
        self.batches.append((model.version, list(raws)))
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        return [ValueError(f"cannot score {r!r}") if r == b"bad"
                else (Verdict(0.5, "unsure", 0.0, [], []), f"{model.version}:{r.decode()}")
                for r in raws]


def test_a_lone_message_is_scored_at_once_alone() -> None:
    scorer = Scorer()
    batcher = ScoreBatcher(scorer)

    async def go() -> list[str | None]:
        return [(await batcher.score(V1, m))[1] for m in (b"a", b"b")]

    assert asyncio.run(go()) == ["v1:a", "v1:b"]
    assert scorer.batches == [("v1", [b"a"]), ("v1", [b"b"])]


def test_messages_arriving_while_one_is_scored_go_together_in_order() -> None:
    scorer = Scorer(delay=0.05)
    batcher = ScoreBatcher(scorer, max_messages=4)

    async def go() -> list[Any]:
        first = asyncio.ensure_future(batcher.score(V1, b"m0"))
        await asyncio.sleep(0.01)  # m0 is being scored: the rest queue up
        rest = [batcher.score(V1, f"m{i}".encode()) for i in range(1, 10)]
        return await asyncio.gather(first, *rest)

    answers = asyncio.run(go())
    assert [cid for _, cid in answers] == [f"v1:m{i}" for i in range(10)]
    assert [len(raws) for _, raws in scorer.batches] == [1, 4, 4, 1]


def test_a_batch_holds_one_model_and_a_bad_message_fails_alone() -> None:
    scorer = Scorer(delay=0.05)
    batcher = ScoreBatcher(scorer)
    v1, v2 = loaded("v1"), loaded("v2")

    async def go() -> list[Any]:
        first = asyncio.ensure_future(batcher.score(v1, b"x"))
        await asyncio.sleep(0.01)
        calls = [batcher.score(v1, b"a"), batcher.score(v1, b"bad"),
                 batcher.score(v2, b"b"), batcher.score(v1, b"c")]
        return await asyncio.gather(first, *calls, return_exceptions=True)

    x, a, bad, b, c = asyncio.run(go())
    assert (x[1], a[1], b[1], c[1]) == ("v1:x", "v1:a", "v2:b", "v1:c")
    assert isinstance(bad, ValueError)
    assert [(v, len(raws)) for v, raws in scorer.batches] == [("v1", 1), ("v1", 2),
                                                              ("v2", 1), ("v1", 1)]


def test_batches_are_bounded_in_bytes_but_a_big_message_still_goes() -> None:
    scorer = Scorer(delay=0.05)
    batcher = ScoreBatcher(scorer, max_bytes=10)

    async def go() -> None:
        first = asyncio.ensure_future(batcher.score(V1, b"0"))
        await asyncio.sleep(0.01)
        await asyncio.gather(first, *(batcher.score(V1, m)
                                      for m in (b"1" * 4, b"2" * 4, b"3" * 4, b"4" * 20)))

    asyncio.run(go())
    assert [[len(r) for r in raws] for _, raws in scorer.batches] == [[1], [4, 4], [4], [20]]


def test_a_cancelled_request_is_skipped_and_the_rest_answered() -> None:
    scorer = Scorer(delay=0.05)
    batcher = ScoreBatcher(scorer)

    async def go() -> Any:
        first = asyncio.ensure_future(batcher.score(V1, b"x"))
        await asyncio.sleep(0.01)
        gone = asyncio.ensure_future(batcher.score(V1, b"gone"))
        kept = asyncio.ensure_future(batcher.score(V1, b"kept"))
        await asyncio.sleep(0)
        gone.cancel()
        return await first, await kept

    (_, x), (_, kept) = asyncio.run(go())
    assert (x, kept) == ("v1:x", "v1:kept")
    assert scorer.batches[1] == ("v1", [b"kept"])


def test_the_batcher_follows_a_new_event_loop() -> None:
    batcher = ScoreBatcher(Scorer())
    for _ in range(2):
        assert asyncio.run(batcher.score(V1, b"a"))[1] == "v1:a"


def test_concurrent_http_calls_answer_as_the_model_alone(
        make_client: MakeClient, small_model: SpamModel, mail_set: Mail) -> None:
    store = FakeFeedbackStore()
    client: TestClient = make_client(feedback=store)
    raws = [raw for raw, _ in mail_set[:24]]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda r: client.post("/v1/classify", content=r), raws))
    assert client.app.state.spamsift.recorder.flush(5.0)  # type: ignore[attr-defined]
    for raw, r in zip(raws, answers, strict=True):
        assert r.status_code == 200, r.text
        expected = small_model.classify([raw], top=4)[0]
        assert r.json()["score"] == pytest.approx(expected.score)
        assert [c["clue"] for c in r.json()["clues"]] == [c for c, _ in expected.clues]
        stored_raw, score, _, _ = store.classifications[r.json()["classification_id"]]
        assert stored_raw == raw and score == pytest.approx(expected.score)


def test_scoring_failure_of_one_message_fails_that_request_only(
        make_client: MakeClient, holder: ModelHolder, mail_set: Mail,
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = holder.current.model
    real = model.classify

    def classify(raws: list[bytes | ParsedMessage], top: int = 8) -> list[Verdict]:
        # The door hands the model parses (authentication results filled), not bytes.
        if any("POISON" in (r.body_text if isinstance(r, ParsedMessage) else r.decode())
               for r in raws):
            raise RuntimeError("poisoned")
        return real(raws, top=top)

    monkeypatch.setattr(model, "classify", classify)
    client = make_client(raise_server_exceptions=False)
    raws = [raw for raw, _ in mail_set[:6]] + [mail_set[0][0] + b"\nPOISON\n"]
    with ThreadPoolExecutor(7) as pool:
        codes = list(pool.map(lambda r: client.post("/v1/classify", content=r).status_code,
                              raws))
    assert codes == [200] * 6 + [500]


def test_a_batch_the_model_fails_on_is_scored_message_by_message(
        make_client: MakeClient, holder: ModelHolder, mail_set: Mail,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from spamsift.serving.api.batching import ScoreBatcher

    model = holder.current.model
    real = model.classify
    calls: list[int] = []

    def classify(raws: list[bytes], top: int = 8) -> list[Verdict]:
        calls.append(len(raws))
        if any(b"POISON" in r for r in raws):
            raise RuntimeError("poisoned")
        return real(raws, top=top)

    monkeypatch.setattr(model, "classify", classify)
    store = FakeFeedbackStore()
    state = make_client(feedback=store).app.state.spamsift
    raws = [mail_set[0][0], mail_set[1][0] + b"\nPOISON\n", mail_set[2][0]]
    batcher = ScoreBatcher(state.service.classify_many)

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(*(batcher.score(holder.current, r) for r in raws),
                                    return_exceptions=True)

    good0, bad, good2 = asyncio.run(all_at_once())
    # The first is scored at once, alone; the two that queued behind it share a call,
    # which fails, and are then scored one by one.
    assert calls == [1, 2, 1, 1]
    assert isinstance(bad, RuntimeError)
    assert good0[0].score == pytest.approx(real([raws[0]], top=4)[0].score)
    assert good2[0].score == pytest.approx(real([raws[2]], top=4)[0].score)
    assert state.recorder.flush(5.0)
    assert len(store.classifications) == 2  # the failed message is not recorded


@pytest.mark.parametrize(("linger", "expected"), [(0.0, [[b"c"], [b"d"]]),
                                                   (0.5, [[b"c", b"d"]])])
def test_after_a_batch_the_callers_just_answered_may_share_the_next(
        linger: float, expected: list[list[bytes]]) -> None:
    scorer = Scorer(delay=0.05)
    batcher = ScoreBatcher(scorer, linger=linger)

    async def client(first: bytes, then: bytes, pause: float) -> None:
        await batcher.score(V1, first)
        await asyncio.sleep(pause)  # the client reads its answer, sends the next
        await batcher.score(V1, then)

    async def go() -> None:
        x = asyncio.ensure_future(batcher.score(V1, b"x"))
        await asyncio.sleep(0.01)
        await asyncio.gather(x, client(b"a", b"c", 0.0), client(b"b", b"d", 0.02))

    asyncio.run(go())
    assert [raws for _, raws in scorer.batches] == [[b"x"], [b"a", b"b"], *expected]
