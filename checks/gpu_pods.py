"""Which GPU pods a snapshot holds: pending, unscheduled past the grace period, running."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from checks.k8s import is_terminal, pod_gpu_request, pod_requests_view
from checks.kinds import Container, Pod
from checks.snapshot_indexes import memo
from checks.transitions import PENDING_GRACE_SECONDS

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

# A pod this young without any event is still in the scheduler's queue, not stuck.


def pending_gpu_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    return memo(snapshot, "pending_gpu_pods", lambda: _asking_for_gpus(snapshot, _unbound_pending(snapshot), False))


def running_gpu_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    return memo(snapshot, "running_gpu_pods", lambda: _asking_for_gpus(snapshot, snapshot.pods, True))


def _unbound_pending(snapshot: ClusterSnapshot) -> list[Pod]:
    return memo(
        snapshot,
        "unbound_pending_pods",
        lambda: [
            p
            for p in snapshot.pods
            if p.status.phase == "Pending" and not p.spec.node_name and not p.metadata.deletion_timestamp
        ],
    )


def _asking_for_gpus(snapshot: ClusterSnapshot, pods: list[Pod], running: bool) -> list[Pod]:
    """The pods with pod_gpu_request > 0 (with running: only the Running pods bound to a node),
    computed once per containers list: replicas share theirs (the gatherer shares equal lists).
    The cache lives on the snapshot and holds the lists it is keyed by, so an id always means
    the same list."""
    gpus_of = _gpus_of(snapshot)
    out = []
    for p in pods:
        if running and (p.status.phase != "Running" or not p.spec.node_name):
            continue
        if gpus_of(p) > 0:
            out.append(p)
    return out


def _gpus_of(snapshot: ClusterSnapshot) -> Callable[[Pod], int]:
    """pod_gpu_request, worked out once per containers list the snapshot's pods share."""
    by_list: dict[int, tuple[list[Container], int]] = memo(snapshot, "gpus_by_containers", dict)

    def gpus(p: Pod) -> int:
        spec = p.spec
        if spec.init_containers or spec.overhead:
            return pod_gpu_request(p)
        containers = spec.containers
        hit = by_list.get(id(containers))
        if hit is None or hit[0] is not containers:
            hit = by_list[id(containers)] = (containers, pod_gpu_request(p))
        return hit[1]

    return gpus


def gpus_in_use_by_node(snapshot: ClusterSnapshot) -> dict[str, int]:
    """node name -> GPUs requested by the pods bound to it that have not finished (what
    `kubectl describe node` counts as allocated); nodes without any are left out."""

    def build() -> dict[str, int]:
        gpus_of = _gpus_of(snapshot)
        out: dict[str, int] = {}
        for p in snapshot.pods:
            node = p.spec.node_name
            if not node or is_terminal(p):
                continue
            n = gpus_of(p)
            if n:
                out[node] = out.get(node, 0) + n
        return out

    return memo(snapshot, "gpus_in_use_by_node", build)


def unscheduled_gpu_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    """GPU pods (whole GPUs or MIG slices) the scheduler has not placed and that are past
    its grace period: the pods the scheduling checks explain. A bound pod that is still
    Pending is pulling images or starting, which is not a scheduling problem."""
    return memo(snapshot, "unscheduled_gpu_pods", lambda: _unscheduled(snapshot))


def _unscheduled(snapshot: ClusterSnapshot) -> list[Pod]:
    out = []
    for p in _unbound_pending(snapshot):
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
    return {r: q for r, q in pod_requests_view(pod).items() if r.startswith("nvidia.com/") and q > 0}
