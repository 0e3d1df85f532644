"""The API over spamsift's own key and feedback stores (SQLite), not the fakes.

Pins the duck types of :mod:`spamsift.serving.api.state` and ``auth`` to what
:mod:`spamsift.feedback` really returns and raises.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api.support import api_settings
from spamsift.db.database import default_url
from spamsift.feedback import Database, FeedbackStore, KeyStore
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder

MESSAGE = b"From: promo@win.example\nSubject: You WON\n\nClaim your FREE prize now!\n"


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[KeyStore, FeedbackStore]]:
    db = Database(default_url(tmp_path))
    try:
        yield KeyStore(db), FeedbackStore(db)
    finally:
        db.close()


@pytest.fixture
def api(stores: tuple[KeyStore, FeedbackStore], holder: ModelHolder
        ) -> Iterator[TestClient]:
    keys, feedback = stores
    app = create_app(holder, keys=keys, feedback=feedback, settings=api_settings())
    with TestClient(app) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_from_the_key_store(api: TestClient, stores: tuple[KeyStore, FeedbackStore]
                                 ) -> None:
    keys, _ = stores
    admin_id, admin = keys.create(["admin"], name="ops")
    _, classify = keys.create(["classify"], name="mta")
    assert api.get("/v1/models", headers=auth(admin)).status_code == 200
    assert api.get("/v1/models", headers=auth(classify)).status_code == 403
    assert api.post("/v1/classify", content=MESSAGE, headers=auth(classify)).status_code \
        == 200
    keys.revoke(admin_id)
    assert api.get("/v1/models", headers=auth(admin)).status_code == 401


def test_feedback_round_trip_through_the_store(api: TestClient,
                                               stores: tuple[KeyStore, FeedbackStore]
                                               ) -> None:
    keys, _ = stores
    _, key = keys.create(["feedback"], name="webmail")
    cid = api.post("/v1/classify", content=MESSAGE).json()["classification_id"]
    assert cid

    event = {"classification_id": cid, "label": "spam", "user": "ann@example.org",
             "client_event_id": "webmail-1"}
    first = api.post("/v1/feedback", headers=auth(key), json=event)
    again = api.post("/v1/feedback", headers=auth(key), json=event)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["replayed"] and again.json()["event_id"] == first.json()["event_id"]
    assert first.json()["effective_label"] == "spam"

    by_bytes = api.post("/v1/feedback", headers=auth(key), json={
        "message_b64": base64.b64encode(MESSAGE).decode(), "label": "ham",
        "user": "bob@example.org"})
    assert by_bytes.status_code == 201
    assert by_bytes.json()["message_id"] == first.json()["message_id"]
    assert by_bytes.json()["conflict"]

    eid = by_bytes.json()["event_id"]
    gone = api.delete(f"/v1/feedback/{eid}", headers=auth(key))
    assert gone.json() == {"event_id": eid, "retracted": True, "effective_label": "spam"}
    assert api.delete(f"/v1/feedback/{eid}", headers=auth(key)).json()["retracted"] is False


@pytest.mark.parametrize(("method", "path", "json", "status"), [
    pytest.param("POST", "/v1/feedback", {"classification_id": "0" * 36, "label": "spam"},
                 404, id="unknown-classification"),
    pytest.param("DELETE", "/v1/feedback/" + "0" * 36, None, 404, id="unknown-event"),
    pytest.param("DELETE", "/v1/feedback/" + "0" * 40, None, 400, id="event-id-too-long"),
    pytest.param("POST", "/v1/feedback", {"classification_id": "c", "label": "spam",
                                          "client_event_id": "x" * 200}, 422,
                 id="client-event-id-too-long"),
])
def test_store_refusals_map_to_status(api: TestClient, stores: tuple[KeyStore, FeedbackStore],
                                      method: str, path: str, json: dict | None,
                                      status: int) -> None:
    _, key = stores[0].create(["feedback"])
    r = api.request(method, path, json=json, headers=auth(key))
    assert r.status_code == status, r.text
