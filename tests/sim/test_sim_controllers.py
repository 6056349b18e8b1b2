"""The simulated GPU Operator and Karpenter close the loop after a change, over HTTP."""

from __future__ import annotations

import json
import time

import pytest

from gputui.sim.controllers import Delays
from tests.helpers.sim import sim_http
from tests.helpers.wait import wait_until

pytestmark = pytest.mark.timeout(120)

MERGE = {"Content-Type": "application/merge-patch+json"}
GPU = "nvidia.com/gpu"


def _get(sim, path: str) -> dict:
    status, _, body = sim_http(sim, "GET", path)
    assert status == 200, body[:300]
    return json.loads(body)


def _patch(sim, path: str, body: dict) -> dict:
    status, _, out = sim_http(sim, "PATCH", path, body, headers=MERGE)
    assert status == 200, out[:300]
    return json.loads(out)


def _pods(sim, ns: str, prefix: str) -> list[dict]:
    return [p for p in _get(sim, f"/api/v1/namespaces/{ns}/pods")["items"] if p["metadata"]["name"].startswith(prefix)]


def _running(pods: list[dict]) -> bool:
    return bool(pods) and all(p["status"].get("phase") == "Running" and p["spec"].get("nodeName") for p in pods)


def _findings(sim) -> set[tuple[str, str]]:
    from checks.registry import run_checks
    from gputui.kube.client import connect
    from gputui.kube.gather import gather

    with connect(str(sim.kubeconfig), sim.context) as kube:
        snap = gather(kube)
    return {(f.code, f.subject.name) for f in run_checks(snap)}


def _nodeclaims(sim) -> dict[str, dict]:
    return {nc["metadata"]["name"]: nc for nc in _get(sim, "/apis/karpenter.sh/v1/nodeclaims")["items"]}


def _conditions(obj: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or []}


@pytest.fixture
def sim_with(start_sim):
    def start(scenario: str, **kwargs):
        kwargs.setdefault("delays", Delays.fast())
        return start_sim(sources=[scenario], behaviour=True, **kwargs)

    return start


def test_fixtures_stay_still_until_something_changes(sim_with):
    sim = sim_with("device-plugin-taint")
    before = sim.store.resource_version
    time.sleep(0.5)
    assert sim.store.resource_version == before
    assert sim.controllers.last_error is None


def test_clusterpolicy_toleration_starts_operands_and_registers_gpus(sim_with):
    sim = sim_with("device-plugin-taint")
    node = "ip-10-0-20-38.us-west-2.compute.internal"
    assert GPU not in _get(sim, f"/api/v1/nodes/{node}")["status"]["capacity"]
    cp = _get(sim, "/apis/nvidia.com/v1/clusterpolicies/cluster-policy")
    tolerations = cp["spec"]["daemonsets"]["tolerations"] + [
        {"key": "example.com/gpu-dedicated", "operator": "Exists", "effect": "NoSchedule"}
    ]
    _patch(
        sim,
        "/apis/nvidia.com/v1/clusterpolicies/cluster-policy",
        {"spec": {"daemonsets": {"tolerations": tolerations}}},
    )

    ds = wait_until(
        lambda: (
            (d := _get(sim, "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-device-plugin-daemonset"))[
                "status"
            ].get("numberReady")
            == 7
            and d
        )
    )
    assert ds, "the device plugin DaemonSet should run on all 7 GPU nodes"
    assert {"key": "example.com/gpu-dedicated", "operator": "Exists", "effect": "NoSchedule"} in ds["spec"]["template"][
        "spec"
    ]["tolerations"]
    plugin = [p for p in _pods(sim, "gpu-operator", "nvidia-device-plugin-daemonset") if p["spec"]["nodeName"] == node]
    assert len(plugin) == 1
    got = wait_until(lambda: _get(sim, f"/api/v1/nodes/{node}")["status"]["allocatable"].get(GPU))
    assert got == "1"  # a g6e.xlarge: one L40S
    labels = _get(sim, f"/api/v1/nodes/{node}")["metadata"]["labels"]
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-L40S" and labels["karpenter.sh/initialized"] == "true"
    claim = _nodeclaims(sim)["gpu-dedicated-8ngxb"]
    assert _conditions(claim)["Initialized"] == "True"
    assert wait_until(lambda: _running(_pods(sim, "ml-research", "protein-embed")))
    found = wait_until(lambda: not {c for c, _ in _findings(sim)} & {"GPU101", "GPU304", "GPU401"} and True)
    assert found, _findings(sim)


