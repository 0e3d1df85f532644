"""/healthz, /readyz, /metrics, and the OpenAPI document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from serving.api.support import MakeClient
from spamsift.models.registry import ModelRegistry
from spamsift.serving.model_holder import ModelHolder


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model_version": "v1"}


def test_readyz_is_503_until_a_model_is_loaded(make_client: MakeClient,
                                               registry: ModelRegistry) -> None:
    client = make_client(holder=ModelHolder(registry))
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["error"] == "unavailable"
    assert client.get("/healthz").status_code == 200
    assert client.post("/v1/classify", content=b"Subject: x\n\ny").status_code == 503
    assert "spamsift_model_info" not in client.get("/metrics").text.split("# TYPE")[-1]


def test_metrics_count_requests_verdicts_scores_and_model(client: TestClient) -> None:
    client.post("/v1/classify", content=b"Subject: hi\n\nhello\n")
    client.post("/v1/classify", content=b"")
    client.get("/no/such/path")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    text = r.text
    for line in (
        'spamsift_http_requests_total{method="POST",route="/v1/classify",status="200"} 1.0',
        'spamsift_http_requests_total{method="POST",route="/v1/classify",status="400"} 1.0',
        'spamsift_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0',
        'spamsift_model_info{version="v1"} 1.0',
        "spamsift_score_count 1.0",
        "spamsift_model_loads_total 1.0",
    ):
        assert line in text, line
    assert 'spamsift_http_request_duration_seconds_bucket{le="+Inf",method="POST",' \
           'route="/v1/classify"} 2.0' in text
    assert sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("spamsift_verdicts_total{")) == 1.0


def test_each_app_has_its_own_metrics(make_client: MakeClient) -> None:
    a, b = make_client(), make_client()
    a.get("/healthz")
    assert 'route="/healthz"' in a.get("/metrics").text
    assert 'route="/healthz"' not in b.get("/metrics").text


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/classify", "/v1/classify/batch", "/v1/feedback",
                                  "/v1/feedback/{event_id}", "/v1/feedback/learn",
                                  "/v1/feedback/forget", "/v1/models",
                                  "/v1/models/{version}/activate", "/healthz", "/readyz",
                                  "/metrics", "/v1/me", "/v1/classifications",
                                  "/v1/classifications/{classification_id}",
                                  "/v1/conflicts", "/v1/stats",
                                  "/v1/models/{version}/report"}
    body = spec["paths"]["/v1/classify"]["post"]["requestBody"]["content"]
    assert {"message/rfc822", "application/octet-stream", "application/json"} <= set(body)
    assert "413" in spec["paths"]["/v1/classify"]["post"]["responses"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
