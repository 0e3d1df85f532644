"""POST /v1/classify and /v1/classify/batch: the body forms, the answer, the refusals."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from serving.api.support import FakeFeedbackStore, MakeClient, api_settings, bearer, make_keys
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder
from strategies import arbitrary_bytes, message_bytes

Mail = list[tuple[bytes, str]]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("content_type", [
    pytest.param("message/rfc822", id="rfc822"),
    pytest.param("application/octet-stream", id="octet-stream"),
    pytest.param("text/plain; charset=utf-8", id="text-plain"),
    pytest.param(None, id="no-content-type"),
    pytest.param("application/x-www-form-urlencoded", id="curl-data-binary"),
])
def test_raw_body_forms_answer_like_the_model(client: TestClient, small_model: SpamModel,
                                              mail_set: Mail, content_type: str | None) -> None:
    raw = mail_set[1][0]
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/v1/classify", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    expected = small_model.classify([raw], top=4)[0]
    assert body["verdict"] == expected.verdict
    assert body["score"] == pytest.approx(expected.score)
    assert body["logit"] == pytest.approx(expected.logit)
    assert [c["clue"] for c in body["clues"]] == [c for c, _ in expected.clues]
    assert body["flags"] == expected.flags
    assert body["cutoffs"] == {"spam": small_model.spam_cutoff,
                               "unsure": small_model.unsure_cutoff}
    assert body["model_version"] == "v1"
    assert body["classification_id"] is None


def test_json_form_with_base64_equals_raw_form(client: TestClient, mail_set: Mail) -> None:
    raw = mail_set[0][0]
    as_raw = client.post("/v1/classify", content=raw).json()
    wrapped = "\n".join(b64(raw)[i:i + 76] for i in range(0, len(b64(raw)), 76))
    as_json = client.post("/v1/classify", json={"message_b64": wrapped}).json()
    assert as_json == as_raw


def test_spam_and_ham_of_the_training_set_are_told_apart(client: TestClient,
                                                          mail_set: Mail) -> None:
    verdicts = {label: client.post("/v1/classify", content=raw).json()["verdict"]
                for raw, label in mail_set[:2]}
    assert verdicts == {"ham": "ham", "spam": "spam"}


def test_with_a_store_each_classification_gets_an_id(make_client: MakeClient,
                                                     mail_set: Mail) -> None:
    store = FakeFeedbackStore()
    client = make_client(feedback=store)
    first = client.post("/v1/classify", content=mail_set[0][0]).json()
    batch = client.post("/v1/classify/batch", json={"messages": [
        {"id": "a", "message_b64": b64(mail_set[1][0])}]}).json()
    assert first["classification_id"] == "c1"
    assert batch["results"][0]["classification_id"] == "c2"
    assert client.app.state.spamsift.recorder.flush(5.0)  # type: ignore[attr-defined]
    raw, score, verdict, version = store.classifications["c1"]
    assert (raw, score, verdict, version) == (mail_set[0][0], first["score"],
                                              first["verdict"], "v1")


def test_batch_keeps_order_and_ids(client: TestClient, small_model: SpamModel,
                                   mail_set: Mail) -> None:
    raws = [raw for raw, _ in mail_set[:5]]
    r = client.post("/v1/classify/batch", json={"messages": [
        {"id": f"m{i}", "message_b64": b64(raw)} for i, raw in enumerate(raws[:4])
    ] + [{"message_b64": b64(raws[4])}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "v1"
    assert body["cutoffs"]["spam"] == small_model.spam_cutoff
    assert [x["id"] for x in body["results"]] == ["m0", "m1", "m2", "m3", None]
    expected = small_model.classify(raws, top=4)
    assert [x["score"] for x in body["results"]] == pytest.approx([v.score for v in expected])


@pytest.mark.parametrize(("body", "content_type", "code"), [
    pytest.param(b"", None, "not_a_message", id="empty"),
    pytest.param(b" \r\n\t\n", "message/rfc822", "not_a_message", id="whitespace"),
    pytest.param(b'{"message_b64": ""}', "application/json", "not_a_message",
                 id="json-empty-message"),
    pytest.param(b'{"message_b64": "not base64!"}', "application/json", "bad_input",
                 id="json-bad-base64"),
    pytest.param(b'{"message_b64": "QUJDR"}', "application/json", "bad_input",
                 id="json-bad-padding"),
])
def test_not_a_message_is_400(client: TestClient, body: bytes, content_type: str | None,
                              code: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/v1/classify", content=body, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"] == code
    assert "expected" in r.json()["message"]


@pytest.mark.parametrize("body", [
    pytest.param(b"{", id="truncated"),
    pytest.param(b"[]", id="not-an-object"),
    pytest.param(b'{"message": "x"}', id="wrong-field"),
    pytest.param(b'{"message_b64": 5}', id="wrong-type"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
])
def test_bad_json_is_422_with_details(client: TestClient, body: bytes) -> None:
    for path in ("/v1/classify", "/v1/classify/batch"):
        r = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"] == "invalid_request"
        assert r.json()["details"] and r.json()["message"]


def test_batch_refusals(make_client: MakeClient, mail_set: Mail) -> None:
    client = make_client(max_batch_messages=3)
    item = {"message_b64": b64(mail_set[0][0])}
    too_many = client.post("/v1/classify/batch", json={"messages": [item] * 4})
    assert too_many.status_code == 413
    assert "at most 3" in too_many.json()["message"]
    assert client.post("/v1/classify/batch", json={"messages": []}).status_code == 422
    bad = client.post("/v1/classify/batch",
                      json={"messages": [item, {"message_b64": "%%%"}]})
    assert bad.status_code == 400
    assert "messages[1].message_b64" in bad.json()["message"]


def test_body_over_the_limit_is_413_declared_or_streamed(make_client: MakeClient) -> None:
    client = make_client(max_request_bytes=1000)
    declared = client.post("/v1/classify", content=b"x" * 1001)
    assert declared.status_code == 413
    assert declared.json()["error"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while streaming
        for _ in range(100):
            yield b"y" * 100

    streamed = client.post("/v1/classify", content=chunks())
    assert streamed.status_code == 413
    assert client.post("/v1/classify", content=b"Subject: a\n\n" + b"z" * 900).status_code \
        == 200


def test_scoring_runs_off_the_event_loop(client: TestClient, mail_set: Mail,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    seen: list[bool] = []
    model = client.app.state.spamsift.holder.current.model  # type: ignore[attr-defined]
    original = type(model).classify

    def spy(self: SpamModel, items: list[bytes], top: int = 8) -> list:
        try:  # a worker thread runs no event loop
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:
            seen.append(False)
        return original(self, items, top=top)

    monkeypatch.setattr(type(model), "classify", spy)
    assert client.post("/v1/classify", content=mail_set[0][0]).status_code == 200
    assert seen == [False]


@pytest.fixture(scope="module")
def fuzz_client(small_model: SpamModel) -> Iterator[TestClient]:
    app = create_app(ModelHolder.fixed(small_model), keys=make_keys(),
                     settings=api_settings(max_request_bytes=64 * 1024))
    with TestClient(app) as client:
        yield client


_FUZZ = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@_FUZZ
@given(body=arbitrary_bytes)
def test_hostile_raw_bodies_never_500(fuzz_client: TestClient, body: bytes) -> None:
    r = fuzz_client.post("/v1/classify", content=body,
                         headers={"Content-Type": "message/rfc822"})
    assert r.status_code == (200 if body.strip() else 400)
    assert r.headers["content-type"] == "application/json"


@_FUZZ
@given(body=message_bytes())
def test_hostile_messages_get_a_verdict(fuzz_client: TestClient, body: bytes) -> None:
    r = fuzz_client.post("/v1/classify/batch",
                         json={"messages": [{"message_b64": b64(body)}]})
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert r.json()["results"][0]["verdict"] in ("ham", "unsure", "spam")


@_FUZZ
@given(body=arbitrary_bytes)
def test_hostile_json_bodies_never_500(fuzz_client: TestClient, body: bytes) -> None:
    for path in ("/v1/classify", "/v1/classify/batch", "/v1/feedback"):
        r = fuzz_client.post(path, content=body, headers={
            "Content-Type": "application/json", **bearer("admin")})
        assert r.status_code in (400, 422), (path, r.status_code, r.text)


def test_classifications_queued_at_shutdown_are_written(holder: ModelHolder,
                                                        mail_set: Mail) -> None:
    import threading

    class SlowStore(FakeFeedbackStore):
        """Writes only once the test lets it: every answer is given before any write."""

        def __init__(self) -> None:
            super().__init__()
            self.go = threading.Event()

        def record_classifications(self, new: list) -> None:  # type: ignore[type-arg]
            assert self.go.wait(10)
            super().record_classifications(new)

    store = SlowStore()
    app = create_app(holder, keys=make_keys(), settings=api_settings(), feedback=store)
    with TestClient(app) as client:
        ids = [client.post("/v1/classify", content=raw).json()["classification_id"]
               for raw, _ in mail_set[:5]]
        assert store.classifications == {}  # answered, not yet written
        threading.Timer(0.2, store.go.set).start()
    # The lifespan's end (uvicorn's, on SIGTERM) waited for the queue to be written.
    assert sorted(store.classifications) == sorted(ids)


def test_the_direct_route_answers_as_documented(client: TestClient, mail_set: Mail) -> None:
    from spamsift.serving.api.schemas import ClassifyResponse

    r = client.post("/v1/classify", content=mail_set[1][0])
    assert r.headers["content-type"] == "application/json"
    # The JSON rendered without pydantic is the documented model's, field for field.
    assert ClassifyResponse.model_validate_json(r.content).model_dump(mode="json") == r.json()
    op = client.get("/openapi.json").json()["paths"]["/v1/classify"]["post"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClassifyResponse"}
    assert set(op["requestBody"]["content"]) == {"message/rfc822", "application/octet-stream",
                                                 "text/plain", "application/json"}
    assert op["security"] == [{"HTTPBearer": []}]
    assert {"400", "401", "403", "413", "422", "429"} <= set(op["responses"])
