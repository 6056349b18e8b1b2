"""The GPU Operator's operand DaemonSets on a node: which should run there, which do,
and what (taint, nodeSelector, affinity) keeps one away."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks import instances
from checks.gpu import (
    LABEL_GFD_GPU_PRESENT,
    LABEL_GFD_GPU_PRODUCT,
    LABEL_INSTANCE_TYPE,
    LABEL_MIG_CAPABLE,
    LABEL_VGPU_HOST_DRIVER,
    LABEL_WORKLOAD_CONFIG,
    MIG_CAPABLE_MODELS,
    NFD_NVIDIA_PCI_LABELS,
    OPERANDS,
    SANDBOX_WORKLOAD_CONFIGS,
    Operand,
)
from checks.k8s import (
    format_taint,
    mapping,
    requirement_matches,
    tolerates,
    toleration_from_dict,
)
from checks.kinds import Node, Object, Pod, Taint, Toleration
from checks.workloads import pod_template_labels, pod_template_spec

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

OPERAND_BY_FIELD = {o.field: o for o in OPERANDS}
DRIVER, TOOLKIT, DEVICE_PLUGIN = (
    OPERAND_BY_FIELD["driver"],
    OPERAND_BY_FIELD["toolkit"],
    OPERAND_BY_FIELD["devicePlugin"],
)
LABEL_DEPLOY_OPERANDS = "nvidia.com/gpu.deploy.operands"
MIG_MANAGER = OPERAND_BY_FIELD["migManager"]
# Operands a node image can ship in place of the operator's: EKS NVIDIA AMIs (AL2023, AL2)
# carry the driver and the container toolkit; Bottlerocket's NVIDIA variant also runs the
# device plugin on the host.
SHIPPED_BY_NVIDIA_AMI = frozenset({"driver", "toolkit"})
SHIPPED_BY_BOTTLEROCKET = frozenset({"driver", "toolkit", "devicePlugin"})
TAINT_KARPENTER_DISRUPTED = "karpenter.sh/disrupted"
TAINT_KARPENTER_DISRUPTING_V1BETA1 = "karpenter.sh/disruption"  # value "disrupting"
_AUTO_TOLERATED_PREFIXES = ("node.kubernetes.io/",)
_TRANSIENT_TAINTS = {
    "karpenter.sh/unregistered",
    "karpenter.sh/disrupted",
    "node.cloudprovider.kubernetes.io/uninitialized",
}


def clusterpolicy(snapshot: ClusterSnapshot) -> Object | None:
    return snapshot.clusterpolicies[0] if snapshot.clusterpolicies else None


def operand_daemonsets(snapshot: ClusterSnapshot, operand: Operand) -> list[Object]:
    """DaemonSets of one operand; the driver may carry a per-OS/kernel suffix, so match on labels first."""
    out = []
    for ds in snapshot.daemonsets:
        name = ds.metadata.name
        # Only the driver gets per-OS/kernel suffixes; a prefix match elsewhere would confuse
        # nvidia-dcgm with nvidia-dcgm-exporter.
        if (
            pod_template_labels(ds).get("app") == operand.app
            or ds.metadata.labels.get("app") == operand.app
            or name == operand.name
            or (operand.field == "driver" and name.startswith(operand.name + "-"))
        ):
            out.append(ds)
    return out


def device_plugin_daemonsets(snapshot: ClusterSnapshot) -> list[Object]:
    """The operator's device plugin plus a standalone NVIDIA device plugin (Helm chart or static manifest)."""
    seen = {id(d) for d in operand_daemonsets(snapshot, DEVICE_PLUGIN)}
    out = list(operand_daemonsets(snapshot, DEVICE_PLUGIN))
    for ds in snapshot.daemonsets:
        if id(ds) in seen:
            continue
        name = ds.metadata.name
        tl = pod_template_labels(ds)
        if ("nvidia-device-plugin" in name and "mps" not in name and "validator" not in name) or tl.get(
            "app.kubernetes.io/name"
        ) == "nvidia-device-plugin":
            out.append(ds)
    return out


def all_operand_daemonsets(snapshot: ClusterSnapshot) -> list[tuple[Operand, Object]]:
    out = []
    for o in OPERANDS:
        for ds in operand_daemonsets(snapshot, o):
            out.append((o, ds))
    return out


def operator_installed(snapshot: ClusterSnapshot) -> bool:
    return bool(snapshot.clusterpolicies) or any(True for _ in all_operand_daemonsets(snapshot))


def owned_by_clusterpolicy(ds: Object) -> bool:
    return any(r.kind == "ClusterPolicy" for r in ds.metadata.owner_references)


