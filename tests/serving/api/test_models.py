"""GET /v1/models and POST /v1/models/{version}/activate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api.support import MakeClient, bearer
from spamsift.datadir import REPORTS_DIR
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.model_holder import ModelHolder

ADMIN = bearer("admin")
MESSAGE = b"Subject: hi\n\nhello\n"


def test_list_shows_versions_active_and_serving(client: TestClient) -> None:
    r = client.get("/v1/models", headers=ADMIN)
    assert r.status_code == 200
    body = r.json()
    assert (body["active"], body["serving"]) == ("v1", "v1")
    assert [(v["version"], v["is_active"]) for v in body["versions"]] == [("v1", True),
                                                                          ("v2", False)]
    assert all(v["problem"] is None for v in body["versions"])


def test_activate_swaps_the_running_model_and_back(client: TestClient,
                                                   registry: ModelRegistry,
                                                   second_model: SpamModel) -> None:
    r = client.post("/v1/models/v2/activate", headers=ADMIN)
    assert r.status_code == 200
    assert r.json() == {"version": "v2", "previous": "v1"}
    assert registry.active() == "v2"
    answer = client.post("/v1/classify", content=MESSAGE).json()
    assert answer["model_version"] == "v2"
    assert answer["cutoffs"] == {"spam": second_model.spam_cutoff,
                                 "unsure": second_model.unsure_cutoff}
    back = client.post("/v1/models/v1/activate", headers=ADMIN)
    assert back.json() == {"version": "v1", "previous": "v2"}
    assert client.get("/readyz").json()["model_version"] == "v1"
    assert "spamsift_model_loads_total 3.0" in client.get("/metrics").text


@pytest.mark.parametrize("version", ["v9", "..", "-rf", "v1 ", "%2e%2e"])
def test_unknown_version_is_404(client: TestClient, registry: ModelRegistry,
                                version: str) -> None:
    r = client.post(f"/v1/models/{version}/activate", headers=ADMIN)
    assert r.status_code == 404
    assert registry.active() == "v1"


def test_a_broken_version_is_409_and_changes_nothing(client: TestClient,
                                                     registry: ModelRegistry) -> None:
    arrays = registry.path("v2") / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    r = client.post("/v1/models/v2/activate", headers=ADMIN)
    assert r.status_code == 409
    assert "cannot be activated" in r.json()["message"]
    assert registry.active() == "v1"
    assert client.post("/v1/classify", content=MESSAGE).json()["model_version"] == "v1"


def test_a_fixed_model_lists_nothing_and_cannot_activate(make_client: MakeClient,
                                                         small_model: SpamModel) -> None:
    client = make_client(holder=ModelHolder.fixed(small_model, "pinned"))
    assert client.get("/v1/models", headers=ADMIN).json() == {
        "active": None, "serving": "pinned", "versions": []}
    r = client.post("/v1/models/v2/activate", headers=ADMIN)
    assert r.status_code == 409 and "fixed model" in r.json()["message"]


def test_the_server_follows_an_activation_made_elsewhere(make_client: MakeClient,
                                                         registry: ModelRegistry) -> None:
    import time

    client = make_client(model_poll_seconds=0.05)
    registry.activate("v2")  # as `spamsift models activate` would, from outside
    deadline = time.monotonic() + 5
    while client.get("/readyz").json()["model_version"] != "v2":
        assert time.monotonic() < deadline, "the poller never picked up v2"
        time.sleep(0.02)


def test_a_retrain_report_is_listed_and_served(make_client: MakeClient, tmp_path: Path) -> None:
    reports = tmp_path / "data" / REPORTS_DIR
    reports.mkdir(parents=True)
    (reports / "v2.json").write_text(json.dumps({"decision": "kept", "reason": "worse",
                                                 "report_path": "/srv/x/v2.json"}))
    client = make_client(data_dir=tmp_path / "data")
    listed = client.get("/v1/models", headers=ADMIN).json()["versions"]
    assert [(v["version"], v["report"]) for v in listed] == [("v1", False), ("v2", True)]
    assert client.get("/v1/models/v2/report", headers=ADMIN).json() == {
        "decision": "kept", "reason": "worse"}  # no server path
    for version in ("v1", "v7", "..%2Fv2"):
        assert client.get(f"/v1/models/{version}/report", headers=ADMIN).status_code == 404
    assert client.get("/v1/models/v2/report", headers=bearer("feedback")).status_code == 403
