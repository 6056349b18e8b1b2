"""fleet_model's node allocation (CPU and memory requested / allocatable) and NodePool idle GPUs,
without a terminal; and how the node table fits its columns."""

from __future__ import annotations

import pytest

from checks.cost import node_cost
from gputui.tui import fleet_model
from gputui.tui.screens.fleet_overview import FLEET_NODEPOOL_COLUMNS, IDLE_COLUMN, fleet_nodepool_columns
from gputui.tui.widgets import node_table
from tests.helpers.cluster import GPU_NODE_A, GPU_NODE_B, gpu_node, gpu_pod, healthy_cluster, replace, snapshot, ts

GIB = 2**30


def _pod(name: str, node: str, cpu: str, memory: str, *, gpus: int = 0, phase: str = "Running", init=None) -> dict:
    pod = gpu_pod(name, node=node, gpus=gpus, phase=phase)
    pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu, "memory": memory}}
    if gpus:
        pod["spec"]["containers"][0]["resources"]["limits"] = {"nvidia.com/gpu": str(gpus)}
    if init:
        pod["spec"]["initContainers"] = [{"name": "init", "image": "busybox", "resources": {"requests": init}}]
    return pod


def _rows(objs):
    return {r.name: r for r in fleet_model.node_rows(snapshot(objs), [])}


def test_usage_bar_in_percent():
    assert fleet_model.usage_bar(1.185, 47.81, width=6, percent=True) == "░░░░░░ 2%"
    assert fleet_model.usage_bar(3.185, 3.92, width=6, percent=True) == "█████░ 81%"
    assert fleet_model.usage_bar(5, 4, width=6, percent=True) == "██████ 125%"
    assert fleet_model.usage_bar(31, 64) == "██████░░░░░░ 31/64"  # unchanged without percent


def test_node_rows_sum_what_unfinished_pods_request():
    objs = healthy_cluster() + [
        _pod("serve-0", GPU_NODE_A, "1500m", "4Gi", gpus=1),
        _pod("sidecar", GPU_NODE_A, "500m", "1Gi"),
        _pod("done", GPU_NODE_A, "2", "8Gi", phase="Succeeded"),  # finished: asks nothing any more
        _pod("init-heavy", GPU_NODE_B, "250m", "1Gi", init={"cpu": "3", "memory": "512Mi"}),
    ]
    rows = _rows(objs)
    a, b = rows[GPU_NODE_A], rows[GPU_NODE_B]
    assert (a.cpu_requested, a.memory_requested) == (2.0, 5 * GIB)
    assert (a.cpu_allocatable, a.memory_allocatable) == (3.92, 14 * GIB)  # gpu_node's allocatable
    assert a.cpu_share == pytest.approx(2 / 3.92) and a.memory_share == pytest.approx(5 / 14)
    assert (b.cpu_requested, b.memory_requested) == (3.0, GIB)  # the init container's CPU is the most
    cells = [getattr(c, "plain", c) for c in node_table._cells(a)]
    keys = [key for key, _, _ in node_table.COLUMNS]
    assert cells[keys.index("cpu")] == "███░░░ 51%" and cells[keys.index("memory")] == "██░░░░ 36%"


def test_a_node_without_allocatable_cpu_has_no_bar():
    node = gpu_node(GPU_NODE_A)
    node["status"]["allocatable"].pop("cpu")
    row = _rows(replace(healthy_cluster(), "Node", GPU_NODE_A, node))[GPU_NODE_A]
    assert row.cpu_share is None
    keys = [key for key, _, _ in node_table.COLUMNS]
    assert node_table._cells(row)[keys.index("cpu")].plain == "-"


def test_nodepool_idle_gpus_longest_idle_and_their_cost():
    # A idle since its GPU pod ended 20 minutes ago, B since it was created 60 minutes ago.
    done = gpu_pod("train-0", node=GPU_NODE_A, phase="Succeeded")
    done["status"]["containerStatuses"] = [
        {"name": "main", "state": {"terminated": {"exitCode": 0, "finishedAt": ts(20)}}}
    ]
    snap = snapshot(healthy_cluster() + [done])
    [row] = [r for r in fleet_model.nodepool_rows(snap) if r.name == "gpu"]
    assert row.idle_gpus == 2 and row.idle_seconds == 3600
    price = sum(node_cost(snap.node_by_name[n]).usd_per_hour or 0 for n in (GPU_NODE_A, GPU_NODE_B))
    assert row.idle_usd_per_hour == pytest.approx(price)
    assert row.idle_text == f"2 for 60m, ${price:.2f}/h"


