"""The manifests in ``deploy/kubernetes`` are valid Kubernetes objects that fit together.

kubernetes-validate (the test extra) checks each object against the OpenAPI schemas it
ships, strictly (an unknown field fails), for the oldest Kubernetes still in wide use
and the newest it knows. The rest checks what the schemas cannot: that the Service
and the budget select the Deployment's pods, the probes hit the health routes, the
database URL comes from the Secret, and the pods run as a user with nothing to gain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
FILES = sorted(MANIFESTS.glob("*.yaml"))
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def _objects() -> list[dict[str, Any]]:
    return [doc for path in FILES for doc in yaml.safe_load_all(path.read_text()) if doc]


def _by_kind() -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in _objects()}


def test_the_manifests_are_there() -> None:
    assert sorted(_by_kind()) == ["CronJob", "Deployment", "PodDisruptionBudget", "Secret",
                                  "Service"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_valid_against_the_schemas(path: Path, version: str) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    deployment = _by_kind()["Deployment"]
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def _pods() -> list[dict[str, Any]]:
    kinds = _by_kind()
    return [kinds["Deployment"]["spec"]["template"]["spec"],
            kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]]


def test_service_and_budget_select_the_serve_pods() -> None:
    kinds = _by_kind()
    labels = kinds["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert kinds["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() \
        <= labels.items()
    serve = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == serve["ports"][0]["name"]
    assert kinds["Deployment"]["spec"]["replicas"] >= 2


def test_probes_hit_the_health_routes() -> None:
    serve = _by_kind()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert serve["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert serve["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert serve["args"][:3] == ["serve", "--host", "0.0.0.0"]


def test_the_database_url_comes_from_the_secret() -> None:
    secret = _by_kind()["Secret"]
    for pod in _pods():
        (env,) = [e for e in pod["containers"][0]["env"] if e["name"] == "SPAMSIFT_DATABASE_URL"]
        ref = env["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"]
        assert ref["key"] in secret["stringData"]


def test_pods_run_unprivileged_on_a_read_only_root() -> None:
    for pod in _pods():
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        container = pod["containers"][0]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}
        # The only writable places: the data folder and /tmp.
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/var/lib/spamsift",
                                                                       "/tmp"}
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
