"""What a NodePool may still launch: its limits against what its nodes use, the limit errors
Karpenter reported, and other instance types a job could run on when EC2 has no capacity."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from checks import instances
from checks.event_messages import KarpenterMessage, parse_failed_scheduling
from checks.gpu import GPU_RESOURCE, LABEL_INSTANCE_TYPE
from checks.gpu_pods import pending_gpu_pods
from checks.k8s import (
    format_quantity,
    pod_requests,
    quantity_or_zero,
    requirement_matches,
)
from checks.kinds import Object, Pod
from checks.nodepool_model import requirement_dicts

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot


def limits_state(snapshot: ClusterSnapshot, np: Object) -> list[tuple[str, Decimal, Decimal]]:
    """(resource, used, limit) for every limit on the NodePool."""
    limits = np.spec.get("limits") or {}
    used = np.status.get("resources") or {}
    out = []
    nodes = snapshot.nodes_by_nodepool.get(np.metadata.name, [])
    for key, lim in limits.items():
        limit = quantity_or_zero(lim)
        if key in used:
            u = quantity_or_zero(used[key])
        else:  # older Karpenter or a hand-written manifest: count node capacity ourselves
            u = sum((quantity_or_zero(n.status.capacity.get(key)) for n in nodes), Decimal(0))
        out.append((key, u, limit))
    return out


def limit_errors_for(snapshot: ClusterSnapshot, pool: str) -> list[str]:
    """FailedScheduling texts on pending pods saying this NodePool's limits are exhausted."""
    out = []
    for p in pending_gpu_pods(snapshot):
        for e in snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace):
            if e.reason != "FailedScheduling":
                continue
            parsed = parse_failed_scheduling(e.message or "")
            if isinstance(parsed, KarpenterMessage) and any(
                x.kind == "limits" and (x.nodepool == pool or x.nodepool is None and pool in x.raw)
                for x in parsed.errors
            ):
                out.append(f"event FailedScheduling on {p.metadata.namespace}/{p.metadata.name}: {e.message}")
    return out


def alternative_types(failed: list[str], np: Object) -> list[str]:
    """Other NVIDIA instance types a job sized for `failed` could use: same GPU count, at least
    as much memory per GPU, another family (EC2 capacity is per family), and allowed by every
    other requirement of the NodePool. Empty when the catalog knows no honest substitute."""
    known = [it for it in (instances.get(n) for n in failed) if it is not None and it.gpu_count]
    if not known:
        return []
    reqs = [
        r
        for r in requirement_dicts(np)
        if r.get("key") != LABEL_INSTANCE_TYPE and r.get("key") in instances.INSTANCE_LABEL_KEYS
    ]
    allowed = set()
    for r in requirement_dicts(np):
        if r.get("key") == LABEL_INSTANCE_TYPE and r.get("operator") == "In":
            allowed |= set(r.get("values") or [])
    families = {it.family for it in known}
    out = []
    for it in instances.gpu_instance_types():
        if it.name in allowed or it.family in families:
            continue
        if not any(it.gpu_count == k.gpu_count and it.gpu_memory_mib >= k.gpu_memory_mib for k in known):
            continue
        labels = instances.karpenter_labels(it)
        if all(
            requirement_matches(labels, r.get("key", ""), r.get("operator", ""), r.get("values") or ()) for r in reqs
        ):
            out.append(it.name)
    return out[:3]


def raised_limit(key: str, used: Decimal, limit: Decimal, waiting: list[Pod]) -> str:
    need = sum((pod_requests(p).get(key, Decimal(0)) for p in waiting), Decimal(0))
    target = max(limit, used) + (need if need > 0 else max(limit / 2, Decimal(1)))
    if key == GPU_RESOURCE or key == "cpu":
        target = Decimal(int(target.to_integral_value(rounding="ROUND_CEILING")))
        return str(int(target))
    return format_quantity(target, key)
