"""deploy/k8s: every manifest parses, workloads have probes, resources and
matching selectors, named ports exist, the PodMonitor selects every pod, no
Secret is committed, and the PrometheusRule is the generated copy of rules.yml.
``kubectl kustomize`` renders the whole set when kubectl is installed (no
cluster needed)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.k8s_rules import render
from tests.deploy.promql import ROOT

K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
DOCS: list[dict[str, Any]] = [
    doc
    for resource in KUSTOMIZATION["resources"]
    for doc in yaml.safe_load_all((K8S / resource).read_text())
    if doc
]
WORKLOADS = [d for d in DOCS if d["kind"] in {"Deployment", "StatefulSet"}]
BY_KIND_NAME = {(d["kind"], d["metadata"]["name"]): d for d in DOCS}


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = workload["spec"]["template"]["spec"]["containers"]
    return containers


def _pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def _ids(docs: list[dict[str, Any]]) -> list[str]:
    return [d["metadata"]["name"] for d in docs]


def test_kustomization_lists_every_manifest() -> None:
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(KUSTOMIZATION["resources"]) == files


def test_expected_workloads() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in WORKLOADS}
    assert kinds == {
        ("StatefulSet", "healthscore-worker"),
        ("Deployment", "healthscore-projector"),
        ("Deployment", "healthscore-api"),
        ("Deployment", "healthscore-notifier"),
    }


def test_no_secret_is_committed() -> None:
    assert not [d for d in DOCS if d["kind"] == "Secret"]


@pytest.mark.parametrize("workload", WORKLOADS, ids=_ids(WORKLOADS))
def test_selector_matches_pod_labels(workload: dict[str, Any]) -> None:
    selector = workload["spec"]["selector"]["matchLabels"]
    assert selector and selector.items() <= _pod_labels(workload).items()


@pytest.mark.parametrize("workload", WORKLOADS, ids=_ids(WORKLOADS))
def test_containers_have_probes_resources_and_config(workload: dict[str, Any]) -> None:
    for container in _containers(workload):
        ports = {p["name"] for p in container.get("ports", [])}
        for probe in ("livenessProbe", "readinessProbe"):
            action = container[probe]["httpGet"]
            assert action["port"] in ports, f"{probe} uses an undeclared port"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= container["resources"][kind].keys()
        refs = {(k, v["name"]) for source in container["envFrom"] for k, v in source.items()}
        assert ("configMapRef", "healthscore-config") in refs
        assert ("ConfigMap", "healthscore-config") in BY_KIND_NAME
        assert ("secretRef", "healthscore-secrets") in refs
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("workload", WORKLOADS, ids=_ids(WORKLOADS))
def test_volume_mounts_are_declared(workload: dict[str, Any]) -> None:
    spec = workload["spec"]
    declared = {v["name"] for v in spec["template"]["spec"].get("volumes", [])}
    declared |= {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    for container in _containers(workload):
        for mount in container.get("volumeMounts", []):
            assert mount["name"] in declared


def test_worker_statefulset_keeps_rocksdb_on_a_claim() -> None:
    worker = BY_KIND_NAME[("StatefulSet", "healthscore-worker")]
    service = BY_KIND_NAME[("Service", worker["spec"]["serviceName"])]
    assert service["spec"]["clusterIP"] == "None"
    config = BY_KIND_NAME[("ConfigMap", "healthscore-config")]["data"]
    assert config["HEALTHSCORE_STORE"] == "rocksdb://"
    (mount,) = [m for m in _containers(worker)[0]["volumeMounts"] if m["name"] == "data"]
    assert mount["mountPath"] == config["HEALTHSCORE_DATA_DIR"]


@pytest.mark.parametrize(
    "service", [d for d in DOCS if d["kind"] == "Service"], ids=lambda d: d["metadata"]["name"]
)
def test_service_selects_a_workload_port(service: dict[str, Any]) -> None:
    selector = service["spec"]["selector"]
    targets = [w for w in WORKLOADS if selector.items() <= _pod_labels(w).items()]
    assert targets, "selects no pods"
    ports = {p["name"] for w in targets for c in _containers(w) for p in c["ports"]}
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in ports


def test_podmonitor_scrapes_every_workload() -> None:
    monitor = BY_KIND_NAME[("PodMonitor", "healthscore")]
    selector = monitor["spec"]["selector"]["matchLabels"]
    endpoint_ports = {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]}
    job_label = monitor["spec"]["jobLabel"]
    for workload in WORKLOADS:
        labels = _pod_labels(workload)
        assert selector.items() <= labels.items(), workload["metadata"]["name"]
        assert labels[job_label].startswith("healthscore-"), "job names match rules.yml"
        ports = {p["name"] for c in _containers(workload) for p in c["ports"]}
        assert ports & endpoint_ports, f"{workload['metadata']['name']} exposes no scraped port"


def test_prometheusrule_is_generated_from_rules_yml() -> None:
    assert (K8S / "prometheusrule.yaml").read_text() == render(), (
        "regenerate: python -m tests.deploy.k8s_rules > deploy/k8s/prometheusrule.yaml"
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_kubectl_kustomize_renders() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert len(rendered) == len(DOCS)
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {
        "healthscore"
    }


# --- disruption budgets and lag-based autoscaling ---------------------------------------

PDBS = [d for d in DOCS if d["kind"] == "PodDisruptionBudget"]
KEDA = K8S / "keda"


def _replicas(workload: dict[str, Any]) -> int:
    replicas: int = workload["spec"].get("replicas", 1)
    return replicas


@pytest.mark.parametrize("workload", WORKLOADS, ids=_ids(WORKLOADS))
def test_each_workload_has_one_disruption_budget_that_lets_a_drain_through(
    workload: dict[str, Any],
) -> None:
    labels = _pod_labels(workload)
    (pdb,) = [p for p in PDBS if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
    spec, replicas = pdb["spec"], _replicas(workload)
    if "maxUnavailable" in spec:
        allowed = spec["maxUnavailable"]
        assert allowed == 1, "one pod (one rebalance) at a time"
    else:
        allowed = replicas - spec["minAvailable"]
        assert spec["minAvailable"] >= 1
    assert allowed >= 1, "a budget that allows no eviction blocks every node drain"


def test_every_budget_selects_a_workload() -> None:
    for pdb in PDBS:
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert [w for w in WORKLOADS if selector.items() <= _pod_labels(w).items()], pdb


def _keda_docs() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((KEDA / "kustomization.yaml").read_text())
    assert {p.name for p in KEDA.glob("*.yaml")} - {"kustomization.yaml"} == set(
        kustomization["resources"]
    )
    assert kustomization["namespace"] == KUSTOMIZATION["namespace"]
    return [
        d
        for r in kustomization["resources"]
        for d in yaml.safe_load_all((KEDA / r).read_text())
        if d
    ]


def test_keda_scales_the_worker_on_its_consumer_groups_lag() -> None:
    from streams.worker.settings import WorkerSettings

    (scaled,) = [d for d in _keda_docs() if d["kind"] == "ScaledObject"]
    spec = scaled["spec"]
    target = spec["scaleTargetRef"]
    assert (target["kind"], target["name"]) in BY_KIND_NAME
    assert BY_KIND_NAME[(target["kind"], target["name"])] in WORKLOADS
    (trigger,) = spec["triggers"]
    meta = trigger["metadata"]
    config = BY_KIND_NAME[("ConfigMap", "healthscore-config")]["data"]
    assert trigger["type"] == "kafka"
    assert meta["bootstrapServers"] == config["KAFKA_BOOTSTRAP_SERVERS"]
    group = config.get("HEALTHSCORE_APP_ID") or WorkerSettings.model_fields["app_id"].default
    assert meta["consumerGroup"] == group
    assert int(meta["lagThreshold"]) > 0
    # No more replicas than partitions: a replica beyond them would own nothing.
    assert (
        1
        <= spec["minReplicaCount"]
        <= spec["maxReplicaCount"]
        == int(config["HEALTHSCORE_PARTITIONS"])
    )
    assert meta["allowIdleConsumers"] == "false"
