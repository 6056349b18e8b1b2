"""kube-scheduler's filters for the simulator, pure: which node a pod fits on and, when none
does, the FailedScheduling message in the scheduler's own wording; plus the kubelet's
admission check for pods pinned with spec.nodeName.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from checks.k8s import (
    pod_requests,
    quantity_or_zero,
    requirement_matches,
    taint_from_dict,
    tolerates,
    toleration_from_dict,
)
from checks.kinds import Pod, to_struct

NO_NODES = "no nodes available to schedule pods"

# Filter-plugin reasons (kube-scheduler); the taint one gets the first untolerated taint.
R_UNSCHEDULABLE = "node(s) were unschedulable"
R_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
R_TAINT = "node(s) had untolerated taint {%s: %s}"
R_TOO_MANY_PODS = "Too many pods"
P_NOT_HELPFUL = "Preemption is not helpful for scheduling"
P_NO_VICTIMS = "No preemption victims found for incoming pod"


# -- scheduling (pure) ------------------------------------------------------------


def node_name_of(node: Mapping[str, Any]) -> str:
    return (node.get("metadata") or {}).get("name", "")


def node_taints(node: Mapping[str, Any]) -> list[dict]:
    """The node's taints plus the ones the node lifecycle controller would have added."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    keys = {t.get("key") for t in taints}
    ready = next((c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") != "True":
        key = "node.kubernetes.io/not-ready" if ready.get("status") == "False" else "node.kubernetes.io/unreachable"
        if key not in keys:
            taints.append({"key": key, "effect": "NoSchedule"})
    return taints


def allocatable(node: Mapping[str, Any]) -> dict[str, Decimal]:
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}
    out = {k: quantity_or_zero(v) for k, v in alloc.items()}
    out.setdefault("pods", Decimal(110))
    return out


def requests_of(pod: Mapping[str, Any]) -> dict[str, Decimal]:
    return pod_requests(to_struct(dict(pod), Pod))


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def node_usage(
    pods: Iterable[Mapping[str, Any]],
    requests: Callable[[Mapping[str, Any]], Mapping[str, Decimal]] = requests_of,
) -> dict[str, dict[str, Decimal]]:
    """Requests of the non-terminal pods bound to each node, with a pod count."""
    usage: dict[str, dict[str, Decimal]] = {}
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        if not node or is_terminal(p):
            continue
        used = usage.setdefault(node, {"pods": Decimal(0)})
        used["pods"] += 1
        for k, v in requests(p).items():
            used[k] = used.get(k, Decimal(0)) + v
    return usage


def _matches_affinity(pod: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    spec = pod.get("spec") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    na = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    terms = ((na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")) or []
    if not terms:
        return True
    return any(
        all(
            requirement_matches(labels, e.get("key", ""), e.get("operator", ""), e.get("values") or ())
            for e in t.get("matchExpressions") or []
        )
        for t in terms
    )


def insufficient(
    requests: Mapping[str, Decimal], alloc: Mapping[str, Decimal], used: Mapping[str, Decimal]
) -> list[str]:
    """NodeResourcesFit reasons, in the plugin's order: pods, cpu, memory, then the rest."""
    reasons = []
    if used.get("pods", Decimal(0)) + 1 > alloc.get("pods", Decimal(110)):
        reasons.append(R_TOO_MANY_PODS)
    ordered = [r for r in ("cpu", "memory", "ephemeral-storage") if r in requests]
    ordered += sorted(r for r in requests if r not in ("cpu", "memory", "ephemeral-storage", "pods"))
    for r in ordered:
        want = requests[r]
        if want <= 0:
            continue
        if want > alloc.get(r, Decimal(0)) - used.get(r, Decimal(0)):
            reasons.append(f"Insufficient {r}")
    return reasons


def filter_node(
    pod: Mapping[str, Any], node: Mapping[str, Any], requests: Mapping[str, Decimal], used: Mapping[str, Decimal]
) -> tuple[list[str], bool]:
    """(reasons this node is rejected, whether preemption could help); no reasons = it fits."""
    spec = pod.get("spec") or {}
    tolerations = [toleration_from_dict(t) for t in spec.get("tolerations") or []]
    if (node.get("spec") or {}).get("unschedulable"):
        cordon = taint_from_dict({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
        if not any(tolerates(t, cordon) for t in tolerations):
            return [R_UNSCHEDULABLE], False
    for taint in node_taints(node):
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(tolerates(t, taint_from_dict(taint)) for t in tolerations):
            return [R_TAINT % (taint.get("key", ""), taint.get("value") or "")], False
    labels = (node.get("metadata") or {}).get("labels") or {}
    if not _matches_affinity(pod, labels):
        return [R_AFFINITY], False
    reasons = insufficient(requests, allocatable(node), used)
    return reasons, True


def _histogram(reasons: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for r in reasons:
        counts[r] = counts.get(r, 0) + 1
    # kube-scheduler sorts the "count reason" strings as whole strings.
    return ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))


def fit_error(total: int, rejections: Mapping[str, tuple[list[str], bool]]) -> str:
    """The FailedScheduling message for a pod no node could take (FitError + preemption)."""
    if total == 0:
        return NO_NODES
    reasons = [r for rs, _ in rejections.values() for r in rs]
    post = [P_NO_VICTIMS if helpful else P_NOT_HELPFUL for _, helpful in rejections.values()]
    return (
        f"0/{total} nodes are available: {_histogram(reasons)}. "
        f"preemption: 0/{total} nodes are available: {_histogram(post)}."
    )


def choose_node(
    pod: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], usage: Mapping[str, Mapping[str, Decimal]]
) -> tuple[str | None, str]:
    """(chosen node name, "") or (None, FailedScheduling message).

    Among the nodes that fit, the least allocated (cpu and memory) wins; ties go to the
    first name, so results are repeatable."""
    requests = requests_of(pod)
    rejections: dict[str, tuple[list[str], bool]] = {}
    feasible: list[tuple[float, str]] = []
    for node in nodes:
        name = node_name_of(node)
        used = usage.get(name, {})
        reasons, helpful = filter_node(pod, node, requests, used)
        if reasons:
            rejections[name] = (reasons, helpful)
            continue
        alloc = allocatable(node)
        score = 0.0
        for r in ("cpu", "memory"):
            cap = alloc.get(r, Decimal(0))
            if cap > 0:
                score += float((used.get(r, Decimal(0)) + requests.get(r, Decimal(0))) / cap)
        feasible.append((score, name))
    if feasible:
        return min(feasible)[1], ""
    return None, fit_error(len(nodes), rejections)


def admission_failure(
    requests: Mapping[str, Decimal], node: Mapping[str, Any], used: Mapping[str, Decimal]
) -> tuple[str, str] | None:
    """The kubelet's (reason, message) for a pinned pod its node cannot hold, else None."""
    alloc = allocatable(node)
    if used.get("pods", Decimal(0)) + 1 > alloc.get("pods", Decimal(110)):
        return (
            "OutOfpods",
            "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: "
            f"{int(used.get('pods', 0))}, capacity: {int(alloc.get('pods', 0))}",
        )
    for r, want in requests.items():
        if want <= 0:
            continue
        have, taken = alloc.get(r, Decimal(0)), used.get(r, Decimal(0))
        if want <= have - taken:
            continue
        if "/" in r and "kubernetes.io/" not in r:
            # Device-plugin resources fail in the device manager, with its own wording.
            free = max(have - taken, Decimal(0))
            return (
                "UnexpectedAdmissionError",
                f"Allocate failed due to requested number of devices unavailable for {r}. "
                f"Requested: {_num(want)}, Available: {_num(free)}, which is unexpected",
            )
        return (
            f"OutOf{r}",
            f"Pod was rejected: Node didn't have enough resource: {r}, requested: {_milli(want, r)}, "
            f"used: {_milli(taken, r)}, capacity: {_milli(have, r)}",
        )
    return None


def _num(q: Decimal) -> str:
    return str(int(q)) if q == q.to_integral() else str(q)


def _milli(q: Decimal, resource: str) -> str:
    return str(int(q * 1000)) if resource == "cpu" else _num(q)
