"""Security headers on every response: the dashboard, the API, errors, metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.api.support import bearer
from spamsift.serving.api.headers import CSP


@pytest.mark.parametrize(("method", "path", "headers"), [
    pytest.param("GET", "/healthz", {}, id="health"),
    pytest.param("GET", "/metrics", {}, id="metrics"),
    pytest.param("GET", "/openapi.json", {}, id="openapi"),
    pytest.param("GET", "/v1/models", {}, id="401"),
    pytest.param("GET", "/v1/models", bearer("feedback"), id="403"),
    pytest.param("GET", "/v1/models", bearer("admin"), id="200"),
    pytest.param("GET", "/no/such/page", {}, id="404"),
    pytest.param("POST", "/v1/classify", {}, id="400"),
])
def test_every_response_carries_them(client: TestClient, method: str, path: str,
                                     headers: dict[str, str]) -> None:
    r = client.request(method, path, headers=headers)
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert (r.headers.get("cache-control") == "no-store") == path.startswith("/v1/")


def test_the_policy_forbids_outside_origins_and_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert all("http" not in v and "unsafe" not in v and "*" not in v
               for v in directives.values())


def test_the_openapi_pages_may_load_their_cdn_but_not_be_framed(client: TestClient) -> None:
    r = client.get("/docs")
    csp = r.headers["content-security-policy"]
    assert r.status_code == 200 and "https://cdn.jsdelivr.net" in csp
    assert "frame-ancestors 'none'" in csp and r.headers["x-frame-options"] == "DENY"
