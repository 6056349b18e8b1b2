"""The NodePool model: template accessors, which accelerator vendor a pool is for, and
whether a pending pod could land on it."""

from __future__ import annotations

from checks.gpu import (
    GPU_RESOURCE,
    LABEL_INSTANCE_TYPE,
    LABEL_KARPENTER_GPU_COUNT,
    LABEL_KARPENTER_GPU_MANUFACTURER,
    LABEL_KARPENTER_GPU_NAME,
)
from checks.gpu_nodes import GPU_FAMILY_RE, GPU_INSTANCE_TYPE_RE, expected_gpus
from checks.k8s import (
    requirement_matches,
    taint_from_dict,
    tolerates,
)
from checks.kinds import Object, Pod, Taint
from checks.snapshot_indexes import pending_gpu_pods

_WELL_KNOWN_PREFIXES = (
    "karpenter.k8s.aws/",
    "karpenter.sh/",
    "topology.kubernetes.io/",
    "topology.k8s.aws/",
    "kubernetes.io/",
    "node.kubernetes.io/",
    "beta.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
)


def nodepool_template(np: Object) -> dict:
    return ((np.spec.get("template") or {}).get("spec")) or {}


def nodepool_requirements(np: Object) -> list[dict]:
    return list(nodepool_template(np).get("requirements") or [])


def nodepool_taints(np: Object) -> list[Taint]:
    return [taint_from_dict(t) for t in nodepool_template(np).get("taints") or []]


def nodepool_is_gpu(snapshot, np: Object) -> bool:
    for r in nodepool_requirements(np):
        key, op, values = r.get("key", ""), r.get("operator", ""), r.get("values") or []
        if key in (LABEL_KARPENTER_GPU_COUNT, LABEL_KARPENTER_GPU_NAME, "karpenter.k8s.aws/instance-gpu-memory"):
            if op in ("In", "Exists", "Gt"):
                return True
        if (
            key == LABEL_KARPENTER_GPU_MANUFACTURER
            and op in ("In", "Exists")
            and (op == "Exists" or "nvidia" in values)
        ):
            return True
        if key == "karpenter.k8s.aws/instance-family" and op == "In" and any(GPU_FAMILY_RE.match(v) for v in values):
            return True
        if key == LABEL_INSTANCE_TYPE and op == "In" and any(GPU_INSTANCE_TYPE_RE.match(v) for v in values):
            return True
        if key == "karpenter.k8s.aws/instance-category" and op == "In" and set(values) & {"g", "p"}:
            return True
    if any(t.key == GPU_RESOURCE for t in nodepool_taints(np)):
        return True
    if GPU_RESOURCE in (np.spec.get("limits") or {}):
        return True
    return any(expected_gpus(snapshot, n) is not None for n in snapshot.nodes_by_nodepool.get(np.metadata.name, []))


def _label_allowed(np: Object, key: str, value: str | None, op: str = "In", values=()) -> bool:
    """Can a node of this NodePool satisfy one selector term on `key`?"""
    tpl_labels = (((np.spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
    if key == "karpenter.sh/nodepool":
        have = np.metadata.name
        return requirement_matches({key: have}, key, op, values or ([value] if value is not None else []))
    if key in tpl_labels:
        return requirement_matches({key: tpl_labels[key]}, key, op, values or ([value] if value is not None else []))
    reqs = [r for r in nodepool_requirements(np) if r.get("key") == key]
    wanted = list(values or ([value] if value is not None else []))
    for r in reqs:
        rop, rvals = r.get("operator", ""), r.get("values") or []
        if op == "In":
            if rop == "In" and not set(wanted) & set(rvals):
                return False
            if rop == "NotIn" and set(wanted) <= set(rvals):
                return False
            if rop == "DoesNotExist":
                return False
        elif op == "Exists" and rop == "DoesNotExist":
            return False
    if reqs:
        return True
    if op in ("NotIn", "DoesNotExist"):
        return True
    return key.startswith(_WELL_KNOWN_PREFIXES)


def pod_may_use_nodepool(pod: Pod, np: Object) -> bool:
    """A quick compatibility test: taints tolerated, nodeSelector and required affinity satisfiable."""
    for t in nodepool_taints(np):
        if t.effect in ("NoSchedule", "NoExecute") and not any(tolerates(tol, t) for tol in pod.spec.tolerations):
            return False
    for k, v in pod.spec.node_selector.items():
        if not _label_allowed(np, k, v):
            return False
    terms = (
        ((pod.spec.affinity or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms") or []
    if terms:
        ok_any = False
        for term in terms:
            if all(
                _label_allowed(np, e.get("key", ""), None, e.get("operator", ""), e.get("values") or ())
                for e in term.get("matchExpressions") or []
            ):
                ok_any = True
                break
        if not ok_any:
            return False
    return True


def _karpenter_points_at(events, pool: str) -> bool:
    """Karpenter nominated the pod to one of the pool's NodeClaims, or said only the pool's
    limits stand in the way. Merely being named (as incompatible) does not count."""
    from checks.event_messages import KarpenterMessage, parse_failed_scheduling

    for e in events:
        msg = e.message or ""
        if e.reason == "Nominated" and f"nodeclaim/{pool}-" in msg:
            return True
        if e.reason == "FailedScheduling" and pool in msg:
            parsed = parse_failed_scheduling(msg)
            if isinstance(parsed, KarpenterMessage) and any(
                x.kind == "limits" and x.nodepool == pool for x in parsed.errors
            ):
                return True
    return False


def pods_waiting_on_nodepool(snapshot, np: Object) -> list[Pod]:
    """Pending GPU pods this NodePool could serve, or that Karpenter ties to it."""
    name = np.metadata.name
    out = []
    for p in pending_gpu_pods(snapshot):
        if pod_may_use_nodepool(p, np) or _karpenter_points_at(
            snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace), name
        ):
            out.append(p)
    return out
