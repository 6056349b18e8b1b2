"""Every built-in scenario, diagnosed live over HTTP and offline with --from.

The `expect:` lists in gputui/sim/scenarios/index.yaml are the specification; the
table below states them again explicitly (code, subject, a substring of the evidence,
and the fix plan where one is promised), so a change to either side shows up here.
A scenario added later is still held to its own `expect:` list by the generic test.
"""

from __future__ import annotations

import json

import pytest
import yaml

from gputui.cli import main
from gputui.sim.loader import SCENARIO_DIR, scenario_names

# (code, kind, namespace, name, evidence substring, fix id or None)
EXPECTED: dict[str, list[tuple]] = {
    "healthy": [],
    "device-plugin-taint": [
        ("GPU101", "Node", None, "ip-10-0-20-38.us-west-2.compute.internal", "example.com/gpu-dedicated", None),
        ("GPU101", "Node", None, "ip-10-0-80-20.us-west-2.compute.internal", "example.com/gpu-dedicated", None),
        ("GPU205", "ClusterPolicy", None, "cluster-policy", "example.com/gpu-dedicated", "clusterpolicy-tolerations"),
        ("GPU304", "NodeClaim", None, "gpu-dedicated-8ngxb", "ResourceNotRegistered", None),
        ("GPU304", "NodeClaim", None, "gpu-dedicated-ld7b8", "ResourceNotRegistered", None),
        ("GPU401", "Deployment", "ml-research", "protein-embed", "Insufficient nvidia.com/gpu", None),
    ],
    "driver-crashloop": [
        ("GPU101", "Node", None, "ip-10-0-37-174.us-west-2.compute.internal", "nvidia-driver-ctr", None),
        ("GPU201", "ClusterPolicy", None, "cluster-policy", "state-driver", None),
        (
            "GPU202",
            "DaemonSet",
            "gpu-operator",
            "nvidia-driver-daemonset",
            "ip-10-0-37-174.us-west-2.compute.internal",
            None,
        ),
        ("GPU203", "Pod", "gpu-operator", "nvidia-driver-daemonset-9n8dn", "CrashLoopBackOff", None),
        ("GPU304", "NodeClaim", None, "gpu-inference-d4rd8", "ResourceNotRegistered", None),
        ("GPU401", "Deployment", "ml-serving", "llm-chat", "Insufficient nvidia.com/gpu", None),
    ],
    "insufficient-capacity": [
        ("GPU302", "NodePool", None, "gpu-training", "p5.48xlarge", None),
        ("GPU401", "Job", "ml-training", "pretrain-70b-run7", "InsufficientCapacityError", None),
    ],
    "nodepool-gpu-limit": [
        ("GPU308", "NodePool", None, "gpu-inference", "nvidia.com/gpu", None),
        ("GPU401", "Deployment", "ml-serving", "llm-chat", "exceed limits", None),
    ],
    "missing-toleration": [
        ("GPU401", "Deployment", "ml-serving", "sdxl-image-gen", "nvidia.com/gpu", "add-toleration"),
    ],
    "ec2nodeclass-not-ready": [
        ("GPU307", "EC2NodeClass", None, "gpu-batch", "SubnetsReady", None),
        ("GPU306", "NodePool", None, "gpu-batch", "NodeClassReady", None),
        ("GPU401", "Job", "ml-research", "batch-embed-2611", "gpu-batch", None),
    ],
    "spot-training-disruption": [
        ("GPU501", "Job", "ml-research", "llm-sweep-lr3e5", "do-not-disrupt", "add-do-not-disrupt"),
        ("GPU502", "Job", "ml-research", "llm-sweep-lr3e5", "Underutilized", None),
    ],
    "incident": [
        ("GPU101", "Node", None, "ip-10-0-19-20.us-west-2.compute.internal", "example.com/gpu-dedicated", None),
        ("GPU101", "Node", None, "ip-10-0-83-151.us-west-2.compute.internal", "example.com/gpu-dedicated", None),
        ("GPU101", "Node", None, "ip-10-0-39-113.us-west-2.compute.internal", "nvidia-driver-ctr", None),
        ("GPU201", "ClusterPolicy", None, "cluster-policy", "state-driver", None),
        (
            "GPU202",
            "DaemonSet",
            "gpu-operator",
            "nvidia-driver-daemonset",
            "ip-10-0-39-113.us-west-2.compute.internal",
            None,
        ),
        ("GPU203", "Pod", "gpu-operator", "nvidia-driver-daemonset-fbxjp", "CrashLoopBackOff", None),
        ("GPU205", "ClusterPolicy", None, "cluster-policy", "example.com/gpu-dedicated", "clusterpolicy-tolerations"),
        ("GPU302", "NodePool", None, "gpu-training", "p5.48xlarge", None),
        ("GPU304", "NodeClaim", None, "gpu-dedicated-2mdgp", "ResourceNotRegistered", None),
        ("GPU304", "NodeClaim", None, "gpu-dedicated-779mx", "ResourceNotRegistered", None),
        ("GPU304", "NodeClaim", None, "gpu-inference-4frzj", "ResourceNotRegistered", None),
        ("GPU401", "Deployment", "ml-research", "protein-embed", "Insufficient nvidia.com/gpu", None),
        ("GPU401", "Deployment", "ml-serving", "llm-chat", "Insufficient nvidia.com/gpu", None),
        ("GPU401", "Job", "ml-training", "pretrain-70b-run7", "InsufficientCapacityError", None),
        ("GPU401", "Deployment", "ml-serving", "sdxl-image-gen", "nvidia.com/gpu", "add-toleration"),
        ("GPU501", "Job", "ml-research", "llm-sweep-lr3e5", "do-not-disrupt", "add-do-not-disrupt"),
        ("GPU502", "Job", "ml-research", "llm-sweep-lr3e5", "Underutilized", None),
    ],
    "karpenter-v1beta1": [
        ("GPU308", "NodePool", None, "gpu-inference", "nvidia.com/gpu", None),
        ("GPU401", "Deployment", "ml-serving", "llm-chat", "exceed limits", None),
    ],
}


