"""API keys and scopes: 401 without or with a bad key, 403 without the scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.api.support import SECRETS, MakeClient, bearer
from spamsift.exceptions import ConfigError
from spamsift.serving.api.auth import InMemoryKeys, KeyInfo, require

MESSAGE = b"Subject: hello\n\nSee you at lunch.\n"

# (method, path, json body or None, the scope the call needs)
CALLS = [
    pytest.param("GET", "/v1/models", None, "admin", id="models-list"),
    pytest.param("POST", "/v1/models/v2/activate", None, "admin", id="models-activate"),
    pytest.param("POST", "/v1/feedback", {"classification_id": "c1", "label": "spam"},
                 "feedback", id="feedback-add"),
    pytest.param("DELETE", "/v1/feedback/e1", None, "feedback", id="feedback-retract"),
]


def test_admin_implies_every_scope() -> None:
    admin = KeyInfo.of("k", "ops", {"admin"})
    feedback = KeyInfo.of("k", "app", {"feedback"})
    assert all(admin.allows(s) for s in ("classify", "feedback", "admin"))
    assert feedback.allows("feedback") and not feedback.allows("classify")
    assert not feedback.allows("admin")


def test_in_memory_keys_verify_only_their_secrets() -> None:
    keys = InMemoryKeys()
    secret = keys.add("ops", ["admin"])
    chosen = keys.add("app", ["classify", "feedback"], secret="s3cret", key_id="app-1")
    assert len(secret) >= 40 and secret != chosen
    assert keys.verify(secret) == KeyInfo.of("mem-1", "ops", {"admin"})
    assert keys.verify("s3cret") == KeyInfo.of("app-1", "app", {"classify", "feedback"})
    assert keys.verify("S3CRET") is None and keys.verify("") is None


@pytest.mark.parametrize("scopes", [pytest.param([], id="none"),
                                    pytest.param(["root"], id="unknown")])
def test_in_memory_keys_refuse_unknown_scopes(scopes: list[str]) -> None:
    with pytest.raises(ConfigError, match="expected a non-empty subset"):
        InMemoryKeys().add("x", scopes)


def test_require_names_a_known_scope() -> None:
    with pytest.raises(ValueError, match="expected one of"):
        require("superuser")


@pytest.mark.parametrize(("method", "path", "json", "scope"), CALLS)
def test_feedback_and_admin_always_need_a_key(client: TestClient, method: str, path: str,
                                              json: dict | None, scope: str) -> None:
    r = client.request(method, path, json=json)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"] == "unauthenticated"
    assert scope in r.json()["message"]


@pytest.mark.parametrize(("method", "path", "json", "scope"), CALLS)
def test_a_key_without_the_scope_is_403(client: TestClient, method: str, path: str,
                                        json: dict | None, scope: str) -> None:
    other = "classify"
    r = client.request(method, path, json=json, headers=bearer(other))
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert f"needs {scope!r}" in r.json()["message"]


@pytest.mark.parametrize("header", [
    pytest.param("Bearer nope", id="unknown-key"),
    pytest.param(f"Basic {SECRETS['admin']}", id="wrong-scheme"),
    pytest.param("Bearer", id="no-key"),
    pytest.param("Bearer    ", id="blank-key"),
])
def test_a_bad_key_is_401_even_where_none_is_needed(client: TestClient, header: str) -> None:
    r = client.post("/v1/classify", content=MESSAGE, headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"
    assert client.post("/v1/classify", content=MESSAGE).status_code == 200


def test_classify_can_require_a_key(make_client: MakeClient) -> None:
    client = make_client(classify_requires_key=True)
    assert client.post("/v1/classify", content=MESSAGE).status_code == 401
    assert client.post("/v1/classify", content=MESSAGE,
                       headers=bearer("feedback")).status_code == 403
    for scope in ("classify", "admin"):
        assert client.post("/v1/classify", content=MESSAGE,
                           headers=bearer(scope)).status_code == 200


def test_scheme_is_case_insensitive(client: TestClient) -> None:
    r = client.get("/v1/models", headers={"Authorization": f"bearer {SECRETS['admin']}"})
    assert r.status_code == 200


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/models"]["get"]["security"] == [{"HTTPBearer": []}]


def test_the_database_and_memory_hash_a_secret_alike(tmp_path) -> None:
    from spamsift.feedback import KeyStore

    with KeyStore(f"sqlite:///{tmp_path / 'k.db'}") as store:
        _, secret = store.create(["feedback"], name="app")
        stored = store.verify(secret)
        mem = InMemoryKeys()
        mem.add("app", ["feedback"], secret=secret, key_id=stored.id)
        assert mem.verify(secret) == stored  # one key model: same scopes, same info
