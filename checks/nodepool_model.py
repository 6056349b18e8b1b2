"""The NodePool model: template accessors, which accelerator vendor a pool is for, and
whether a pending pod could land on it."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from checks import instances
from checks.gpu import (
    AMD_GPU_RESOURCE,
    GPU_RESOURCE,
    LABEL_INSTANCE_TYPE,
    LABEL_KARPENTER_GPU_COUNT,
    LABEL_KARPENTER_GPU_MANUFACTURER,
    LABEL_KARPENTER_GPU_MEMORY,
    LABEL_KARPENTER_GPU_NAME,
)
from checks.gpu_nodes import AMD_FAMILY_RE, GPU_FAMILY_RE, NEURON_FAMILY_RE, expected_gpus
from checks.instances import L_ACC_COUNT, L_ACC_MANUFACTURER, L_ACC_NAME, L_CATEGORY, L_FAMILY, NEURON_RESOURCE
from checks.k8s import (
    taint_from_dict,
)
from checks.kinds import Object, Taint

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot


def template(np: Object) -> dict[str, Any]:
    """spec.template of a NodePool: its node metadata and spec."""
    return np.spec.get("template") or {}


def template_spec(np: Object) -> dict[str, Any]:
    """spec.template.spec: requirements, taints, nodeClassRef, expireAfter."""
    return template(np).get("spec") or {}


def template_labels(np: Object) -> dict[str, Any]:
    """spec.template.metadata.labels: labels every node of the pool gets."""
    return (template(np).get("metadata") or {}).get("labels") or {}


def requirement_dicts(np: Object) -> list[dict[str, Any]]:
    """spec.template.spec.requirements as written (checks.nodepools.Requirement parses them)."""
    return list(template_spec(np).get("requirements") or [])


def nodepool_taints(np: Object) -> list[Taint]:
    return [taint_from_dict(t) for t in template_spec(np).get("taints") or []]


def nodepool_limits(np: Object) -> dict[str, Any]:
    return np.spec.get("limits") or {}


# -- which accelerator a NodePool is for ------------------------------------------------


class Accelerator(enum.Enum):
    """The accelerator vendor a NodePool launches nodes for."""

    NONE = "none"
    NVIDIA = "nvidia"
    AMD = "amd"
    NEURON = "neuron"

    @property
    def resource(self) -> str | None:
        """The extended resource its device plugin advertises."""
        return _RESOURCE_OF.get(self)


_RESOURCE_OF = {
    Accelerator.NVIDIA: GPU_RESOURCE,
    Accelerator.AMD: AMD_GPU_RESOURCE,
    Accelerator.NEURON: NEURON_RESOURCE,
}
_RESOURCE_VENDORS = (
    (GPU_RESOURCE, Accelerator.NVIDIA),
    (AMD_GPU_RESOURCE, Accelerator.AMD),
    (NEURON_RESOURCE, Accelerator.NEURON),  # also aws.amazon.com/neuroncore, neurondevice
)
_GPU_MANUFACTURERS = {"nvidia": Accelerator.NVIDIA, "amd": Accelerator.AMD}
_GPU_SIZE_KEYS = (LABEL_KARPENTER_GPU_COUNT, LABEL_KARPENTER_GPU_MEMORY, LABEL_KARPENTER_GPU_NAME)
_ACCELERATOR_KEYS = (L_ACC_NAME, L_ACC_COUNT, L_ACC_MANUFACTURER)
_NEURON_NAMES = ("inferentia", "trainium")
_AMD_GPU_NAMES = ("radeon", "v520", "instinct", "mi")
_CATEGORY_VENDORS = {
    "g": Accelerator.NVIDIA,
    "p": Accelerator.NVIDIA,
    "inf": Accelerator.NEURON,
    "trn": Accelerator.NEURON,
}


def _vendor_of_resource(name: str) -> Accelerator | None:
    for prefix, vendor in _RESOURCE_VENDORS:
        if name == prefix or name.startswith(prefix):
            return vendor
    return None


def _vendor_of_family(family: str) -> Accelerator | None:
    """The vendor of an EC2 instance family, from the catalogue or, for families it does not
    know, from the family's name (g4ad is AMD; inf/trn are Neuron; p, g, gr are NVIDIA)."""
    for it in instances.INSTANCE_TYPES.values():
        if it.family == family:
            if it.is_nvidia:
                return Accelerator.NVIDIA
            return Accelerator.NEURON if it.accelerator_count else None
    if AMD_FAMILY_RE.match(family):
        return Accelerator.AMD
    if NEURON_FAMILY_RE.match(family):
        return Accelerator.NEURON
    if GPU_FAMILY_RE.match(family):
        return Accelerator.NVIDIA
    return None


