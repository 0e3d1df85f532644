"""POST /v1/feedback/learn and /v1/feedback/forget, on a real SQLite feedback store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api.support import MakeClient, bearer
from spamsift.db.database import default_url
from spamsift.feedback import FeedbackStore
from spamsift.feedback.messages import message_id
from spamsift.serving.model_holder import ModelHolder
from spamsift.training.online import LearningFeedback

MESSAGE = b"From: promo@win-big.info\nSubject: FREE cruise\n\nClick here to claim it now!\n"
B64 = base64.b64encode(MESSAGE).decode()


@pytest.fixture
def real_store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore(default_url(tmp_path)) as s:
        yield s


@pytest.fixture
def vote_client(make_client: MakeClient, real_store: FeedbackStore, holder: ModelHolder
                ) -> TestClient:
    return make_client(feedback=LearningFeedback(real_store, lambda: holder.current.model))


def _learn(client: TestClient, user: str, label: str, scope: str = "feedback") -> dict[str, int]:
    r = client.post("/v1/feedback/learn", headers=bearer(scope),
                    json={"message_b64": B64, "user": user, "label": label})
    assert r.status_code == 200, r.text
    body: dict[str, int] = r.json()
    return body


def test_learn_counts_a_users_vote_once(vote_client: TestClient,
                                        real_store: FeedbackStore) -> None:
    assert _learn(vote_client, "ann", "spam") == {"message_id": message_id(MESSAGE),
                                                  "changed": 1}
    assert _learn(vote_client, "ann", "spam")["changed"] == 0
    assert _learn(vote_client, "bob", "spam", scope="admin")["changed"] == 1
    metrics = vote_client.get("/metrics").text
    assert 'spamsift_feedback_total{label="spam",outcome="recorded"} 2.0' in metrics
    events = real_store.events(message_id=message_id(MESSAGE))
    assert sorted((e.user, e.label, e.source) for e in events) == [
        ("ann", "spam", "api"), ("bob", "spam", "api")]


def test_forget_withdraws_that_users_votes_and_moves_the_served_model(
        vote_client: TestClient, real_store: FeedbackStore, holder: ModelHolder) -> None:
    def score() -> float:
        r = vote_client.post("/v1/classify", content=MESSAGE,
                             headers={"Content-Type": "message/rfc822"})
        return float(r.json()["logit"])

    before = score()
    _learn(vote_client, "ann", "ham")
    assert score() < before
    r = vote_client.post("/v1/feedback/forget", headers=bearer("feedback"),
                         json={"message_b64": B64, "user": "ann"})
    assert r.status_code == 200 and r.json()["changed"] == 1
    assert score() == pytest.approx(before)  # exactly unlearned
    assert all(e.retracted_at is not None for e in real_store.events())
    assert 'spamsift_feedback_retractions_total{retracted="true"} 1.0' in vote_client.get(
        "/metrics").text


@pytest.mark.parametrize(("headers", "body", "status", "error"), [
    ({}, {"message_b64": B64, "user": "ann", "label": "spam"}, 401, "unauthenticated"),
    (bearer("classify"), {"message_b64": B64, "user": "ann", "label": "spam"}, 403,
     "forbidden"),
    (bearer("feedback"), {"message_b64": B64, "label": "spam"}, 422, "invalid_request"),
    (bearer("feedback"), {"message_b64": B64, "user": "ann", "label": "junk"}, 422,
     "invalid_request"),
    (bearer("feedback"), {"message_b64": "%%%", "user": "ann", "label": "spam"}, 400,
     "bad_input"),
    (bearer("feedback"), {"message_b64": "", "user": "ann", "label": "spam"}, 400,
     "not_a_message"),
])
def test_refusals_are_json_errors_and_record_nothing(vote_client: TestClient,
                                                     real_store: FeedbackStore,
                                                     headers: dict[str, str],
                                                     body: dict[str, str], status: int,
                                                     error: str) -> None:
    r = vote_client.post("/v1/feedback/learn", headers=headers, json=body)
    assert (r.status_code, r.json()["error"]) == (status, error), r.text
    assert real_store.counts().events == 0


def test_without_a_feedback_store_both_answer_503(client: TestClient) -> None:
    for route, body in (("learn", {"message_b64": B64, "user": "a", "label": "ham"}),
                        ("forget", {"message_b64": B64, "user": "a"})):
        r = client.post(f"/v1/feedback/{route}", headers=bearer("feedback"), json=body)
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
