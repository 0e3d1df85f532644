"""The dashboard's API over the real stores (SQLite): history, one message, conflicts, me.

Every call a dashboard page makes is refused without a key (401) and with a key
lacking its scope (403); ``read`` looks, ``feedback`` teaches, ``admin`` does all.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api.support import api_settings
from spamsift.db.database import default_url
from spamsift.feedback import Database, FeedbackStore, KeyStore
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder

HAM = b"From: Ann Lee <ann@example.org>\nSubject: Lunch on Friday?\n\nNoon by the fountain?\n"
SPAM = (b"From: promo@win.example\nSubject: You WON a FREE prize\n"
        b"Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=win.example\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        b"Claim it now at http://win.example/claim\n--b\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename=prize.pdf\n\n%PDF-1.4\n--b--\n")
SCOPE_SETS = {"classify": ["classify"], "read": ["read"], "feedback": ["feedback"],
              "teacher": ["read", "feedback"], "admin": ["admin"]}


@dataclass
class Dash:
    client: TestClient
    store: FeedbackStore
    keys: dict[str, str]
    key_ids: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def classify(self, raw: bytes) -> str:
        r = self.client.post("/v1/classify", content=raw)
        assert r.status_code == 200, r.text
        cid: str = r.json()["classification_id"]
        # Written off the request path: these tests also read the store directly.
        assert self.client.app.state.spamsift.recorder.flush(5.0)  # type: ignore[attr-defined]
        return cid


@pytest.fixture
def dash(tmp_path: Path, holder: ModelHolder) -> Iterator[Dash]:
    db = Database(default_url(tmp_path))
    keystore, store = KeyStore(db), FeedbackStore(db)
    made = {who: keystore.create(scopes, name=who) for who, scopes in SCOPE_SETS.items()}
    app = create_app(holder, keys=keystore, feedback=store, settings=api_settings())
    try:
        with TestClient(app) as client:
            yield Dash(client, store, {w: k for w, (_, k) in made.items()},
                       {w: i for w, (i, _) in made.items()})
    finally:
        db.close()


# Every API call the dashboard's pages make, and the least scope each needs.
CALLS = [
    pytest.param("GET", "/v1/me", "read", id="me"),
    pytest.param("GET", "/v1/classifications", "read", id="history"),
    pytest.param("GET", "/v1/classifications/{cid}", "read", id="message"),
    pytest.param("GET", "/v1/conflicts", "read", id="conflicts"),
    pytest.param("GET", "/v1/stats", "read", id="stats"),
    pytest.param("POST", "/v1/feedback", "feedback", id="learn"),
    pytest.param("DELETE", "/v1/feedback/{eid}", "feedback", id="forget"),
    pytest.param("GET", "/v1/models", "admin", id="models"),
    pytest.param("POST", "/v1/models/v2/activate", "admin", id="activate"),
]
# Who may make a call needing each scope (the rest get 403).
ALLOWED = {"read": {"read", "teacher", "admin"}, "feedback": {"feedback", "teacher", "admin"},
           "admin": {"admin"}}


@pytest.mark.parametrize(("method", "path", "scope"), CALLS)
def test_every_dashboard_call_needs_its_scope(dash: Dash, method: str, path: str,
                                              scope: str) -> None:
    cid = dash.classify(SPAM)
    eid = dash.store.add_feedback(label="spam", classification_id=cid, user="ann").event_id
    url = path.format(cid=cid, eid=eid)
    body = {"classification_id": cid, "label": "spam"} if method == "POST" else None

    def call(headers: dict[str, str]) -> int:
        return dash.client.request(method, url, json=body, headers=headers).status_code

    assert call({}) == 401
    assert call({"Authorization": "Bearer ss_000000000000_" + "A" * 43}) == 401
    for who in SCOPE_SETS:
        status = call(dash.auth(who))
        if who in ALLOWED[scope]:
            assert status < 400, (who, status)
        else:
            assert status == 403, (who, status)


def test_me_names_the_key_and_its_effective_scopes(dash: Dash) -> None:
    assert dash.client.get("/v1/me", headers=dash.auth("teacher")).json() == {
        "id": dash.key_ids["teacher"], "name": "teacher", "scopes": ["feedback", "read"]}
    assert dash.client.get("/v1/me", headers=dash.auth("admin")).json()["scopes"] == [
        "admin", "classify", "feedback", "read"]


def test_history_lists_filters_and_pages(dash: Dash) -> None:
    ham, spam = dash.classify(HAM), dash.classify(SPAM)
    page = dash.client.get("/v1/classifications", headers=dash.auth("read")).json()
    assert [i["id"] for i in page["items"]] == [spam, ham] and page["next_before"] is None
    first = page["items"][1]
    assert (first["sender"], first["subject"], first["model_version"]) == (
        "ann@example.org", "Lunch on Friday?", "v1")
    assert first["verdict"] in ("ham", "unsure", "spam") and 0 <= first["score"] <= 1

    def ids(**params: str | int) -> list[str]:
        r = dash.client.get("/v1/classifications", params=params, headers=dash.auth("read"))
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(q="LUNCH") == [ham] and ids(sender="win.example") == [spam]
    verdict = page["items"][0]["verdict"]
    assert spam in ids(verdict=verdict) and ids(q="nothing like it") == []
    one = dash.client.get("/v1/classifications", params={"limit": 1},
                          headers=dash.auth("read")).json()
    assert one["next_before"] == spam
    assert ids(limit=1, before=spam) == [ham]


@pytest.mark.parametrize(("params", "status"), [
    pytest.param({"limit": 0}, 422, id="limit-0"),
    pytest.param({"limit": 501}, 422, id="limit-501"),
    pytest.param({"verdict": "maybe"}, 422, id="verdict"),
    pytest.param({"before": "no-such-id"}, 404, id="before-unknown"),
])
def test_bad_history_requests(dash: Dash, params: dict[str, object], status: int) -> None:
    r = dash.client.get("/v1/classifications", params=params, headers=dash.auth("read"))
    assert r.status_code == status, r.text


def test_one_message_with_clues_parts_and_votes(dash: Dash) -> None:
    cid = dash.classify(SPAM)
    teach = dash.client.post("/v1/feedback", headers=dash.auth("teacher"),
                             json={"classification_id": cid, "label": "spam"})
    assert teach.status_code == 201
    dash.store.add_feedback(label="spam", classification_id=cid, user="bob@example.org",
                            source="imap")
    got = dash.client.get(f"/v1/classifications/{cid}", headers=dash.auth("teacher")).json()
    assert got["id"] == cid and got["sender"] == "promo@win.example"
    assert got["clues"] and all({"clue", "weight"} == set(c) for c in got["clues"])
    assert isinstance(got["flags"], list)
    assert (got["label"], got["conflict"]) == ("spam", False)
    assert [(v["voter"], v["source"], v["by_you"]) for v in got["votes"]] == [
        (f"key:{dash.key_ids['teacher']}", "api", True), ("user:bob@example.org", "imap", False)]
    parts = got["message"]
    assert parts["attachments"] == [{"filename": "prize.pdf", "content_type": "application/pdf",
                                     "size": 8}]
    assert "text/plain" in parts["content_types"] and parts["url_hosts"] == ["win.example"]
    assert parts["authentication"] == [
        "authentication-results: mx.example.org; spf=fail smtp.mailfrom=win.example"]
    # Another key sees the same votes, none of them its own.
    other = dash.client.get(f"/v1/classifications/{cid}", headers=dash.auth("admin")).json()
    assert not any(v["by_you"] for v in other["votes"])
    missing = dash.client.get("/v1/classifications/nope", headers=dash.auth("read"))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_conflicts_are_listed_until_a_vote_is_withdrawn(dash: Dash) -> None:
    cid = dash.classify(SPAM)
    raw = base64.b64encode(SPAM).decode()
    for user, label in (("ann@example.org", "spam"), ("bob@example.org", "ham")):
        r = dash.client.post("/v1/feedback", headers=dash.auth("feedback"),
                             json={"message_b64": raw, "label": label, "user": user})
        assert r.status_code == 201
    [conflict] = dash.client.get("/v1/conflicts", headers=dash.auth("read")).json()["conflicts"]
    assert conflict["subject"] == "You WON a FREE prize" and conflict["classification_id"] == cid
    votes = {v["voter"]: v for v in conflict["votes"]}
    assert {k: v["label"] for k, v in votes.items()} == {"user:ann@example.org": "spam",
                                                         "user:bob@example.org": "ham"}
    wrong = votes["user:bob@example.org"]["event_id"]
    assert dash.client.delete(f"/v1/feedback/{wrong}",
                              headers=dash.auth("teacher")).json()["retracted"]
    assert dash.client.get("/v1/conflicts", headers=dash.auth("read")).json() == {
        "conflicts": []}
    got = dash.client.get(f"/v1/classifications/{cid}", headers=dash.auth("read")).json()
    assert (got["label"], got["conflict"]) == ("spam", False)


def test_without_a_store_there_is_no_history(make_client) -> None:  # type: ignore[no-untyped-def]
    from serving.api.support import bearer

    client = make_client()
    for path in ("/v1/classifications", "/v1/classifications/x", "/v1/conflicts"):
        r = client.get(path, headers=bearer("admin"))
        assert r.status_code == 503 and r.json()["error"] == "unavailable", path
    assert client.get("/v1/stats", headers=bearer("admin")).json()["store"] is None


def test_dashboard_routes_are_in_openapi(dash: Dash) -> None:
    paths = dash.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/classifications", "/v1/classifications/{classification_id}",
                 "/v1/conflicts", "/v1/stats", "/v1/me"):
        assert "get" in paths[path] and "403" in paths[path]["get"]["responses"], path
    params = {p["name"] for p in paths["/v1/classifications"]["get"]["parameters"]}
    assert {"limit", "before", "verdict", "q", "sender"} <= params


def test_keys_never_reach_the_log(dash: Dash, caplog: pytest.LogCaptureFixture) -> None:
    dash.client.get("/v1/classifications", headers=dash.auth("read"))
    dash.client.get("/v1/classifications", headers={"Authorization": "Bearer wrong-key"})
    assert "wrong-key" not in caplog.text and dash.keys["read"] not in caplog.text