def _vendor_of_gpu_name(name: str) -> Accelerator:
    low = name.lower()
    if low in instances.GPU_MODELS:
        return Accelerator.NVIDIA
    return Accelerator.AMD if low.startswith(_AMD_GPU_NAMES) else Accelerator.NVIDIA


def _positive(op: str, values: list[str]) -> bool:
    """A requirement that asks for some of the thing: In, Exists, Gt n (n >= 0)."""
    if op in ("In", "Exists"):
        return True
    if op in ("Gt", "Gte") and values:
        try:
            return int(values[0]) >= 0
        except ValueError:
            return False
    return False


def nodepool_accelerator(np: Object) -> Accelerator:
    """Which accelerator a NodePool is for, from its spec alone (no nodes needed, so it answers
    the same on a live pool, a manifest file and an editor draft).

    The strongest signal wins: a manufacturer requirement (instance-gpu-manufacturer,
    instance-accelerator-manufacturer/name), then the resources it limits or taints for
    (nvidia.com/gpu, amd.com/gpu, aws.amazon.com/neuron), then the instance families, types,
    categories and GPU names it admits, then generic GPU requirements (instance-gpu-count,
    -memory, which gputui reads as NVIDIA).
    """
    reqs = requirement_dicts(np)
    for r in reqs:
        key, op, values = r.get("key", ""), r.get("operator", ""), [str(v).lower() for v in r.get("values") or []]
        if key == LABEL_KARPENTER_GPU_MANUFACTURER and op == "In":
            vendors = [_GPU_MANUFACTURERS[v] for v in values if v in _GPU_MANUFACTURERS]
            if vendors:
                return Accelerator.NVIDIA if Accelerator.NVIDIA in vendors else vendors[0]
        if key in (L_ACC_MANUFACTURER, L_ACC_NAME) and op == "In":
            if "aws" in values or any(v.startswith(_NEURON_NAMES) for v in values):
                return Accelerator.NEURON
    for name in [*nodepool_limits(np), *(t.key for t in nodepool_taints(np))]:
        vendor = _vendor_of_resource(name)
        if vendor is not None:
            return vendor
    found: list[Accelerator] = []
    for r in reqs:
        key, op, values = r.get("key", ""), r.get("operator", ""), [str(v) for v in r.get("values") or []]
        if op == "In" and key == L_FAMILY:
            found += [v for v in map(_vendor_of_family, values) if v is not None]
        elif op == "In" and key == LABEL_INSTANCE_TYPE:
            found += [v for v in (_vendor_of_family(t.split(".")[0]) for t in values) if v is not None]
        elif op == "In" and key == L_CATEGORY:
            found += [_CATEGORY_VENDORS[v] for v in values if v in _CATEGORY_VENDORS]
        elif op == "In" and key == LABEL_KARPENTER_GPU_NAME:
            found += [_vendor_of_gpu_name(v) for v in values]
        elif key in (*_GPU_SIZE_KEYS, LABEL_KARPENTER_GPU_MANUFACTURER) and _positive(op, values):
            found.append(Accelerator.NVIDIA)
        elif key in _ACCELERATOR_KEYS and _positive(op, values):
            found.append(Accelerator.NEURON)
    for vendor in (Accelerator.NVIDIA, Accelerator.AMD, Accelerator.NEURON):
        if vendor in found:
            return vendor
    return Accelerator.NONE


def is_nvidia_nodepool(np: Object) -> bool:
    """A NodePool meant for NVIDIA GPUs: the pools the NVIDIA-only checks judge."""
    return nodepool_accelerator(np) is Accelerator.NVIDIA


def is_accelerator_nodepool(np: Object) -> bool:
    """A NodePool meant for GPUs or Neuron accelerators of any vendor."""
    return nodepool_accelerator(np) is not Accelerator.NONE


def serves_nvidia_gpus(snapshot: ClusterSnapshot, np: Object) -> bool:
    """A live NodePool that serves NVIDIA GPUs: its spec says so, or it says nothing about
    accelerators and its nodes turned out to have NVIDIA GPUs."""
    vendor = nodepool_accelerator(np)
    if vendor is not Accelerator.NONE:
        return vendor is Accelerator.NVIDIA
    return any(expected_gpus(snapshot, n) is not None for n in snapshot.nodes_by_nodepool.get(np.metadata.name, []))