def daemonset_tolerations(ds: Object) -> list[Toleration]:
    return [toleration_from_dict(t) for t in pod_template_spec(ds).get("tolerations") or []]


def blocking_taint(taint: Taint) -> bool:
    """A taint that would keep a DaemonSet pod off the node for good."""
    if taint.effect not in ("NoSchedule", "NoExecute"):
        return False
    if taint.key.startswith(_AUTO_TOLERATED_PREFIXES) or taint.key in _TRANSIENT_TAINTS:
        return False
    return True


def untolerated_node_taints(ds: Object, node: Node) -> list[Taint]:
    tols = daemonset_tolerations(ds)
    return [t for t in node.spec.taints if blocking_taint(t) and not any(tolerates(tol, t) for tol in tols)]


@dataclass
class Blocker:
    """Why a DaemonSet runs no pod on a node."""

    kind: str  # "taint" | "selector" | "affinity"
    text: str
    taint: Taint | None = None
    label: str | None = None


def daemonset_blockers(ds: Object, node: Node) -> list[Blocker]:
    spec = pod_template_spec(ds)
    labels = node.metadata.labels
    out: list[Blocker] = []
    for key, want in (spec.get("nodeSelector") or {}).items():
        have = labels.get(key)
        if have != want:
            state = "is missing" if have is None else f"is {have!r}"
            out.append(Blocker("selector", f"nodeSelector {key}={want} but the node's label {state}", label=key))
    terms = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms") or []
    if terms and not any(
        all(
            requirement_matches(labels, e.get("key", ""), e.get("operator", ""), e.get("values") or ())
            for e in t.get("matchExpressions") or []
        )
        for t in terms
    ):
        out.append(Blocker("affinity", "required node affinity does not match the node's labels"))
    for t in untolerated_node_taints(ds, node):
        out.append(Blocker("taint", f"taint {format_taint(t)} is not tolerated", taint=t))
    return out


def daemonset_pods_on(snapshot: ClusterSnapshot, ds: Object, node_name: str) -> list[Pod]:
    ns = ds.metadata.namespace or ""
    return [
        p
        for p in snapshot.pods_by_node.get(node_name, [])
        if (p.metadata.namespace or "") == ns
        and any(r.kind == "DaemonSet" and r.name == ds.metadata.name for r in p.metadata.owner_references)
    ]


# -- where the GPU Operator places an operand ----------------------------------------------
#
# The operator labels a node nvidia.com/gpu.deploy.<operand>=true once the node shows an
# NVIDIA PCI device (NFD) or already carries nvidia.com/gpu.present=true. Container
# operands go to nodes whose workload config is "container" (every node unless sandbox
# workloads are enabled and the node asks for vm-passthrough or vm-vgpu); the MIG manager
# only to MIG-capable GPUs; nothing to a node labelled nvidia.com/gpu.deploy.operands=false.
# An operand switched off in the ClusterPolicy (spec.<operand>.enabled: false) is not
# deployed anywhere.


def gpu_discovered(node: Node) -> bool:
    """Has the operator a reason to treat the node as a GPU node yet (NFD or gpu.present)?"""
    labels = node.metadata.labels
    return labels.get(LABEL_GFD_GPU_PRESENT) == "true" or any(labels.get(k) == "true" for k in NFD_NVIDIA_PCI_LABELS)


def _enabled_in_policy(cp: Object | None, field: str) -> bool:
    if cp is None:
        return True
    section = cp.spec.get(field)
    return not (isinstance(section, dict) and section.get("enabled") is False)


def sandbox_workload(cp: Object | None, node: Node) -> str | None:
    """The node's VM workload config when the operator gives it sandbox operands, else None."""
    if cp is None or mapping(cp.spec.get("sandboxWorkloads")).get("enabled") is not True:
        return None  # without sandbox workloads every node runs the container operands
    config = node.metadata.labels.get(LABEL_WORKLOAD_CONFIG)
    return config if config in SANDBOX_WORKLOAD_CONFIGS else None


_MIG_CAPABLE_RE = re.compile(
    r"(?<![A-Z0-9])(?:" + "|".join(sorted(MIG_CAPABLE_MODELS, key=len, reverse=True)) + r")(?![0-9])"
)


def _mig_capable_name(name: str) -> bool:
    """A GPU product name ("NVIDIA-A100-SXM4-40GB", "NVIDIA H100 80GB HBM3") of a MIG-capable
    model; "RTX A3000" is not an A30."""
    return _MIG_CAPABLE_RE.search(name.upper()) is not None


