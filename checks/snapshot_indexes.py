"""Indexes derived from a snapshot once and shared by every check (cached on the snapshot)."""

from __future__ import annotations

from checks.k8s import (
    pod_gpu_request,
)
from checks.kinds import Object, Pod


def memo(snapshot, key: str, build):
    """Cache a derived index on the snapshot (as cached_property does) so checks share it."""
    cache = snapshot.__dict__.setdefault("_derived_indexes", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def pending_gpu_pods(snapshot) -> list[Pod]:
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


def running_gpu_pods(snapshot) -> list[Pod]:
    return memo(
        snapshot,
        "running_gpu_pods",
        lambda: [
            p for p in snapshot.pods if p.status.phase == "Running" and p.spec.node_name and pod_gpu_request(p) > 0
        ],
    )


def nodeclaim_by_name(snapshot) -> dict[str, Object]:
    return memo(snapshot, "nodeclaim_by_name", lambda: {nc.metadata.name: nc for nc in snapshot.nodeclaims})


def objects_by_ns_name(snapshot, attr: str) -> dict[tuple[str, str], Object]:
    return memo(
        snapshot,
        f"{attr}_by_key",
        lambda: {(o.metadata.namespace or "", o.metadata.name): o for o in getattr(snapshot, attr)},
    )