def _index() -> dict:
    return yaml.safe_load((SCENARIO_DIR / "index.yaml").read_text()) or {}


def _from_index(name: str) -> list[tuple]:
    return [
        (e["code"], e["kind"], e.get("namespace"), e["name"], e.get("evidence", ""), e.get("fix"))
        for e in _index()[name].get("expect") or []
    ]


def _live(capsys, start_sim, name: str) -> tuple[int, dict]:
    sim = start_sim(sources=[name], behaviour=True)
    code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "-o", "json", "--no-progress"])
    return code, json.loads(capsys.readouterr().out)


def _offline(capsys, name: str) -> tuple[int, dict]:
    code = main(["diagnose", "--from", name, "-o", "json"])
    return code, json.loads(capsys.readouterr().out)


def _matches(f: dict, code, kind, namespace, name, evidence, fix) -> bool:
    s = f["subject"]
    return (
        f["code"] == code
        and s["kind"] == kind
        and s["namespace"] == namespace
        and s["name"] == name
        and evidence in "\n".join(f["evidence"])
        and (fix is None or fix in {x["id"] for x in f["fixes"]})
    )


def _assert_expected(doc: dict, expected: list[tuple]) -> None:
    for exp in expected:
        assert any(_matches(f, *exp) for f in doc["findings"]), f"missing {exp}; got " + json.dumps(
            [(f["code"], f["subject"], f["evidence"][:2]) for f in doc["findings"]], indent=1
        )
    if not expected:
        bad = [
            (f["code"], f["subject"]["name"], f["message"])
            for f in doc["findings"]
            if f["severity"] in ("error", "warning")
        ]
        assert bad == []


def _pairs(doc: dict) -> set:
    return {(f["code"], f["subject"]["kind"], f["subject"]["namespace"], f["subject"]["name"]) for f in doc["findings"]}


def test_the_table_states_every_index_expectation():
    for name, expected in EXPECTED.items():
        assert sorted(expected, key=str) == sorted(_from_index(name), key=str), name


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_live_and_offline(capsys, start_sim, name):
    """Scenarios stated in the table above are held to it; the others to their index.yaml `expect:`."""
    expected = EXPECTED[name] if name in EXPECTED else _from_index(name)
    # Only the healthy cluster and a scenario whose failures only `gputui debug` sees expect nothing here.
    debug_only = _index()[name].get("seen_by") == "debug"
    assert expected or name == "healthy" or debug_only, f"{name} states no expected finding"
    code, live = _live(capsys, start_sim, name)
    _assert_expected(live, expected)
    # Every scenario is fully readable; CRDs it does not load are "not installed", never a partial read.
    assert [i for i in live["incomplete"] if i["reason"] != "NotFound"] == []
    assert code == (1 if live["summary"]["error"] else 0)
    assert live["cluster"]["source"] == "live"

    offline_code, offline = _offline(capsys, name)
    assert offline["cluster"]["source"] == "snapshot"
    _assert_expected(offline, expected)
    assert _pairs(offline) == _pairs(live)
    assert offline_code == code


def test_karpenter_v1beta1_is_read_through_the_fallback(capsys, start_sim):
    sim = start_sim(sources=["karpenter-v1beta1"])
    main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "-o", "json", "--no-progress"])
    doc = json.loads(capsys.readouterr().out)
    assert {i["resource"] for i in doc["incomplete"]} <= {"clusterpolicies.nvidia.com"}
    assert any(f["code"] == "GPU308" for f in doc["findings"])