def test_idle_text_spot_unpriced_and_none():
    spot = snapshot(
        replace(healthy_cluster((GPU_NODE_A,)), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, capacity_type="spot"))
    )
    [row] = [r for r in fleet_model.nodepool_rows(spot) if r.name == "gpu"]
    assert row.idle_text == "1 for 60m, ~$0.30/h"
    unknown = gpu_node(GPU_NODE_A, instance_type="g99.xlarge")
    [row] = [
        r
        for r in fleet_model.nodepool_rows(
            snapshot(replace(healthy_cluster((GPU_NODE_A,)), "Node", GPU_NODE_A, unknown))
        )
        if r.name == "gpu"
    ]
    assert row.idle_text == "1 for 60m, ?"
    busy = snapshot(healthy_cluster((GPU_NODE_A,)) + [gpu_pod("serve-0", node=GPU_NODE_A, phase="Running")])
    [row] = [r for r in fleet_model.nodepool_rows(busy) if r.name == "gpu"]
    assert (row.idle_gpus, row.idle_text) == (0, "-")


def test_the_idle_column_shows_only_while_some_pool_has_idle_gpus():
    idle = fleet_model.nodepool_rows(snapshot(healthy_cluster()))
    assert fleet_nodepool_columns(idle) == (*FLEET_NODEPOOL_COLUMNS, IDLE_COLUMN)
    busy = fleet_model.nodepool_rows(
        snapshot(healthy_cluster((GPU_NODE_A,)) + [gpu_pod("serve-0", node=GPU_NODE_A, phase="Running")])
    )
    assert fleet_nodepool_columns(busy) == FLEET_NODEPOOL_COLUMNS


def test_fit_columns_drops_in_order_then_takes_back_what_fits():
    keys = [key for key, _, _ in node_table.COLUMNS]
    row = ["x" * 10 for _ in keys]
    row[keys.index("memory")] = "m" * 40  # a wide column dropped before a narrow one
    everything = node_table.fit_columns(10**6, [row])
    assert everything == keys
    need = {k: max(len(h), len(row[i])) + node_table.CELL_PADDING for i, (k, h, _) in enumerate(node_table.COLUMNS)}
    width = sum(need.values()) - need["memory"] - need["type"]
    fitted = node_table.fit_columns(width, [row])
    # age, type and memory had to go; with memory gone one of age and type fits again, not both.
    assert "memory" not in fitted and "cpu" in fitted
    assert ("age" in fitted) != ("type" in fitted)
    assert fitted == [k for k in keys if k in fitted]  # the table's own order


def test_header_marks_idle_spend_with_spot_estimates():
    from checks.cost import ClusterCost
    from gputui.tui.widgets.cluster_header import cost_fields

    [f] = cost_fields(ClusterCost(1.31, 2, 0, True, 0.30, 1, 1, idle_estimate=True))
    assert f.plain == "~$1.31/h  idle GPUs 1 ~$0.30/h"
    [f] = cost_fields(ClusterCost(1.31, 2, 0, True, 1.01, 1, 1))
    assert f.plain == "~$1.31/h  idle GPUs 1 $1.01/h"  # the idle node is on demand
    spot = snapshot(
        replace(healthy_cluster((GPU_NODE_A,)), "Node", GPU_NODE_A, gpu_node(GPU_NODE_A, capacity_type="spot"))
    )
    assert fleet_model.summarize(spot, []).cost.idle_estimate


@pytest.mark.parametrize(("eks", "shown"), [("SPOT", "spot"), ("ON_DEMAND", "on-demand")])
def test_a_managed_node_group_node_shows_its_capacity_type(eks, shown):
    node = gpu_node(GPU_NODE_A)
    labels = node["metadata"]["labels"]
    del labels["karpenter.sh/capacity-type"], labels["karpenter.sh/nodepool"]
    labels["eks.amazonaws.com/capacityType"] = eks
    row = _rows(replace(healthy_cluster(), "Node", GPU_NODE_A, node))[GPU_NODE_A]
    assert row.capacity_type == shown and row.cost_text.startswith("~" if eks == "SPOT" else "$")
