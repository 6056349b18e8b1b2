"""The GPU Operator's operand DaemonSets on a node: which should run there, which do,
and what (taint, nodeSelector, affinity) keeps one away."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks.gpu import (
    OPERANDS,
    Operand,
)
from checks.k8s import (
    format_taint,
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

LABEL_DEPLOY_OPERANDS = "nvidia.com/gpu.deploy.operands"
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


def operand_expected_on(node: Node, operand: Operand) -> bool:
    """False when the operator (or an admin) switched this operand off for the node on purpose."""
    labels = node.metadata.labels
    return labels.get(operand.deploy_label) != "false" and labels.get(LABEL_DEPLOY_OPERANDS) != "false"
