"""Every built-in scenario, served by the simulator, reads back through the kubernetes client's typed APIs.

The typed models reject objects that lack fields the API always sets, so this is the test
that hand-written scenario YAML plus the loader's filling look like a real server's output.
The second part loads the real upstream Karpenter and GPU Operator CRDs and serves their kinds.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from checks.snapshot import split_log_annotations
from gputui.sim.loader import load_objects, scenario_names
from tests.helpers.sim import api_client_for, sim_http

BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}

try:
    SCENARIOS = scenario_names()
except Exception:  # a broken index is reported by the test below, not at collection
    SCENARIOS = []


def _scripts_logs(name: str) -> bool:
    import json

    from gputui.sim import scenario_build
    from gputui.sim.loader import resolve_sources
    from gputui.sim.scenario_index import GeneratedScenario

    texts = []
    for source in resolve_sources([name]):
        if isinstance(source, GeneratedScenario):
            texts.append(json.dumps(scenario_build.build(source.name)))
        else:
            files = [source] if source.is_file() else sorted(source.rglob("*.yaml"))
            texts.extend(f.read_text() for f in files)
    return any("sim.gputui.dev/log." in t or "sim.gputui.dev/previous-log." in t for t in texts)


SCENARIOS_WITH_LOGS = [n for n in SCENARIOS if _scripts_logs(n)]


def typed_lists(client):
    """kind -> a function returning the served items of that kind, through the typed APIs."""
    from kubernetes import client as k

    core, apps, batch = k.CoreV1Api(client), k.AppsV1Api(client), k.BatchV1Api(client)
    return {
        "Node": core.list_node,
        "Pod": core.list_pod_for_all_namespaces,
        "Event": core.list_event_for_all_namespaces,
        "Namespace": core.list_namespace,
        "ConfigMap": core.list_config_map_for_all_namespaces,
        "Service": core.list_service_for_all_namespaces,
        "ServiceAccount": core.list_service_account_for_all_namespaces,
        "DaemonSet": apps.list_daemon_set_for_all_namespaces,
        "Deployment": apps.list_deployment_for_all_namespaces,
        "StatefulSet": apps.list_stateful_set_for_all_namespaces,
        "ReplicaSet": apps.list_replica_set_for_all_namespaces,
        "Job": batch.list_job_for_all_namespaces,
        "PodDisruptionBudget": k.PolicyV1Api(client).list_pod_disruption_budget_for_all_namespaces,
        "HorizontalPodAutoscaler": k.AutoscalingV2Api(client).list_horizontal_pod_autoscaler_for_all_namespaces,
        "Lease": k.CoordinationV1Api(client).list_lease_for_all_namespaces,
        "CustomResourceDefinition": k.ApiextensionsV1Api(client).list_custom_resource_definition,
    }


def keys_of(items) -> set[tuple[str, str]]:
    return {(i.metadata.namespace or "", i.metadata.name) for i in items}


def custom_items(client, crd: dict, version: str) -> list[dict]:
    from kubernetes import client as k

    api = k.CustomObjectsApi(client)
    spec = crd["spec"]
    if spec["scope"] == "Cluster":
        body = api.list_cluster_custom_object(spec["group"], version, spec["names"]["plural"])
    else:
        body = api.list_custom_object_for_all_namespaces(spec["group"], version, spec["names"]["plural"])
    assert body["kind"] == spec["names"]["kind"] + "List"
    return body["items"]


def test_scenario_index_lists_scenarios():
    index = Path(__file__).resolve().parents[2] / "gputui" / "sim" / "scenarios" / "index.yaml"
    assert index.is_file()
    assert scenario_names(), "index.yaml defines no scenario"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_served_object_parses_through_the_typed_apis(name, start_sim):
    loaded = load_objects([name])
    expected: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for obj in loaded:
        expected[obj["kind"]].add((obj["metadata"].get("namespace") or "", obj["metadata"]["name"]))
    expected["Namespace"] |= {("", ns) for ns in BUILTIN_NAMESPACES}
    crds = {o["spec"]["names"]["kind"]: o for o in loaded if o["kind"] == "CustomResourceDefinition"}
    sim = start_sim(sources=[name])
    client = api_client_for(sim)
    lists_by_kind = typed_lists(client)
    unchecked = set(expected) - set(lists_by_kind) - set(crds)
    assert not unchecked, f"extend this test to read {sorted(unchecked)} through its typed API"
    for kind, list_fn in lists_by_kind.items():
        served = list_fn().items
        assert keys_of(served) == expected.get(kind, set()), kind
        assert len(served) == len(expected.get(kind, ())), kind
    for kind, crd in crds.items():
        for version in (v["name"] for v in crd["spec"]["versions"] if v.get("served", True)):
            items = custom_items(client, crd, version)
            assert {(i["metadata"].get("namespace") or "", i["metadata"]["name"]) for i in items} == expected.get(
                kind, set()
            ), f"{kind} {version}"
            assert all(i["apiVersion"] == f"{crd['spec']['group']}/{version}" for i in items)


def test_some_scenarios_script_logs():
    assert SCENARIOS_WITH_LOGS, "no built-in scenario scripts container logs"


@pytest.mark.parametrize("name", SCENARIOS_WITH_LOGS)
def test_scripted_logs_are_served_and_stripped_from_pods(name, start_sim):
    from kubernetes import client as k

    pods = [o for o in load_objects([name]) if o["kind"] == "Pod"]
    scripted = {(p["metadata"]["namespace"], p["metadata"]["name"]): split_log_annotations(p) for p in pods}
    scripted = {key: logs for key, logs in scripted.items() if logs}
    assert scripted, name
    sim = start_sim(sources=[name])
    core = k.CoreV1Api(api_client_for(sim))
    for (ns, pod), logs in scripted.items():
        served = core.read_namespaced_pod(pod, ns)
        assert not any(a.startswith("sim.gputui.dev/") and "log." in a for a in (served.metadata.annotations or {})), (
            pod
        )
        for (container, previous), text in logs.items():
            assert core.read_namespaced_pod_log(pod, ns, container=container, previous=previous) == text


# -- the real upstream CRDs ------------------------------------------------------------------------


def upstream(reference: Path, *parts: str) -> Path:
    return reference.joinpath(*parts)


def test_upstream_v1_crds_load_and_their_kinds_are_served(start_sim, reference):
    sources = [str(upstream(reference, "karpenter", "crds", "v1")), str(upstream(reference, "gpu-operator", "crds"))]
    objects = [
        {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodePool",
            "metadata": {"name": "gpu"},
            "spec": {
                "template": {
                    "spec": {
                        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
                        "requirements": [],
                    }
                }
            },
        },
        {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodeClaim",
            "metadata": {"name": "gpu-abcde", "labels": {"karpenter.sh/nodepool": "gpu"}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
                "requirements": [],
            },
        },
        {
            "apiVersion": "karpenter.k8s.aws/v1",
            "kind": "EC2NodeClass",
            "metadata": {"name": "gpu"},
            "spec": {"role": "KarpenterNodeRole", "amiSelectorTerms": [{"alias": "al2023@latest"}]},
        },
        {"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cluster-policy"}, "spec": {}},
        {"apiVersion": "nvidia.com/v1alpha1", "kind": "NVIDIADriver", "metadata": {"name": "default"}, "spec": {}},
    ]
    loaded = load_objects(sources)
    assert sorted(o["metadata"]["name"] for o in loaded) == [
        "clusterpolicies.nvidia.com",
        "ec2nodeclasses.karpenter.k8s.aws",
        "nodeclaims.karpenter.sh",
        "nodepools.karpenter.sh",
        "nvidiadrivers.nvidia.com",
    ]
    sim = start_sim(sources=sources, objects=objects)
    client = api_client_for(sim)
    served_crds = typed_lists(client)["CustomResourceDefinition"]().items
    assert sorted(c.metadata.name for c in served_crds) == sorted(o["metadata"]["name"] for o in loaded)
    crds = {o["spec"]["names"]["kind"]: o for o in loaded}
    for obj in objects:
        group, version = obj["apiVersion"].split("/")
        items = custom_items(client, crds[obj["kind"]], version)
        assert [i["metadata"]["name"] for i in items] == [obj["metadata"]["name"]]
    status, _, body = sim_http(sim, "GET", "/apis/karpenter.sh/v1")
    assert status == 200
    assert {r["name"] for r in json.loads(body)["resources"]} >= {"nodepools", "nodeclaims"}


def test_upstream_v1beta1_crds_load_and_their_kinds_are_served(start_sim, reference):
    sources = [str(upstream(reference, "karpenter", "crds", "v1beta1"))]
    loaded = load_objects(sources)
    assert Counter(o["kind"] for o in loaded) == {"CustomResourceDefinition": 3}
    pool = {
        "apiVersion": "karpenter.sh/v1beta1",
        "kind": "NodePool",
        "metadata": {"name": "old"},
        "spec": {"template": {"spec": {"nodeClassRef": {"name": "default"}, "requirements": []}}},
    }
    sim = start_sim(sources=sources, objects=[pool])
    client = api_client_for(sim)
    crd = next(o for o in loaded if o["spec"]["names"]["kind"] == "NodePool")
    items = custom_items(client, crd, "v1beta1")
    assert [(i["apiVersion"], i["metadata"]["name"]) for i in items] == [("karpenter.sh/v1beta1", "old")]
    assert custom_items(client, next(o for o in loaded if o["spec"]["names"]["kind"] == "NodeClaim"), "v1beta1") == []