def test_driver_switched_off_removes_its_daemonset_and_on_brings_it_back(sim_with):
    sim = sim_with("healthy")
    path = "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-driver-daemonset"
    _patch(sim, "/apis/nvidia.com/v1/clusterpolicies/cluster-policy", {"spec": {"driver": {"enabled": False}}})
    assert wait_until(lambda: sim_http(sim, "GET", path)[0] == 404)
    assert wait_until(lambda: not _pods(sim, "gpu-operator", "nvidia-driver-daemonset"))
    _patch(sim, "/apis/nvidia.com/v1/clusterpolicies/cluster-policy", {"spec": {"driver": {"enabled": True}}})
    assert wait_until(lambda: sim_http(sim, "GET", path)[0] == 200)
    assert wait_until(lambda: _running(_pods(sim, "gpu-operator", "nvidia-driver-daemonset")))


def test_raised_nodepool_limit_launches_a_node_for_each_pending_pod(sim_with):
    sim = sim_with("nodepool-gpu-limit")
    claims_before = set(_nodeclaims(sim))
    _patch(sim, "/apis/karpenter.sh/v1/nodepools/gpu-inference", {"spec": {"limits": {GPU: "6"}}})
    new = wait_until(
        lambda: (
            [
                n
                for n, nc in _nodeclaims(sim).items()
                if n not in claims_before and _conditions(nc).get("Initialized") == "True"
            ]
            if len(set(_nodeclaims(sim)) - claims_before) == 2
            else []
        )
    )
    assert len(new) == 2
    for name in new:
        nc = _nodeclaims(sim)[name]
        assert _conditions(nc) == {"Launched": "True", "Registered": "True", "Initialized": "True", "Ready": "True"}
        node = _get(sim, f"/api/v1/nodes/{nc['status']['nodeName']}")
        labels = node["metadata"]["labels"]
        assert labels["karpenter.sh/nodepool"] == "gpu-inference"
        assert labels["node.kubernetes.io/instance-type"] == "g6.xlarge"  # the cheapest type that fits
        assert labels["karpenter.k8s.aws/instance-gpu-name"] == "l4"
        assert node["status"]["capacity"][GPU] == "1" and node["status"]["capacity"]["cpu"] == "4"
        assert node["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    pool = _get(sim, "/apis/karpenter.sh/v1/nodepools/gpu-inference")
    assert pool["status"]["resources"][GPU] == "6"
    assert wait_until(lambda: _running(_pods(sim, "ml-serving", "llm-chat-")))
    events = _get(sim, "/api/v1/namespaces/ml-serving/events")["items"]
    assert any(e["reason"] == "Nominated" and "nodeclaim/" + new[0] in e["message"] for e in events)


def test_unchanged_limit_launches_nothing(sim_with):
    sim = sim_with("nodepool-gpu-limit")
    claims = set(_nodeclaims(sim))
    _patch(sim, "/apis/karpenter.sh/v1/nodepools/gpu-inference", {"metadata": {"labels": {"team": "ml"}}})
    time.sleep(0.5)
    assert set(_nodeclaims(sim)) == claims
    assert not _running(_pods(sim, "ml-serving", "llm-chat-7dc5696d9c"))


def test_deleted_nodeclaim_drains_its_node_and_its_pods_come_back(sim_with):
    sim = sim_with("healthy")
    claims = _nodeclaims(sim)
    name, claim = next((n, c) for n, c in claims.items() if n.startswith("gpu-inference"))
    node = claim["status"]["nodeName"]
    on_node = [
        p
        for p in _get(sim, "/api/v1/pods")["items"]
        if p["spec"].get("nodeName") == node and p["metadata"]["namespace"] == "ml-serving"
    ]
    assert on_node, "the healthy cluster runs an inference pod on every gpu-inference node"
    status, _, _ = sim_http(sim, "DELETE", f"/apis/karpenter.sh/v1/nodeclaims/{name}")
    assert status == 200
    assert wait_until(lambda: name not in _nodeclaims(sim))
    assert sim_http(sim, "GET", f"/api/v1/nodes/{node}")[0] == 404
    pods = _get(sim, "/api/v1/namespaces/ml-serving/pods")["items"]
    old = {p["metadata"]["name"] for p in on_node}
    assert not old & {p["metadata"]["name"] for p in pods}
    for p in on_node:  # each evicted pod's controller made a new, unbound one
        base = p["metadata"]["name"].rsplit("-", 1)[0]
        assert any(q["metadata"]["name"].startswith(base) and q["metadata"]["name"] not in old for q in pods)


def test_unavailable_instance_type_fails_with_insufficient_capacity(sim_with):
    sim = sim_with(
        "nodepool-gpu-limit",
        unavailable=[
            "g6.xlarge",
            "g5.xlarge",
            "g6.2xlarge",
            "g5.2xlarge",
            "g6.4xlarge",
            "g5.4xlarge",
            "g6.12xlarge",
            "g5.12xlarge",
        ],
    )
    claims = set(_nodeclaims(sim))
    _patch(sim, "/apis/karpenter.sh/v1/nodepools/gpu-inference", {"spec": {"limits": {GPU: "64"}}})

    def ice_events():
        return [
            e
            for e in _get(sim, "/api/v1/namespaces/default/events")["items"]
            if e["reason"] == "InsufficientCapacityError" and e["involvedObject"]["name"] not in claims
        ]

    events = wait_until(lambda: len(ice_events()) == 2 and ice_events())
    assert events, "each pending pod's NodeClaim fails to launch"
    assert "insufficient capacity, all requested instance types were unavailable during launch" in events[0]["message"]
    time.sleep(0.3)
    assert set(_nodeclaims(sim)) == claims  # the failed NodeClaims are deleted, and not retried at once
    assert len(ice_events()) == 2
    assert _get(sim, "/apis/karpenter.sh/v1/nodepools/gpu-inference")["status"]["resources"][GPU] == "4"


def test_scenario_marks_capacity_unavailable(sim_with):
    sim = sim_with("insufficient-capacity")
    assert {"p5.48xlarge", "p4d.24xlarge"} <= sim.controllers.unavailable
    claims = set(_nodeclaims(sim))
    _patch(sim, "/apis/karpenter.sh/v1/nodepools/gpu-training", {"spec": {"limits": {GPU: "128"}}})
    assert wait_until(
        lambda: (
            sum(
                1
                for e in _get(sim, "/api/v1/namespaces/default/events")["items"]
                if e["reason"] == "InsufficientCapacityError"
                and e["involvedObject"]["name"] not in claims
                and "pretrain" not in e["involvedObject"]["name"]
            )
            >= 1
        )
    )
    assert not _running(_pods(sim, "ml-training", "pretrain-70b-run7"))


def test_deployment_template_change_rolls_out_new_pods(sim_with):
    sim = sim_with("missing-toleration")
    path = "/apis/apps/v1/namespaces/ml-serving/deployments/sdxl-image-gen"
    dep = _get(sim, path)
    tolerations = list(dep["spec"]["template"]["spec"].get("tolerations") or []) + [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    _patch(sim, path, {"spec": {"template": {"spec": {"tolerations": tolerations}}}})
    assert wait_until(lambda: _running(_pods(sim, "ml-serving", "sdxl-image-gen")), timeout=20)
    pods = _pods(sim, "ml-serving", "sdxl-image-gen")
    assert len(pods) == dep["spec"]["replicas"]
    assert not [p for p in pods if p["metadata"]["name"].startswith("sdxl-image-gen-78c86bd8dd")]
    assert wait_until(lambda: _get(sim, path)["status"].get("readyReplicas") == dep["spec"]["replicas"])


def test_controllers_can_be_switched_off(start_sim):
    sim = start_sim(sources=["nodepool-gpu-limit"], behaviour=True, controllers=False)
    assert sim.controllers is None
    _patch(sim, "/apis/karpenter.sh/v1/nodepools/gpu-inference", {"spec": {"limits": {GPU: "8"}}})
    time.sleep(0.3)
    assert not _running(_pods(sim, "ml-serving", "llm-chat-7dc5696d9c"))


def test_deleted_daemonset_pod_comes_back_on_its_node(sim_with):
    sim = sim_with("healthy")
    pod = _pods(sim, "gpu-operator", "nvidia-device-plugin-daemonset")[0]
    node = pod["spec"]["nodeName"]
    status, _, _ = sim_http(sim, "DELETE", f"/api/v1/namespaces/gpu-operator/pods/{pod['metadata']['name']}")
    assert status == 200

    def replacement():
        return [
            p
            for p in _pods(sim, "gpu-operator", "nvidia-device-plugin-daemonset")
            if p["spec"]["nodeName"] == node and p["metadata"]["name"] != pod["metadata"]["name"]
        ]

    assert wait_until(lambda: _running(replacement()))
    assert replacement()[0]["status"]["containerStatuses"][0]["state"].get("running")


def test_crashing_operand_re_created_crashes_again(sim_with):
    sim = sim_with("driver-crashloop")
    old = "nvidia-driver-daemonset-9n8dn"
    status, _, _ = sim_http(sim, "DELETE", f"/api/v1/namespaces/gpu-operator/pods/{old}")
    assert status == 200

    def crashing():
        for p in _pods(sim, "gpu-operator", "nvidia-driver-daemonset"):
            if p["metadata"]["name"] != old and p["spec"]["nodeName"] == "ip-10-0-37-174.us-west-2.compute.internal":
                for cs in p["status"].get("containerStatuses") or []:
                    if (cs["state"].get("waiting") or {}).get("reason") == "CrashLoopBackOff":
                        return p
        return None

    pod = wait_until(crashing)
    assert pod, "the driver still finds no kernel headers on that node"
    status, _, log = sim_http(
        sim, "GET", f"/api/v1/namespaces/gpu-operator/pods/{pod['metadata']['name']}/log?container=nvidia-driver-ctr"
    )
    assert status == 200 and b"nvidia" in log.lower(), "the new container fails with the old one's output"


def test_unschedulable_gpu_pod_created_through_the_api_gets_a_node(sim_with):
    sim = sim_with("healthy")
    claims = set(_nodeclaims(sim))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "four-gpus", "namespace": "default"},
        "spec": {
            "nodeSelector": {"workload-type": "gpu-inference"},
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "main", "image": "vllm/vllm-openai:v0.8.5", "resources": {"limits": {GPU: "4"}}}],
        },
    }
    status, _, body = sim_http(sim, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 201, body[:300]
    done = wait_until(lambda: _running(_pods(sim, "default", "four-gpus")), timeout=20)
    assert done, _pods(sim, "default", "four-gpus")[0]["status"]
    new = set(_nodeclaims(sim)) - claims
    assert len(new) == 1
    claim = _nodeclaims(sim)[new.pop()]
    assert claim["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "g6.12xlarge"  # the cheapest with 4
    assert _pods(sim, "default", "four-gpus")[0]["spec"]["nodeName"] == claim["status"]["nodeName"]
    events = _get(sim, "/api/v1/namespaces/default/events")["items"]
    reasons = [e["reason"] for e in events if e["involvedObject"]["name"] == "four-gpus"]
    assert "FailedScheduling" in reasons and "Nominated" in reasons and "Scheduled" in reasons


def test_no_gpus_registered_while_the_driver_crash_loops(sim_with):
    sim = sim_with("driver-crashloop")
    node = "ip-10-0-37-174.us-west-2.compute.internal"
    old = next(p for p in _pods(sim, "gpu-operator", "nvidia-device-plugin-daemonset") if p["spec"]["nodeName"] == node)
    status, _, _ = sim_http(sim, "DELETE", f"/api/v1/namespaces/gpu-operator/pods/{old['metadata']['name']}")
    assert status == 200

    def replacement():
        return [
            p
            for p in _pods(sim, "gpu-operator", "nvidia-device-plugin-daemonset")
            if p["spec"]["nodeName"] == node and p["metadata"]["name"] != old["metadata"]["name"]
        ]

    assert wait_until(lambda: _running(replacement()))
    time.sleep(0.5)  # many times the registration delay
    assert GPU not in _get(sim, f"/api/v1/nodes/{node}")["status"]["allocatable"]
    assert _conditions(_nodeclaims(sim)["gpu-inference-d4rd8"])["Initialized"] != "True"
