"""What nodes cost by the hour, from the instance catalogue (checks.instances), and what idle
GPU nodes have cost so far.

A node's price is its instance type's on-demand price, or its typical spot price when the node's
karpenter.sh/capacity-type is spot (or, on an EKS managed node group, eks.amazonaws.com/capacityType
is SPOT; an estimate: spot prices move, so it is marked as one). An
instance type the catalogue does not know has no price: it is counted as unpriced, never guessed.
A GPU node is idle when it has allocatable nvidia.com/gpu and no pod that is not finished asks for
a GPU on it; it has been idle since the newest end of a GPU pod on it, or since it was created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks import instances
from checks.findings import age_text
from checks.gpu import LABEL_CAPACITY_TYPE, LABEL_INSTANCE_TYPE
from checks.gpu_nodes import allocatable_gpus
from checks.k8s import is_terminal, pod_gpu_request
from checks.kinds import Node, Pod

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

SPOT = "spot"
LABEL_EKS_CAPACITY_TYPE = "eks.amazonaws.com/capacityType"  # ON_DEMAND or SPOT on managed node groups
LABEL_EKS_NODEGROUP = "eks.amazonaws.com/nodegroup"


@dataclass(frozen=True)
class NodeCost:
    node: str
    instance_type: str
    capacity_type: str  # karpenter.sh/capacity-type ("spot", "on-demand"), "" without one
    usd_per_hour: float | None  # None: the catalogue does not know the instance type
    estimate: bool  # a typical spot price, not what the account pays

    @property
    def text(self) -> str:
        """'$1.01/h', '~$0.30/h' for a spot estimate, '?' without a price."""
        if self.usd_per_hour is None:
            return "?"
        return f"{'~' if self.estimate else ''}{money(self.usd_per_hour)}/h"


@dataclass(frozen=True)
class IdleGpuNode:
    node: str
    gpus: int  # allocatable nvidia.com/gpu, none of them asked for
    idle_seconds: float | None  # None: no timestamp to count from
    cost: NodeCost

    @property
    def spent_usd(self) -> float | None:
        """What the node has cost since it went idle; None without a price or a start."""
        if self.cost.usd_per_hour is None or self.idle_seconds is None:
            return None
        return self.cost.usd_per_hour * max(self.idle_seconds, 0.0) / 3600

    @property
    def spent_text(self) -> str:
        """'~$2.02 so far' ('~' for a spot estimate), '' without a figure."""
        spent = self.spent_usd
        return f"{'~' if self.cost.estimate else ''}{money(spent)} so far" if spent else ""

    @property
    def cost_evidence(self) -> str:
        """'costs $1.01/h (g5.xlarge, on-demand); about $2.02 since it went idle 2h ago', or why
        there is no figure."""
        cost, spent = self.cost, self.spent_usd
        if cost.usd_per_hour is None:
            return f"instance type {cost.instance_type or '(no label)'} is not in the price catalogue: no cost figure"
        return f"costs {cost.text} ({cost.instance_type}, {'spot estimate' if cost.estimate else 'on-demand'})" + (
            f"; about {money(spent)} since it went idle {age_text(self.idle_seconds)} ago" if spent else ""
        )


@dataclass(frozen=True)
class ClusterCost:
    usd_per_hour: float  # the priced nodes only
    priced_nodes: int
    unpriced_nodes: int
    estimate: bool  # some of it is a spot estimate
    idle_usd_per_hour: float
    idle_gpus: int
    idle_nodes: int
    idle_estimate: bool = False  # some of the idle spend is a spot estimate


def money(usd: float) -> str:
    """'$0.53', '$55.04', '$1,320'."""
    return f"${usd:,.0f}" if usd >= 1000 else f"${usd:,.2f}"


def node_cost(node: Node) -> NodeCost:
    labels = node.metadata.labels
    name = labels.get(LABEL_INSTANCE_TYPE, "")
    capacity_type = labels.get(LABEL_CAPACITY_TYPE) or labels.get(LABEL_EKS_CAPACITY_TYPE, "").lower().replace("_", "-")
    it = instances.get(name)
    spot = capacity_type == SPOT
    price = None if it is None else it.spot_usd if spot else it.on_demand_usd
    return NodeCost(node.metadata.name, name, capacity_type, price or None, spot and it is not None)


def _asks_for_gpu(pod: Pod) -> bool:
    return pod_gpu_request(pod) > 0


def _ended(pod: Pod) -> list[str]:
    return [
        str(cs.state["terminated"]["finishedAt"])
        for cs in pod.status.container_statuses
        if isinstance(cs.state.get("terminated"), dict) and cs.state["terminated"].get("finishedAt")
    ]


def idle_seconds(snapshot: ClusterSnapshot, node: Node) -> float | None:
    """How long since the newest GPU pod on the node ended, or since the node was created."""
    ages = [snapshot.age_seconds(node.metadata.creation_timestamp)]
    for p in snapshot.pods_by_node.get(node.metadata.name, ()):
        if _asks_for_gpu(p):
            ages.extend(snapshot.age_seconds(t) for t in _ended(p))
    known = [a for a in ages if a is not None]
    return min(known) if known else None


def idle_gpu_node(snapshot: ClusterSnapshot, node: Node) -> IdleGpuNode | None:
    """The node as an idle GPU node, or None when it has no allocatable GPU or a GPU pod."""
    gpus = allocatable_gpus(node)
    if gpus <= 0:
        return None
    pods = snapshot.pods_by_node.get(node.metadata.name, ())
    if any(_asks_for_gpu(p) and not is_terminal(p) for p in pods):
        return None
    return IdleGpuNode(node.metadata.name, gpus, idle_seconds(snapshot, node), node_cost(node))


def idle_gpu_nodes(snapshot: ClusterSnapshot) -> list[IdleGpuNode]:
    out = [idle_gpu_node(snapshot, n) for n in snapshot.nodes]
    return [i for i in out if i is not None]


def cluster_cost(snapshot: ClusterSnapshot) -> ClusterCost:
    costs = [node_cost(n) for n in snapshot.nodes]
    priced = [c for c in costs if c.usd_per_hour is not None]
    idle = idle_gpu_nodes(snapshot)
    return ClusterCost(
        usd_per_hour=sum(c.usd_per_hour or 0.0 for c in priced),
        priced_nodes=len(priced),
        unpriced_nodes=len(costs) - len(priced),
        estimate=any(c.estimate for c in priced),
        idle_usd_per_hour=sum(i.cost.usd_per_hour or 0.0 for i in idle),
        idle_gpus=sum(i.gpus for i in idle),
        idle_nodes=len(idle),
        idle_estimate=any(i.cost.estimate for i in idle),
    )
