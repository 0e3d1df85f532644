"""POST /v1/feedback and DELETE /v1/feedback/{event_id} against a fake store."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from serving.api.support import FakeFeedbackStore, MakeClient, bearer

MESSAGE = b"From: a@example.org\nSubject: offer\n\nCheap pills, act now!\n"
MESSAGE_B64 = base64.b64encode(MESSAGE).decode()


@pytest.fixture
def store() -> FakeFeedbackStore:
    return FakeFeedbackStore()


@pytest.fixture
def fb_client(make_client: MakeClient, store: FakeFeedbackStore) -> TestClient:
    return make_client(feedback=store)


def test_feedback_by_message_is_201_with_the_event(fb_client: TestClient,
                                                   store: FakeFeedbackStore) -> None:
    r = fb_client.post("/v1/feedback", headers=bearer("feedback"), json={
        "message_b64": MESSAGE_B64, "label": "spam", "user": "bob@example.org",
        "client_event_id": "evt-1"})
    assert r.status_code == 201, r.text
    assert r.json() == {"event_id": "e1", "message_id": store.events["e1"].message_id,
                        "label": "spam", "duplicate": False, "conflict": False,
                        "effective_label": "spam", "replayed": False}
    assert store.added == [{"raw": MESSAGE, "label": "spam", "classification_id": None,
                            "user": "bob@example.org", "source": "api",
                            "key_id": "id-feedback", "client_event_id": "evt-1"}]


def test_feedback_by_classification_id(fb_client: TestClient,
                                       store: FakeFeedbackStore) -> None:
    cid = fb_client.post("/v1/classify", content=MESSAGE).json()["classification_id"]
    r = fb_client.post("/v1/feedback", headers=bearer("admin"),
                       json={"classification_id": cid, "label": "ham"})
    assert r.status_code == 201
    assert store.added[0]["classification_id"] == cid and store.added[0]["raw"] is None


def test_a_replay_is_200_duplicates_and_conflicts_are_flagged(fb_client: TestClient) -> None:
    event = {"message_b64": MESSAGE_B64, "label": "spam", "client_event_id": "evt-1"}
    first = fb_client.post("/v1/feedback", headers=bearer("feedback"), json=event)
    again = fb_client.post("/v1/feedback", headers=bearer("feedback"), json=event)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replayed"] and again.json()["event_id"] == first.json()["event_id"]
    same = fb_client.post("/v1/feedback", headers=bearer("feedback"),
                          json={"message_b64": MESSAGE_B64, "label": "spam"})
    assert same.status_code == 201 and same.json()["duplicate"]
    # Another voter disagrees (the same key saying ham would correct its own vote).
    other = fb_client.post("/v1/feedback", headers=bearer("feedback"),
                           json={"message_b64": MESSAGE_B64, "label": "ham", "user": "bob"})
    assert other.status_code == 201 and other.json()["conflict"]
    assert other.json()["effective_label"] is None
    metrics = fb_client.get("/metrics").text
    for outcome, label in (("recorded", "spam"), ("replayed", "spam"), ("duplicate", "spam"),
                           ("conflict", "ham")):
        assert f'spamsift_feedback_total{{label="{label}",outcome="{outcome}"}} 1.0' in metrics


def test_retract_unlearns_one_event(fb_client: TestClient, store: FakeFeedbackStore) -> None:
    eid = fb_client.post("/v1/feedback", headers=bearer("feedback"), json={
        "message_b64": MESSAGE_B64, "label": "spam"}).json()["event_id"]
    first = fb_client.delete(f"/v1/feedback/{eid}", headers=bearer("feedback"))
    again = fb_client.delete(f"/v1/feedback/{eid}", headers=bearer("feedback"))
    assert first.json() == {"event_id": eid, "retracted": True, "effective_label": None}
    assert again.status_code == 200 and again.json()["retracted"] is False
    assert store.retracted == {eid}


@pytest.mark.parametrize(("method", "path", "json"), [
    pytest.param("POST", "/v1/feedback", {"classification_id": "c404", "label": "spam"},
                 id="unknown-classification"),
    pytest.param("DELETE", "/v1/feedback/e404", None, id="unknown-event"),
])
def test_unknown_ids_are_404(fb_client: TestClient, method: str, path: str,
                             json: dict | None) -> None:
    r = fb_client.request(method, path, json=json, headers=bearer("feedback"))
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


@pytest.mark.parametrize(("json", "status"), [
    pytest.param({"label": "spam"}, 422, id="no-message"),
    pytest.param({"message_b64": MESSAGE_B64, "label": "junk"}, 422, id="bad-label"),
    pytest.param({"message_b64": MESSAGE_B64, "label": "spam", "extra": 1}, 422,
                 id="unknown-field"),
    pytest.param({"message_b64": MESSAGE_B64, "label": "spam", "user": "u" * 400}, 422,
                 id="user-too-long"),
    pytest.param({"message_b64": "***", "label": "spam"}, 400, id="bad-base64"),
    pytest.param({"message_b64": "", "label": "spam"}, 400, id="empty-message"),
])
def test_bad_feedback_is_refused(fb_client: TestClient, json: dict, status: int) -> None:
    r = fb_client.post("/v1/feedback", headers=bearer("feedback"), json=json)
    assert r.status_code == status, r.text


def test_without_a_store_feedback_is_503(client: TestClient) -> None:
    for method, path in (("POST", "/v1/feedback"), ("DELETE", "/v1/feedback/e1")):
        r = client.request(method, path, headers=bearer("feedback"),
                           json={"message_b64": MESSAGE_B64, "label": "spam"})
        assert r.status_code == 503
        assert r.json() == {"error": "unavailable",
                            "message": "no feedback store is configured on this server"}
