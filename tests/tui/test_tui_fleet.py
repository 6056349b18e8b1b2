"""The fleet overview's numbers, computed without a terminal, from scenario manifests."""

from __future__ import annotations

import pytest

from checks.model import ObjectRef
from checks.registry import run_checks
from gputui.tui import fleet_model
from gputui.tui.widgets.node_table import common_domain


@pytest.fixture(scope="module")
def incident():
    from tests.helpers.sim import scenario_snapshot

    snap = scenario_snapshot("incident")
    return snap, run_checks(snap)


def test_image_version_reads_tags_and_ignores_digests():
    assert fleet_model.image_version("public.ecr.aws/karpenter/controller:1.6.2@sha256:" + "a" * 64) == "1.6.2"
    assert fleet_model.image_version("nvcr.io/nvidia/gpu-operator:v25.3.4") == "v25.3.4"
    assert fleet_model.image_version("registry:5000/karpenter") == ""
    assert fleet_model.image_version("") == ""


def test_usage_bar():
    assert fleet_model.usage_bar(31, 64) == "██████░░░░░░ 31/64"
    assert fleet_model.usage_bar(80, 64) == "████████████ 80/64"
    assert fleet_model.usage_bar(3, None) == "3 (no limit)"


def test_short_gpu_model():
    assert fleet_model.short_gpu_model("NVIDIA-A100-SXM4-40GB") == "A100-SXM4-40GB"
    assert fleet_model.short_gpu_model("Tesla-T4") == "T4"
    assert fleet_model.short_gpu_model("L40S") == "L40S"


def test_common_domain_only_when_shared():
    assert (
        common_domain(["a.us-west-2.compute.internal", "b.us-west-2.compute.internal"]) == ".us-west-2.compute.internal"
    )
    assert common_domain(["a.x", "b.y"]) == ""
    assert common_domain(["node-1", "node-2"]) == ""


def test_summary_of_incident(incident):
    snap, findings = incident
    s = fleet_model.summarize(snap, findings, "v1.32.4")
    assert (s.gpu_nodes_ready, s.gpu_nodes_total) == (33, 33)
    assert (s.gpus_allocated, s.gpus_allocatable, s.gpus_capacity, s.gpus_expected) == (66, 66, 66, 69)
    assert s.pending_gpu_pods == 8
    assert s.karpenter_version == "1.6.2"
    assert s.operator_version == "v25.3.4 (notReady)"
    assert s.errors == sum(1 for f in findings if f.severity.label == "error")


def test_node_rows_put_broken_nodes_first(incident):
    snap, findings = incident
    rows = fleet_model.node_rows(snap, findings)
    assert len(rows) == 33
    broken = {r.name for r in rows[:3]}
    assert broken == {
        "ip-10-0-19-20.us-west-2.compute.internal",
        "ip-10-0-39-113.us-west-2.compute.internal",
        "ip-10-0-83-151.us-west-2.compute.internal",
    }
    assert all(r.worst.code == "GPU101" for r in rows[:3])  # the node's own finding beats its NodeClaim's


def test_nodepool_and_operand_rows(incident):
    snap, _ = incident
    pools = {r.name: r for r in fleet_model.nodepool_rows(snap)}
    assert (pools["gpu-training"].gpus_used, pools["gpu-training"].gpu_limit) == (32, 64)
    assert pools["general"].is_gpu is False and pools["general"].gpu_limit is None
    assert pools["gpu-inference"].disruption == "WhenEmptyOrUnderutilized after 10m, budget 10% +1"
    ops = {r.name: r for r in fleet_model.operand_rows(snap)}
    assert (ops["nvidia-driver-daemonset"].desired, ops["nvidia-driver-daemonset"].ready) == (31, 30)
    assert not ops["nvidia-driver-daemonset"].healthy


def test_findings_about_a_node_include_its_nodeclaim(incident):
    snap, findings = incident
    about = fleet_model.findings_about(snap, findings, ObjectRef("Node", "ip-10-0-19-20.us-west-2.compute.internal"))
    assert {(f.code, f.subject.name) for f in about} >= {
        ("GPU101", "ip-10-0-19-20.us-west-2.compute.internal"),
        ("GPU304", "gpu-dedicated-2mdgp"),
    }


def test_pods_of_a_deployment_go_through_its_replicasets(incident):
    snap, _ = incident
    pods = fleet_model.pods_of(snap, ObjectRef("Deployment", "sdxl-image-gen", namespace="ml-serving"))
    assert pods and all(p.metadata.name.startswith("sdxl-image-gen-") for p in pods)
    assert fleet_model.pods_of(snap, ObjectRef("NodePool", "gpu-training")) == []


def test_nodepool_gpus_used_are_what_running_pods_request(incident):
    """Not the GPUs the pool's instances have (status.resources): gpu-inference's 25 nodes hold 31
    GPUs and its pods request 30; gpu-dedicated's two nodes expose none, so none are in use."""
    snap, _ = incident
    pools = {r.name: r for r in fleet_model.nodepool_rows(snap)}
    assert (pools["gpu-inference"].gpus_used, pools["gpu-inference"].gpu_limit) == (30, 64)
    assert pools["gpu-dedicated"].gpus_used == 0
    for name, row in pools.items():
        nodes = snap.nodes_by_nodepool.get(name, [])
        assert row.gpus_used == sum(fleet_model.allocated_gpus(snap, n.metadata.name) for n in nodes)
