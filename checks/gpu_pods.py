"""Which GPU pods a snapshot holds: pending, unscheduled past the grace period, running."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from checks.k8s import pod_gpu_request, pod_requests
from checks.kinds import Pod
from checks.snapshot_indexes import memo
from checks.transitions import PENDING_GRACE_SECONDS

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

# A pod this young without any event is still in the scheduler's queue, not stuck.


def pending_gpu_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    return memo(
        snapshot,
        "pending_gpu_pods",
        lambda: [
            p
            for p in snapshot.pods
            if p.status.phase == "Pending"
            and not p.spec.node_name
            and not p.metadata.deletion_timestamp
            and pod_gpu_request(p) > 0
        ],
    )


def running_gpu_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    return memo(
        snapshot,
        "running_gpu_pods",
        lambda: [
            p for p in snapshot.pods if p.status.phase == "Running" and p.spec.node_name and pod_gpu_request(p) > 0
        ],
    )


def unscheduled_gpu_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    """GPU pods (whole GPUs or MIG slices) the scheduler has not placed and that are past
    its grace period: the pods the scheduling checks explain. A bound pod that is still
    Pending is pulling images or starting, which is not a scheduling problem."""
    out = []
    for p in snapshot.pods:
        if p.status.phase != "Pending" or p.spec.node_name or p.metadata.deletion_timestamp:
            continue
        if not gpu_requests(p):
            continue
        age = snapshot.age_seconds(p.metadata.creation_timestamp)
        if (
            age is not None
            and age < PENDING_GRACE_SECONDS
            and not snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace)
        ):
            continue
        out.append(p)
    return out


def gpu_requests(pod: Pod) -> dict[str, Decimal]:
    """NVIDIA resources the pod asks for: whole GPUs and MIG slices (nvidia.com/mig-1g.10gb)."""
    return {r: q for r, q in pod_requests(pod).items() if r.startswith("nvidia.com/") and q > 0}
