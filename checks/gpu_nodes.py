"""Should this node have NVIDIA GPUs, and how many? The one answer every check uses.

The sources, strongest first: the instance-type catalogue, Karpenter's instance-gpu-count
label, the NodeClaim's capacity, GFD's gpu.count label, the node's capacity, NFD/GFD
presence labels, and finally a GPU instance family name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from checks import instances
from checks.gpu import (
    AMD_GPU_NAME_PREFIXES,
    AMD_GPU_RESOURCE,
    GPU_RESOURCE,
    LABEL_GFD_GPU_COUNT,
    LABEL_GFD_GPU_PRESENT,
    LABEL_GFD_GPU_PRODUCT,
    LABEL_INSTANCE_TYPE,
    LABEL_KARPENTER_ACCELERATOR_COUNT,
    LABEL_KARPENTER_ACCELERATOR_MANUFACTURER,
    LABEL_KARPENTER_ACCELERATOR_NAME,
    LABEL_KARPENTER_GPU_COUNT,
    LABEL_KARPENTER_GPU_MANUFACTURER,
    LABEL_KARPENTER_GPU_NAME,
    LABEL_NFD_NVIDIA_PCI,
    NEURON_RESOURCE_PREFIX,
)
from checks.k8s import (
    quantity_or_zero,
)
from checks.kinds import Node, Object
from checks.snapshot_indexes import memo
from checks.transitions import YOUNG_NODE_SECONDS as YOUNG_NODE_SECONDS  # used by the operand rules

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

# EC2 instance family names by accelerator, for families the catalogue does not know yet:
# p*, g* (but g4ad, AMD) and gr* are NVIDIA, with an optional variant suffix (p6-b200).
GPU_FAMILY_RE = re.compile(r"^(?:p\d+[a-z]*|g\d+(?!ad)[a-z]*|gr\d+[a-z]*)(?:-[a-z0-9]+)?$")
AMD_FAMILY_RE = re.compile(r"^g\d+ad$")
NEURON_FAMILY_RE = re.compile(r"^(?:inf|trn)\d+[a-z]*$")
GPU_INSTANCE_TYPE_RE = re.compile(GPU_FAMILY_RE.pattern[:-1] + r"\.[a-z0-9-]+$")


@dataclass
class GpuExpectation:
    count: int | None  # None: a GPU node, but no source says how many
    source: str  # where the count comes from, for evidence
    model: str | None = None
    instance_type: str | None = None

    def describe(self) -> str:
        it = self.instance_type or "unknown instance type"
        if self.count is None:
            return f"{it}, NVIDIA GPU expected"
        model = f" {self.model}" if self.model else ""
        return f"{it}, {self.count}x{model} expected"


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _catalog(labels: Mapping[str, str]) -> tuple[int | None, str | None]:
    """(GPU count, model) from the instance-type catalog; (None, None) when it does not know the type."""
    it = instances.get(labels.get(LABEL_INSTANCE_TYPE))
    if it is None:
        return None, None  # the labels speak next, each named as the source
    return int(it.gpu_count), (it.gpu_model or None)


def other_accelerator(labels: Mapping[str, str], capacity: Mapping[str, Any]) -> str | None:
    """ "amd" or "neuron" for a node whose accelerators are not NVIDIA GPUs, else None.

    The NVIDIA checks never judge such a node: it has no NVIDIA driver, no GPU Operator
    operands and advertises amd.com/gpu or aws.amazon.com/neuron instead of nvidia.com/gpu.
    A node that shows NVIDIA hardware (nvidia.com/gpu capacity, NFD pci-10de) stays NVIDIA.
    """
    if _int(capacity.get(GPU_RESOURCE)) or labels.get(LABEL_NFD_NVIDIA_PCI) == "true":
        return None
    if _int(capacity.get(AMD_GPU_RESOURCE)):
        return "amd"
    if any(k.startswith(NEURON_RESOURCE_PREFIX) and _int(v) for k, v in capacity.items()):
        return "neuron"
    if (labels.get(LABEL_KARPENTER_GPU_MANUFACTURER) or "").lower() == "amd":
        return "amd"
    if (labels.get(LABEL_KARPENTER_GPU_NAME) or "").lower().startswith(AMD_GPU_NAME_PREFIXES):
        return "amd"
    if any(
        labels.get(k)
        for k in (
            LABEL_KARPENTER_ACCELERATOR_NAME,
            LABEL_KARPENTER_ACCELERATOR_MANUFACTURER,
            LABEL_KARPENTER_ACCELERATOR_COUNT,
        )
    ):
        return "neuron"
    family = (labels.get(LABEL_INSTANCE_TYPE) or "").split(".")[0]
    if AMD_FAMILY_RE.match(family):
        return "amd"
    if NEURON_FAMILY_RE.match(family):
        return "neuron"
    return None


def expected_gpus(snapshot: ClusterSnapshot, node: Node) -> GpuExpectation | None:
    """How many NVIDIA GPUs this node should expose, or None when it is not a GPU node.
    Worked out once per node and snapshot (many checks ask), keyed by the node's id, which
    the cache holds on to so that the id cannot come to mean another node."""
    held, found = memo(snapshot, "expected_gpus", lambda: (dict[int, Node](), dict[int, GpuExpectation | None]()))
    key = id(node)
    if key not in found:
        held[key] = node
        nc = snapshot.nodeclaims_by_node.get(node.metadata.name)
        found[key] = expected_gpus_of(node.metadata.labels, node.status.capacity, nc)
    return found[key]


def expected_gpus_of(
    labels: Mapping[str, str], capacity: Mapping[str, Any], nodeclaim: Object | None = None
) -> GpuExpectation | None:
    """expected_gpus from a node's labels and capacity (and its NodeClaim, when known), for
    callers that hold a raw node rather than a snapshot.

    Nodes of one kind read alike, so the answer is cached by the few labels and the capacity
    it depends on (the NodeClaim, unique per node, is asked only where it matters). The
    GpuExpectation returned may be shared: read it, do not change it."""
    facts = (tuple(map(labels.get, _GPU_LABEL_KEYS)), tuple(capacity.items()))
    try:
        decided, found = _before_nodeclaim(facts)
    except TypeError:  # an unhashable value in a hand-built mapping: worked out, not cached
        decided, found = _before_nodeclaim.__wrapped__(facts)
    if decided:
        return found
    if nodeclaim is not None:
        n = _int((nodeclaim.status.get("capacity") or {}).get(GPU_RESOURCE))
        if n:
            it = labels.get(LABEL_INSTANCE_TYPE)
            source = f"NodeClaim {nodeclaim.metadata.name} capacity {GPU_RESOURCE}={n}"
            return GpuExpectation(n, source, _model(labels), it)
    try:
        return _after_nodeclaim(facts)
    except TypeError:
        return _after_nodeclaim.__wrapped__(facts)


# The node labels expected_gpus_of reads; with the capacity, all it needs besides the NodeClaim.
_GPU_LABEL_KEYS = (
    LABEL_INSTANCE_TYPE,
    LABEL_KARPENTER_GPU_MANUFACTURER,
    LABEL_GFD_GPU_PRODUCT,
    LABEL_KARPENTER_GPU_NAME,
    LABEL_KARPENTER_GPU_COUNT,
    LABEL_GFD_GPU_COUNT,
    LABEL_NFD_NVIDIA_PCI,
    LABEL_GFD_GPU_PRESENT,
    LABEL_KARPENTER_ACCELERATOR_NAME,
    LABEL_KARPENTER_ACCELERATOR_MANUFACTURER,
    LABEL_KARPENTER_ACCELERATOR_COUNT,
)
_NodeFacts = tuple[tuple[str | None, ...], tuple[tuple[str, Any], ...]]


def _model(labels: Mapping[str, str]) -> str | None:
    return labels.get(LABEL_GFD_GPU_PRODUCT) or (labels.get(LABEL_KARPENTER_GPU_NAME) or "").upper() or None


def _facts_labels(facts: _NodeFacts) -> dict[str, str]:
    return {k: v for k, v in zip(_GPU_LABEL_KEYS, facts[0], strict=True) if v is not None}


@lru_cache(maxsize=1024)
def _before_nodeclaim(facts: _NodeFacts) -> tuple[bool, GpuExpectation | None]:
    """(decided, answer) from the sources stronger than the NodeClaim's capacity."""
    labels, capacity = _facts_labels(facts), dict(facts[1])
    it = labels.get(LABEL_INSTANCE_TYPE)
    manufacturer = labels.get(LABEL_KARPENTER_GPU_MANUFACTURER)
    if manufacturer and manufacturer.lower() != "nvidia":
        return True, None
    if other_accelerator(labels, capacity) is not None:
        return True, None  # AMD or Neuron: not judged by the NVIDIA rules
    model = _model(labels)
    n, cat_model = _catalog(labels)
    if n:
        return True, GpuExpectation(n, f"instance type {it}", model or cat_model, it)
    if n == 0 and it and not _int(capacity.get(GPU_RESOURCE)):
        return True, None  # a known instance type without NVIDIA GPUs
    n = _int(labels.get(LABEL_KARPENTER_GPU_COUNT))
    if n:
        return True, GpuExpectation(n, f"label {LABEL_KARPENTER_GPU_COUNT}={n}", model, it)
    return False, None


