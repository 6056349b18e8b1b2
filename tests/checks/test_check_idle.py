"""GPU504: GPU nodes idle longer than their NodePool (or nobody) should keep them."""

from __future__ import annotations

import pytest

from checks.disruption import IDLE_GRACE_SECONDS, UNMANAGED_IDLE_SECONDS
from checks.fix_kinds import FixKind
from checks.model import Severity
from checks.registry import run_checks
from tests.helpers.cluster import (
    GPU_NODE_A,
    GPU_TAINT,
    blocked_idle_node,
    gpu_node,
    gpu_pod,
    healthy_cluster,
    nodepool,
    replace,
    run,
    snapshot,
    ts,
)
from tests.helpers.sim import scenario_snapshot

POOL_MINUTES = 5  # the test NodePool: WhenEmpty, consolidateAfter 5m
LIMIT_MINUTES = POOL_MINUTES + IDLE_GRACE_SECONDS // 60


def cluster(*, disruption=None, extra=(), **node) -> list[dict]:
    """The healthy cluster with only GPU node A, built with `node`'s gpu_node arguments, and
    NodePool gpu with `disruption` (default WhenEmpty after 5m)."""
    objs = healthy_cluster(nodes=(GPU_NODE_A,))
    objs = replace(objs, "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, **node))
    if disruption is not None:
        objs = replace(objs, "NodePool", "gpu", nodepool(disruption=disruption))
    return objs + list(extra)


def unmanaged(objs: list[dict]) -> list[dict]:
    """Node A without Karpenter's labels and NodeClaim: a managed node group's node."""
    node = next(o for o in objs if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A)
    node["metadata"]["labels"] = {k: v for k, v in node["metadata"]["labels"].items() if not k.startswith("karpenter")}
    node["metadata"]["labels"]["eks.amazonaws.com/nodegroup"] = "gpu-static"
    return [o for o in objs if o["kind"] != "NodeClaim"]


def idle(objs: list[dict]):
    found = [f for f in run(snapshot(objs), "GPU504") if f.subject.name == GPU_NODE_A]
    assert len(found) <= 1
    return found[0] if found else None


# -- severity against the NodePool's consolidateAfter -------------------------------------


def test_idle_just_under_the_limit_is_info_and_offers_nothing():
    f = idle(cluster(age_min=LIMIT_MINUTES - 1))
    assert f is not None and f.severity == Severity.INFO
    assert "idle for 34m" in f.message and "NodePool gpu should consolidate it soon" in f.message
    assert f.fixes == []


def test_idle_at_the_limit_is_a_warning_with_the_nodeclaim_to_delete():
    f = idle(cluster(age_min=LIMIT_MINUTES))
    assert f is not None and f.severity == Severity.WARNING
    assert "should have consolidated it" in f.message
    assert [p.id for p in f.fixes] == [FixKind.DELETE_NODECLAIM.value]
    assert f.fixes[0].target.name == "gpu-aaaaa"
    assert any("consolidateAfter 5m" in e for e in f.evidence)
    assert any("warning after 35m idle" in e for e in f.evidence)


@pytest.mark.parametrize(("minutes", "severity"), [(149, Severity.INFO), (150, Severity.WARNING)])
def test_a_long_consolidate_after_moves_the_limit(minutes, severity):
    d = {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "2h"}
    f = idle(cluster(age_min=minutes, disruption=d))
    assert f is not None and f.severity == severity


def test_idle_counts_from_the_end_of_the_last_gpu_pod_not_from_the_node_creation():
    done = gpu_pod("train-0", node=GPU_NODE_A, phase="Succeeded", age_min=300)
    done["status"]["containerStatuses"] = [
        {"name": "main", "state": {"terminated": {"exitCode": 0, "finishedAt": ts(10)}}}
    ]
    f = idle(cluster(age_min=600, extra=[done]))
    assert f is not None and f.severity == Severity.INFO and "idle for 10m" in f.message


def test_a_node_with_a_running_gpu_pod_is_not_idle():
    assert idle(cluster(age_min=600, extra=[gpu_pod("train-0", node=GPU_NODE_A, phase="Running")])) is None


def test_a_node_a_pending_gpu_pod_is_nominated_to_is_about_to_be_used():
    waiting = gpu_pod("serve-1", phase="Pending")
    waiting["status"]["nominatedNodeName"] = GPU_NODE_A
    f = idle(cluster(age_min=600, extra=[waiting]))
    assert f is not None and f.severity == Severity.INFO and f.fixes == []
    assert "pending GPU pod ml/serve-1 is nominated to it" in f.message


# -- pools that keep idle nodes on purpose, and pods that keep a node from being empty -----


@pytest.mark.parametrize(
    ("disruption", "why"),
    [
        ({"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never"}, "consolidateAfter: Never"),
        (
            {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m", "budgets": [{"nodes": "0"}]},
            "a disruption budget of 0 nodes for Empty",
        ),
    ],
)
def test_a_pool_that_keeps_idle_nodes_is_info_at_any_age(disruption, why):
    f = idle(cluster(age_min=20 * 60, disruption=disruption))
    undo = "consolidateAfter" if "Never" in why else "spec.disruption.budgets"
    assert any(undo in e for e in f.evidence if e.startswith("a warm GPU node")), f.evidence if f else None
    assert f is not None and f.severity == Severity.INFO
    assert f"keeps idle nodes on purpose ({why})" in f.message
    assert "$" in f.message and f.fixes == []
    assert any(e.startswith("a warm GPU node is a choice; if it is not one: kubectl ") for e in f.evidence)


@pytest.mark.parametrize(
    "budget",
    [
        {"nodes": "0", "reasons": ["Drifted"]},  # does not apply to an empty node
        {"nodes": "0", "schedule": "0 7 * * mon-fri", "duration": "12h"},  # part of the day only
    ],
)
def test_a_budget_that_does_not_always_block_empty_nodes_keeps_the_warning(budget):
    d = {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m", "budgets": [budget]}
    f = idle(cluster(age_min=60, disruption=d))
    assert f is not None and f.severity == Severity.WARNING


def test_a_zero_budget_whose_window_is_open_now_keeps_the_node_until_it_closes():
    # The tests' clock is Monday 02:00 UTC: the 01:00 window of two hours is open.
    budget = {"nodes": "0", "schedule": "0 1 * * *", "duration": "2h"}
    d = {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m", "budgets": [budget]}
    f = idle(cluster(age_min=600, disruption=d))
    assert f is not None and f.severity == Severity.INFO
    assert "a disruption budget of 0 nodes for Empty until Mon 03:00 UTC (schedule 0 1 * * * for 2h)" in f.message


def test_a_stray_pod_on_a_when_empty_node_is_named():
    stray = gpu_pod("notebook", node=GPU_NODE_A, gpus=0, phase="Running")
    f = idle(cluster(age_min=60, extra=[stray]))
    assert f is not None and f.severity == Severity.WARNING
    assert "Karpenter will not consolidate it: consolidationPolicy WhenEmpty" in f.message
    assert "ml/notebook" in f.message
    assert any("pods other than DaemonSets on it: ml/notebook" in e for e in f.evidence)


def test_a_zero_budget_for_underutilized_keeps_a_node_that_is_not_empty():
    stray = gpu_pod("notebook", node=GPU_NODE_A, gpus=0, phase="Running")
    d = {
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "consolidateAfter": "5m",
        "budgets": [{"nodes": "0", "reasons": ["Underutilized"]}],
    }
    f = idle(cluster(age_min=600, disruption=d, extra=[stray]))
    assert f is not None and f.severity == Severity.INFO
    assert "a disruption budget of 0 nodes for Underutilized" in f.message


def test_a_node_annotated_do_not_disrupt_is_kept_on_purpose():
    f = idle(cluster(age_min=600, annotations={"karpenter.sh/do-not-disrupt": "true"}))
    assert f is not None and f.severity == Severity.INFO
    assert "keeps idle nodes on purpose (node annotation karpenter.sh/do-not-disrupt=true)" in f.message
    assert any(
        e.endswith("kubectl annotate node ip-10-0-3-7.ec2.internal karpenter.sh/do-not-disrupt-") for e in f.evidence
    )


def test_a_do_not_disrupt_pod_keeps_the_node_and_is_named():
    keeper = gpu_pod(
        "debug", node=GPU_NODE_A, gpus=0, phase="Running", annotations={"karpenter.sh/do-not-disrupt": "true"}
    )
    d = {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m"}
    f = idle(cluster(age_min=60, disruption=d, extra=[keeper]))
    assert f is not None and f.severity == Severity.WARNING
    assert "Karpenter will not consolidate it: pod ml/debug has pod annotation karpenter.sh/do-not-disrupt=true" in (
        f.message
    )


# -- nodes no NodePool manages ------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "severity"), [(59, Severity.INFO), (60, Severity.WARNING)])
def test_a_node_no_nodepool_manages_warns_after_an_hour(minutes, severity):
    assert UNMANAGED_IDLE_SECONDS == 3600
    f = idle(unmanaged(cluster(age_min=minutes)))
    assert f is not None and f.severity == severity
    assert "no Karpenter NodePool manages it" in f.message and "node group gpu-static" in f.message
    assert f.fixes == []
    assert any("kubectl drain ip-10-0-3-7.ec2.internal --ignore-daemonsets" in e for e in f.evidence)


def test_a_node_whose_nodepool_is_gone_counts_as_unmanaged():
    f = idle(cluster(age_min=60, pool="deleted-pool"))
    assert f is not None and f.severity == Severity.WARNING and "no Karpenter NodePool" in f.message


# -- prices -------------------------------------------------------------------------------


def test_an_on_demand_node_names_its_price_and_cost_so_far():
    f = idle(cluster(age_min=120))
    assert f is not None
    assert "(g5.xlarge, 1 GPU) has been idle for 2h: $1.01/h (on-demand), $2.01 so far" in f.message


def test_a_spot_node_is_an_estimate_marked_with_a_tilde():
    f = idle(cluster(age_min=120, capacity_type="spot"))
    assert f is not None
    assert "~$0.30/h (spot estimate), ~$0.60 so far" in f.message


def test_a_managed_node_group_spot_node_is_priced_as_spot():
    objs = unmanaged(cluster(age_min=120))
    node = next(o for o in objs if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A)
    node["metadata"]["labels"]["eks.amazonaws.com/capacityType"] = "SPOT"
    f = idle(objs)
    assert f is not None and "~$0.30/h (spot estimate)" in f.message


def test_an_unpriced_instance_type_says_so_without_a_figure():
    f = idle(cluster(age_min=120, instance_type="g99.xlarge"))
    assert f is not None and f.severity == Severity.WARNING
    assert "no price for this instance type" in f.message and "$" not in f.message
    assert any("g99.xlarge is not in the price catalogue" in e for e in f.evidence)


def test_without_a_creation_time_the_idle_time_is_unknown_and_info():
    objs = cluster(age_min=600)
    node = next(o for o in objs if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A)
    del node["metadata"]["creationTimestamp"]
    f = idle(objs)
    assert f is not None and f.severity == Severity.INFO and "for an unknown time" in f.message


# -- what is not idle waste ---------------------------------------------------------------


def test_leaving_not_ready_and_gpu_less_nodes_are_not_reported():
    deleting = cluster(age_min=600)
    node = next(o for o in deleting if o["kind"] == "Node" and o["metadata"]["name"] == GPU_NODE_A)
    node["metadata"]["deletionTimestamp"] = ts(1)
    assert idle(deleting) is None
    disrupted = [GPU_TAINT, {"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}]
    assert idle(cluster(age_min=600, taints=disrupted)) is None
    assert idle(cluster(age_min=600, ready="False")) is None
    assert idle(cluster(age_min=600, gpus=None)) is None


def test_a_node_gpu503_explains_is_not_reported_again():
    objs = blocked_idle_node('Cannot disrupt Node: PDB "ml/keeper" prevents pod evictions', minutes=45)
    codes = [f.code for f in run_checks(snapshot(objs)) if f.subject.name == GPU_NODE_A]
    assert "GPU503" in codes and "GPU504" not in codes


# -- scenarios ----------------------------------------------------------------------------


def test_scenarios():
    group = [f for f in run_checks(scenario_snapshot("idle-gpu-node-group")) if f.code in ("GPU503", "GPU504")]
    assert [(f.code, f.severity, f.subject.name) for f in group] == [
        ("GPU504", Severity.WARNING, "ip-10-0-0-49.us-west-2.compute.internal")
    ]
    assert "g5.12xlarge, 4 GPUs" in group[0].message and "$5.67/h (on-demand)" in group[0].message
    blocked = [f.code for f in run_checks(scenario_snapshot("idle-gpu-node-blocked")) if f.code in ("GPU503", "GPU504")]
    assert blocked == ["GPU503"]
    assert [f for f in run_checks(scenario_snapshot("healthy")) if f.code == "GPU504"] == []
