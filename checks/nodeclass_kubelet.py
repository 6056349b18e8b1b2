"""The EC2NodeClass's kubelet settings and what they leave for pods on a node.

Karpenter sizes a node from its instance type and the EC2NodeClass's spec.kubelet: maxPods replaces the
instance's ENI-based pod count, podsPerCore caps it per vCPU, kubeReserved replaces the default
reservation, systemReserved and evictionHard come off on top. Settings that leave no room for the
DaemonSets plus a pod keep the pod Pending however large the NodePool's instance types are.

Public API:
    nodeclass_kubelet(nodeclasses, nodepool) -> dict
    pod_capacity(instance_type, kubelet) -> int
    kubelet_allocatable(instance_type, kubelet) -> dict[resource, Decimal]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from checks import instances
from checks.instances import InstanceType
from checks.k8s import quantity_or_zero
from checks.kinds import Object, to_dict
from checks.nodepool_model import template_spec


def int_or_none(v: Any) -> int | None:
    """int(v), or None when v is not a whole number."""
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def nodeclass_kubelet(nodeclasses: Iterable[Object], nodepool: Object) -> dict[str, Any]:
    """spec.kubelet of the EC2NodeClass the NodePool's nodeClassRef names ({} when unset or not found)."""
    name = (template_spec(nodepool).get("nodeClassRef") or {}).get("name")
    for nc in nodeclasses:
        if nc.metadata.name == name:
            return dict((to_dict(nc).get("spec") or {}).get("kubelet") or {})
    return {}


def pod_capacity(it: InstanceType, kubelet: Mapping[str, Any]) -> int:
    """Pods a node of this type takes under the EC2NodeClass's kubelet settings: maxPods replaces the
    instance's ENI-based default, podsPerCore caps it at that many per vCPU (the lower one wins)."""
    cap = int_or_none(kubelet.get("maxPods"))
    pods = it.max_pods if cap is None else cap
    per_core = int_or_none(kubelet.get("podsPerCore"))
    if per_core:
        pods = min(pods, per_core * it.vcpu)
    return pods


KUBELET_SETTINGS = ("maxPods", "podsPerCore", "kubeReserved", "systemReserved", "evictionHard")


def kubelet_allocatable(it: InstanceType, kubelet: Mapping[str, Any]) -> dict[str, Decimal]:
    """What a node of this type offers pods under the EC2NodeClass's kubelet settings, the way Karpenter
    computes it: maxPods/podsPerCore set the pod count (and the default memory reservation that follows
    it), kubeReserved replaces the default reservation, systemReserved and evictionHard memory.available
    come off on top."""
    out = dict(it.allocatable)
    if not kubelet or not any(kubelet.get(k) for k in KUBELET_SETTINGS):
        return out
    pods = pod_capacity(it, kubelet)
    kube = kubelet.get("kubeReserved") or {}
    system = kubelet.get("systemReserved") or {}
    evict = str((kubelet.get("evictionHard") or {}).get("memory.available") or "")
    cpu_reserved = (
        quantity_or_zero(kube["cpu"]) * 1000 if "cpu" in kube else instances._kube_reserved_cpu_millis(it.vcpu)
    ) + quantity_or_zero(system.get("cpu")) * 1000
    mem_reserved = (
        (quantity_or_zero(kube["memory"]) / instances.MIB if "memory" in kube else Decimal(11 * pods + 255))
        + quantity_or_zero(system.get("memory")) / instances.MIB
        + (
            quantity_or_zero(evict) / instances.MIB
            if evict and not evict.endswith("%")
            else Decimal(instances.EVICTION_HARD_MEMORY_MIB)
        )
    )
    out["pods"] = Decimal(pods)
    out["cpu"] = (Decimal(it.vcpu * 1000) - cpu_reserved) / 1000
    out["memory"] = (Decimal(it.memory_mib - instances._vm_overhead_mib(it.memory_mib)) - mem_reserved) * instances.MIB
    return out
