"""Cost figures against the instance catalogue, and idle GPU spend."""

from __future__ import annotations

import pytest

from checks import instances
from checks.cost import cluster_cost, idle_gpu_nodes, money, node_cost
from checks.kinds import Node, to_struct
from tests.helpers.cluster import GPU_NODE_A, gpu_node, gpu_pod, healthy_cluster, snapshot, ts
from tests.helpers.sim import scenario_snapshot


def _node(instance_type: str, capacity_type: str = "on-demand") -> Node:
    return to_struct(gpu_node("n1", instance_type=instance_type, capacity_type=capacity_type), Node)


@pytest.mark.parametrize(
    ("instance_type", "capacity_type", "usd", "estimate", "text"),
    [
        ("g5.xlarge", "on-demand", 1.006, False, "$1.01/h"),
        ("g5.xlarge", "spot", 0.302, True, "~$0.30/h"),
        ("p5.48xlarge", "on-demand", 55.04, False, "$55.04/h"),
        ("p5.48xlarge", "spot", 27.52, True, "~$27.52/h"),
        ("g5.xlarge", "", 1.006, False, "$1.01/h"),
    ],
)
def test_node_cost_is_the_catalogue_price(instance_type, capacity_type, usd, estimate, text):
    c = node_cost(_node(instance_type, capacity_type))
    it = instances.get(instance_type)
    assert it is not None
    assert c.usd_per_hour == pytest.approx(usd)
    assert c.usd_per_hour == (it.spot_usd if capacity_type == "spot" else it.on_demand_usd)
    assert (c.estimate, c.text) == (estimate, text)


def test_an_unknown_instance_type_has_no_price():
    c = node_cost(_node("m7i.super-large"))
    assert c.usd_per_hour is None and c.text == "?" and not c.estimate


def test_money():
    assert [money(0.526), money(55.04), money(1320.4)] == ["$0.53", "$55.04", "$1,320"]


def _with_pod_on_a(**kw):
    return [*healthy_cluster(), gpu_pod("train-0", node=GPU_NODE_A, **kw)]


def test_idle_gpu_node_counts_from_creation_and_costs_so_far():
    snap = snapshot(healthy_cluster())
    idle = {i.node: i for i in idle_gpu_nodes(snap)}
    a = idle[GPU_NODE_A]
    node = snap.node_by_name[GPU_NODE_A]
    assert a.idle_seconds == snap.age_seconds(node.metadata.creation_timestamp)
    assert a.spent_usd == pytest.approx(a.cost.usd_per_hour * a.idle_seconds / 3600)


def test_a_running_gpu_pod_makes_the_node_busy_and_a_finished_one_sets_idle_since():
    busy = snapshot(_with_pod_on_a(phase="Running"))
    assert GPU_NODE_A not in {i.node for i in idle_gpu_nodes(busy)}
    objs = _with_pod_on_a(phase="Succeeded")
    pod = next(o for o in objs if o["kind"] == "Pod" and o["metadata"]["name"] == "train-0")
    pod["status"]["containerStatuses"] = [
        {"name": "main", "state": {"terminated": {"exitCode": 0, "finishedAt": ts(7)}}}
    ]
    [a] = [i for i in idle_gpu_nodes(snapshot(objs)) if i.node == GPU_NODE_A]
    assert a.idle_seconds == 7 * 60


def test_cluster_cost_sums_priced_nodes_and_counts_the_rest():
    snap = snapshot(healthy_cluster())
    c = cluster_cost(snap)
    costs = [node_cost(n) for n in snap.nodes]
    assert c.usd_per_hour == pytest.approx(sum(x.usd_per_hour or 0 for x in costs))
    assert c.priced_nodes + c.unpriced_nodes == len(snap.nodes)
    assert c.idle_nodes == len(idle_gpu_nodes(snap))


def test_the_idle_scenario_has_idle_spend():
    snap = scenario_snapshot("idle-gpu-node-blocked")
    c = cluster_cost(snap)
    assert c.idle_nodes >= 1 and c.idle_usd_per_hour > 0
    assert all(i.spent_usd is not None and i.spent_usd > 0 for i in idle_gpu_nodes(snap))


def test_idle_cost_as_text_on_demand_spot_and_unpriced():
    from checks.cost import IdleGpuNode, NodeCost

    on_demand = IdleGpuNode("n1", 1, 7200, NodeCost("n1", "g5.xlarge", "on-demand", 1.006, False))
    assert on_demand.spent_text == "$2.01 so far"
    assert on_demand.cost_evidence == "costs $1.01/h (g5.xlarge, on-demand); about $2.01 since it went idle 2h ago"
    spot = IdleGpuNode("n1", 1, 7200, NodeCost("n1", "g5.xlarge", "spot", 0.302, True))
    assert spot.spent_text == "~$0.60 so far"
    assert spot.cost_evidence.startswith("costs ~$0.30/h (g5.xlarge, spot estimate); about $0.60")
    unpriced = IdleGpuNode("n1", 1, 7200, NodeCost("n1", "g99.xlarge", "", None, False))
    assert unpriced.spent_text == "" and unpriced.cost_evidence.endswith(
        "is not in the price catalogue: no cost figure"
    )
    unknown_start = IdleGpuNode("n1", 1, None, NodeCost("n1", "g5.xlarge", "", 1.006, False))
    assert unknown_start.spent_text == "" and unknown_start.cost_evidence == "costs $1.01/h (g5.xlarge, on-demand)"


def test_a_managed_node_group_capacity_type_prices_spot():
    node = gpu_node("n1", instance_type="g5.xlarge")
    labels = node["metadata"]["labels"]
    del labels["karpenter.sh/capacity-type"]
    labels["eks.amazonaws.com/capacityType"] = "SPOT"
    c = node_cost(to_struct(node, Node))
    assert (c.capacity_type, c.estimate, c.text) == ("spot", True, "~$0.30/h")