@lru_cache(maxsize=1024)
def _after_nodeclaim(facts: _NodeFacts) -> GpuExpectation | None:
    """The answer from the sources weaker than the NodeClaim's capacity."""
    labels, capacity = _facts_labels(facts), dict(facts[1])
    it = labels.get(LABEL_INSTANCE_TYPE)
    model = _model(labels)
    n = _int(labels.get(LABEL_GFD_GPU_COUNT))
    if n:
        return GpuExpectation(n, f"GFD label {LABEL_GFD_GPU_COUNT}={n}", model, it)
    n = _int(capacity.get(GPU_RESOURCE))
    if n:
        return GpuExpectation(n, f"capacity {GPU_RESOURCE}={n}", model, it)
    if labels.get(LABEL_NFD_NVIDIA_PCI) == "true":
        return GpuExpectation(None, f"NFD label {LABEL_NFD_NVIDIA_PCI}=true", model, it)
    if labels.get(LABEL_GFD_GPU_PRESENT) == "true":
        return GpuExpectation(None, f"label {LABEL_GFD_GPU_PRESENT}=true", model, it)
    if it and GPU_INSTANCE_TYPE_RE.match(it):
        return GpuExpectation(None, f"instance type {it} is a GPU instance family", model, it)
    return None


def gpu_nodes(snapshot: ClusterSnapshot) -> list[tuple[Node, GpuExpectation]]:
    """The snapshot's GPU nodes with what each should expose (shared by the checks: read it,
    do not change it)."""
    return memo(snapshot, "gpu_nodes", lambda: _gpu_nodes(snapshot))


def _gpu_nodes(snapshot: ClusterSnapshot) -> list[tuple[Node, GpuExpectation]]:
    out = []
    for n in snapshot.nodes:
        e = expected_gpus(snapshot, n)
        if e is not None:
            out.append((n, e))
    return out


def allocatable_gpus(node: Node) -> int:
    return int(quantity_or_zero(node.status.allocatable.get(GPU_RESOURCE)))


def capacity_gpus(node: Node) -> int:
    return int(quantity_or_zero(node.status.capacity.get(GPU_RESOURCE)))


def node_age(snapshot: ClusterSnapshot, node: Node) -> float | None:
    """Seconds since the node was created, worked out once per node and snapshot (the
    operand checks ask for every DaemonSet); cached as expected_gpus is."""
    held, found = memo(snapshot, "node_age", lambda: (dict[int, Node](), dict[int, float | None]()))
    key = id(node)
    if key not in found:
        held[key] = node
        found[key] = snapshot.age_seconds(node.metadata.creation_timestamp)
    return found[key]