def mig_capable(node: Node) -> tuple[bool, str]:
    """Can the node's GPUs be partitioned with MIG, and the source that says so."""
    labels = node.metadata.labels
    if labels.get(LABEL_VGPU_HOST_DRIVER):
        return False, f"vGPU host node ({LABEL_VGPU_HOST_DRIVER})"
    if LABEL_MIG_CAPABLE in labels:
        return labels[LABEL_MIG_CAPABLE] == "true", f"{LABEL_MIG_CAPABLE}={labels[LABEL_MIG_CAPABLE]}"
    product = labels.get(LABEL_GFD_GPU_PRODUCT)
    if product:
        return _mig_capable_name(product), f"{LABEL_GFD_GPU_PRODUCT}={product}"
    it = instances.get(labels.get(LABEL_INSTANCE_TYPE))
    if it is not None and it.gpu_model:
        return _mig_capable_name(it.gpu_model), f"instance type {it.name} has {it.gpu_model}"
    return False, "GPU model unknown"


def _node_ami_name(snapshot: ClusterSnapshot, node: Node) -> str:
    """The name of the AMI the node booted, when its NodeClaim and EC2NodeClass tell."""
    nc = snapshot.nodeclaims_by_node.get(node.metadata.name)
    if nc is None:
        return ""
    image = (nc.status or {}).get("imageID")
    ref_name = ((nc.spec or {}).get("nodeClassRef") or {}).get("name")
    if not image or not ref_name:
        return ""
    for ncl in snapshot.ec2nodeclasses:
        if ncl.metadata.name != ref_name:
            continue
        for ami in (ncl.status or {}).get("amis") or []:
            if ami.get("id") == image:
                return str(ami.get("name") or "")
    return ""


def shipped_by_image(snapshot: ClusterSnapshot, node: Node) -> tuple[frozenset[str], str]:
    """Operands (ClusterPolicy fields) the node's image already provides, and how we know."""
    os_image = node.status.node_info.os_image if node.status.node_info else ""
    ami = _node_ami_name(snapshot, node).lower()
    if "bottlerocket" in os_image.lower() or ("bottlerocket" in ami and "nvidia" in ami):
        return SHIPPED_BY_BOTTLEROCKET, f"Bottlerocket NVIDIA image ({os_image or ami})"
    if "nvidia" in ami:
        return SHIPPED_BY_NVIDIA_AMI, f"NVIDIA AMI {ami}"
    return frozenset(), ""


def operand_not_placed(snapshot: ClusterSnapshot, node: Node, operand: Operand) -> str | None:
    """Why the GPU Operator would not place this operand on the node, or None when it would
    (once the node is discovered as a GPU node: see gpu_discovered)."""
    labels = node.metadata.labels
    cp = clusterpolicy(snapshot)
    if not _enabled_in_policy(cp, operand.field):
        return f"ClusterPolicy spec.{operand.field}.enabled=false"
    if labels.get(LABEL_DEPLOY_OPERANDS) == "false":
        return f"node label {LABEL_DEPLOY_OPERANDS}=false"
    if labels.get(operand.deploy_label) == "false":
        return f"node label {operand.deploy_label}=false"
    sandbox = sandbox_workload(cp, node)
    if sandbox:
        return f"sandbox workload node ({LABEL_WORKLOAD_CONFIG}={sandbox}): no container operands"
    if operand is MIG_MANAGER:
        capable, why = mig_capable(node)
        if not capable:
            return f"no MIG-capable GPU ({why})"
    shipped, how = shipped_by_image(snapshot, node)
    if operand.field in shipped:
        return f"{operand.title} ships with the node image: {how}"
    return None


def node_in_transition(snapshot: ClusterSnapshot, node: Node) -> str | None:
    """Why a node is not expected to start new operand pods (being deleted or drained), or None."""
    if node.metadata.deletion_timestamp:
        return f"node {node.metadata.name} is being deleted"
    nc = snapshot.nodeclaims_by_node.get(node.metadata.name)
    if nc is not None and nc.metadata.deletion_timestamp:
        return f"NodeClaim {nc.metadata.name} of node {node.metadata.name} is being deleted"
    for t in node.spec.taints:
        if t.key == TAINT_KARPENTER_DISRUPTED or (
            t.key == TAINT_KARPENTER_DISRUPTING_V1BETA1 and t.value == "disrupting"
        ):
            return f"node {node.metadata.name} is being disrupted by Karpenter ({t.key} taint)"
    if node.spec.unschedulable and any(
        c.type == "DisruptionTarget" and c.status == "True" for c in node.status.conditions
    ):
        return f"node {node.metadata.name} is cordoned for disruption"
    return None
