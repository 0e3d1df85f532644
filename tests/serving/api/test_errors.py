"""The one mapping from exceptions to HTTP status, and the JSON every error has."""

from __future__ import annotations

import json

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from serving.api.support import MakeClient
from spamsift.exceptions import (
    ConfigError,
    IdempotencyError,
    IngestError,
    InputError,
    MessageError,
    ModelError,
    ModelIntegrityError,
    NotFoundError,
    SpamsiftError,
    StoreError,
    TrainingError,
)
from spamsift.serving.api.errors import (
    BodyTooLarge,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
    error_response,
    status_for,
)


@pytest.mark.parametrize(("exc", "status", "code"), [
    pytest.param(BodyTooLarge("x"), 413, "too_large", id="too-large"),
    pytest.param(MessageError("x"), 400, "not_a_message", id="message"),
    pytest.param(InputError("x"), 400, "bad_input", id="input"),
    pytest.param(IngestError("x"), 400, "bad_input", id="ingest-via-input"),
    pytest.param(NotAuthenticated("x"), 401, "unauthenticated", id="401"),
    pytest.param(Forbidden("x"), 403, "forbidden", id="403"),
    pytest.param(NotFound("x"), 404, "not_found", id="404"),
    pytest.param(Conflict("x"), 409, "conflict", id="409"),
    pytest.param(RateLimited("x", 1.5), 429, "rate_limited", id="429"),
    pytest.param(Unavailable("x"), 503, "unavailable", id="503"),
    pytest.param(ModelIntegrityError("x"), 503, "model_unavailable", id="model"),
    pytest.param(ConfigError("x"), 500, "config", id="config"),
    pytest.param(StoreError("x"), 503, "store_unavailable", id="store"),
    pytest.param(NotFoundError("x"), 404, "not_found", id="store-not-found"),
    pytest.param(IdempotencyError("x"), 409, "conflict", id="store-idempotency"),
    pytest.param(TrainingError("x"), 500, "internal", id="other-spamsift"),
    pytest.param(RequestValidationError([]), 422, "invalid_request", id="validation"),
    pytest.param(HTTPException(405), 405, "method_not_allowed", id="starlette"),
    pytest.param(RuntimeError("boom"), 500, "internal", id="bug"),
])
def test_status_for(exc: BaseException, status: int, code: str) -> None:
    assert status_for(exc) == (status, code)


def test_every_error_class_derives_from_spamsift_error() -> None:
    for cls in (BodyTooLarge, NotAuthenticated, Forbidden, NotFound, Conflict, RateLimited,
                Unavailable):
        assert issubclass(cls, SpamsiftError)
    assert issubclass(ModelIntegrityError, ModelError)


def test_error_bodies_carry_headers_and_hide_bugs() -> None:
    limited = error_response(RateLimited("slow down", 0.2))
    assert limited.headers["retry-after"] == "1"
    assert json.loads(limited.body) == {"error": "rate_limited", "message": "slow down"}
    assert error_response(NotAuthenticated("who?")).headers["www-authenticate"] == "Bearer"
    bug = json.loads(error_response(RuntimeError("secret path /etc/x")).body)
    assert bug == {"error": "internal",
                   "message": "internal error; the server log has the details"}


def test_validation_details_leave_the_input_out() -> None:
    exc = RequestValidationError([{"loc": ("body", "label"), "msg": "bad label",
                                   "type": "literal_error", "input": "x" * 10_000}])
    body = json.loads(error_response(exc).body)
    assert body == {"error": "invalid_request", "message": "body.label: bad label",
                    "details": [{"loc": "body.label", "msg": "bad label",
                                 "type": "literal_error"}]}


def test_a_bug_is_a_json_500_without_details(make_client: MakeClient,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(raise_server_exceptions=False)
    holder = client.app.state.spamsift.holder  # type: ignore[attr-defined]
    model = holder.current.model

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(model, "classify", broken)
    r = client.post("/v1/classify", content=b"Subject: x\n\ny")
    assert r.status_code == 500
    assert r.json()["error"] == "internal" and "a bug" not in r.text


@pytest.mark.parametrize(("method", "path", "status"), [
    pytest.param("GET", "/nowhere", 404, id="no-route"),
    pytest.param("PUT", "/v1/classify", 405, id="wrong-method"),
])
def test_routing_errors_are_json(make_client: MakeClient, method: str, path: str,
                                 status: int) -> None:
    r = make_client().request(method, path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json" and r.json()["message"]
