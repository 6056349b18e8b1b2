"""Manifest builders for the deep-check tests: a small healthy EKS GPU cluster that each
test breaks in one precise way. Plain dicts, as kubectl would write them."""

from __future__ import annotations

import copy
import datetime as _dt
from typing import Any

from checks.snapshot import ClusterSnapshot

NOW = _dt.datetime(2026, 11, 30, 2, 0, 0, tzinfo=_dt.timezone.utc)
NS = "gpu-operator"
GPU_TOL = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
GPU_TAINT = {"key": "nvidia.com/gpu", "effect": "NoSchedule"}
DEPLOY_LABELS = (
    "driver",
    "container-toolkit",
    "device-plugin",
    "gpu-feature-discovery",
    "dcgm-exporter",
    "operator-validator",
)
# app label -> (DaemonSet name, deploy label suffix, init containers, containers)
OPERAND_DS = {
    "nvidia-driver-daemonset": ("driver", ["k8s-driver-manager"], ["nvidia-driver-ctr"]),
    "nvidia-container-toolkit-daemonset": (
        "container-toolkit",
        ["driver-validation"],
        ["nvidia-container-toolkit-ctr"],
    ),
    "nvidia-device-plugin-daemonset": (
        "device-plugin",
        ["toolkit-validation", "config-manager-init"],
        ["nvidia-device-plugin", "config-manager"],
    ),
    "gpu-feature-discovery": ("gpu-feature-discovery", ["toolkit-validation"], ["gpu-feature-discovery"]),
}


def ts(minutes_ago: float) -> str:
    return (NOW - _dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def gpu_node(
    name: str,
    *,
    instance_type: str = "g5.xlarge",
    gpus: int | None = 1,
    capacity: int | None = None,
    age_min: float = 60,
    taints=None,
    pool: str = "gpu",
    ready: str = "True",
    extra_labels=None,
    conditions=None,
    capacity_type: str = "on-demand",
    deploy: bool = True,
    annotations=None,
) -> dict:
    labels = {
        "node.kubernetes.io/instance-type": instance_type,
        "karpenter.sh/nodepool": pool,
        "karpenter.sh/capacity-type": capacity_type,
        "feature.node.kubernetes.io/pci-10de.present": "true",
        "kubernetes.io/os": "linux",
    }
    if deploy:
        labels.update({f"nvidia.com/gpu.deploy.{x}": "true" for x in DEPLOY_LABELS})
    labels.update(extra_labels or {})
    alloc = {"cpu": "3920m", "memory": "14Gi", "pods": "58"}
    cap = {"cpu": "4", "memory": "15Gi", "pods": "58"}
    if gpus is not None:
        alloc["nvidia.com/gpu"] = str(gpus)
        cap["nvidia.com/gpu"] = str(capacity if capacity is not None else gpus)
    conds = [
        {
            "type": "Ready",
            "status": ready,
            "reason": "KubeletReady" if ready == "True" else "NodeStatusUnknown",
            "message": "kubelet is posting ready status" if ready == "True" else "Kubelet stopped posting node status.",
            "lastTransitionTime": ts(age_min - 1 if ready == "True" else 12),
        }
    ]
    conds += conditions or []
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "creationTimestamp": ts(age_min),
            "resourceVersion": "101",
            "annotations": annotations or {},
        },
        "spec": {"taints": taints if taints is not None else [GPU_TAINT]},
        "status": {"allocatable": alloc, "capacity": cap, "conditions": conds},
    }


def cpu_node(name: str = "ip-10-0-1-10.ec2.internal") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "creationTimestamp": ts(600),
            "labels": {"node.kubernetes.io/instance-type": "m6i.large"},
        },
        "status": {
            "allocatable": {"cpu": "2", "memory": "7Gi"},
            "capacity": {"cpu": "2", "memory": "8Gi"},
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ts(600)}],
        },
    }


def clusterpolicy(state: str = "ready", conditions=None, tolerations=None, helm: bool = True) -> dict:
    md: dict[str, Any] = {"name": "cluster-policy", "resourceVersion": "555", "creationTimestamp": ts(900)}
    if helm:
        md["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
        md["annotations"] = {"meta.helm.sh/release-name": "gpu-operator", "meta.helm.sh/release-namespace": NS}
    return {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": md,
        "spec": {"daemonsets": {"tolerations": tolerations if tolerations is not None else [GPU_TOL]}},
        "status": {
            "state": state,
            "namespace": NS,
            "conditions": conditions
            or [{"type": "Ready", "status": "True", "reason": "Reconciled", "lastTransitionTime": ts(800)}],
        },
    }


def daemonset(
    app: str, *, tolerations=None, desired: int = 1, ready: int = 1, name: str | None = None, node_selector=None
) -> dict:
    deploy, inits, ctrs = OPERAND_DS[app]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": name or app,
            "namespace": NS,
            "labels": {"app": app},
            "resourceVersion": "77",
            "creationTimestamp": ts(900),
            "ownerReferences": [
                {
                    "apiVersion": "nvidia.com/v1",
                    "kind": "ClusterPolicy",
                    "name": "cluster-policy",
                    "uid": "cp",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {
                    "nodeSelector": node_selector
                    if node_selector is not None
                    else {f"nvidia.com/gpu.deploy.{deploy}": "true"},
                    "tolerations": tolerations if tolerations is not None else [GPU_TOL],
                    "initContainers": [{"name": n, "image": "nvcr.io/x"} for n in inits],
                    "containers": [{"name": n, "image": "nvcr.io/x"} for n in ctrs],
                },
            },
        },
        "status": {
            "desiredNumberScheduled": desired,
            "currentNumberScheduled": desired,
            "numberReady": ready,
            "numberAvailable": ready,
        },
    }


def running_state(minutes_ago: float = 50) -> dict:
    return {"running": {"startedAt": ts(minutes_ago)}}


def operand_pod(
    app: str,
    node: str,
    *,
    suffix: str = "abcde",
    init_statuses=None,
    statuses=None,
    phase: str = "Running",
    age_min: float = 55,
    ds_name: str | None = None,
) -> dict:
    _deploy, inits, ctrs = OPERAND_DS[app]
    if init_statuses is None:
        init_statuses = [
            {
                "name": n,
                "ready": True,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
            for n in inits
        ]
    if statuses is None:
        statuses = [{"name": n, "ready": True, "restartCount": 0, "state": running_state()} for n in ctrs]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-{suffix}",
            "namespace": NS,
            "labels": {"app": app},
            "creationTimestamp": ts(age_min),
            "resourceVersion": "88",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds_name or app, "uid": "ds", "controller": True}
            ],
        },
        "spec": {
            "nodeName": node,
            "initContainers": [{"name": n} for n in inits],
            "containers": [{"name": n} for n in ctrs],
        },
        "status": {
            "phase": phase,
            "startTime": ts(age_min),
            "initContainerStatuses": init_statuses,
            "containerStatuses": statuses,
        },
    }


def nodepool(
    name: str = "gpu",
    *,
    taints=None,
    requirements=None,
    limits=None,
    resources=None,
    disruption=None,
    conditions=None,
    node_class: str = "default",
    expire_after: str = "720h",
) -> dict:
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name, "resourceVersion": "9", "creationTimestamp": ts(2000)},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
                    "requirements": requirements
                    if requirements is not None
                    else [
                        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]},
                        {
                            "key": "node.kubernetes.io/instance-type",
                            "operator": "In",
                            "values": ["g5.xlarge", "g5.2xlarge"],
                        },
                    ],
                    "taints": taints if taints is not None else [GPU_TAINT],
                    "expireAfter": expire_after,
                }
            },
            "limits": limits or {},
            "disruption": disruption
            if disruption is not None
            else {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"},
        },
        "status": {
            "resources": resources or {},
            "conditions": conditions
            or [{"type": "Ready", "status": "True", "reason": "Ready", "lastTransitionTime": ts(1900)}],
        },
    }


def nodeclaim(
    name: str,
    *,
    pool: str = "gpu",
    node: str | None = None,
    conditions=None,
    age_min: float = 60,
    instance_type: str = "g5.xlarge",
    gpus: int = 1,
    provider_id: str | None = None,
    deleting=False,
) -> dict:
    md: dict[str, Any] = {
        "name": name,
        "labels": {"karpenter.sh/nodepool": pool, "node.kubernetes.io/instance-type": instance_type},
        "creationTimestamp": ts(age_min),
        "resourceVersion": "31",
    }
    if deleting:
        md["deletionTimestamp"] = ts(2)
    status: dict[str, Any] = {
        "capacity": {"nvidia.com/gpu": str(gpus)},
        "conditions": conditions
        if conditions is not None
        else [
            {"type": t, "status": "True", "reason": t, "lastTransitionTime": ts(age_min - 3)}
            for t in ("Launched", "Registered", "Initialized", "Ready")
        ],
    }
    if node:
        status["nodeName"] = node
    if provider_id:
        status["providerID"] = provider_id
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": md,
        "spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            "resources": {"requests": {"nvidia.com/gpu": "1"}},
        },
        "status": status,
    }


def ec2nodeclass(name: str = "default", conditions=None) -> dict:
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": name, "creationTimestamp": ts(3000)},
        "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}]},
        "status": {
            "conditions": conditions
            or [
                {"type": t, "status": "True", "reason": t, "lastTransitionTime": ts(2900)}
                for t in ("SubnetsReady", "SecurityGroupsReady", "AMIsReady", "InstanceProfileReady", "Ready")
            ]
        },
    }


def event(
    reason: str,
    message: str,
    *,
    kind: str,
    name: str,
    namespace: str | None = None,
    minutes_ago: float = 5,
    type_: str = "Warning",
    count: int = 1,
    component: str = "karpenter",
    host: str | None = None,
) -> dict:
    source: dict[str, Any] = {"component": component}
    if host:
        source["host"] = host
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{name}.{reason.lower()}{int(minutes_ago * 10)}",
            "namespace": namespace or "default",
            "creationTimestamp": ts(minutes_ago),
        },
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "lastTimestamp": ts(minutes_ago),
        "firstTimestamp": ts(minutes_ago),
        "source": source,
    }


def gpu_pod(
    name: str,
    *,
    namespace: str = "ml",
    node: str | None = None,
    gpus: int = 1,
    owner=None,
    phase: str | None = None,
    annotations=None,
    labels=None,
    tolerations=None,
    node_selector=None,
    age_min: float = 30,
) -> dict:
    md: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "creationTimestamp": ts(age_min),
        "resourceVersion": "500",
        "annotations": annotations or {},
        "labels": labels or {},
    }
    if owner:
        md["ownerReferences"] = [
            {"apiVersion": "v1", "kind": owner[0], "name": owner[1], "uid": "o", "controller": True}
        ]
    spec: dict[str, Any] = {
        "containers": [{"name": "main", "image": "pytorch", "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}],
        "tolerations": tolerations if tolerations is not None else [GPU_TOL],
        "nodeSelector": node_selector or {},
    }
    if node:
        spec["nodeName"] = node
    phase = phase or ("Running" if node else "Pending")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": spec,
        "status": {"phase": phase, "startTime": ts(age_min) if node else None},
    }


def workload(kind: str, name: str, *, namespace: str = "ml", gpus: int = 1) -> dict:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "42", "creationTimestamp": ts(300)},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}]},
            }
        },
    }


GPU_NODE_A = "ip-10-0-3-7.ec2.internal"
GPU_NODE_B = "ip-10-0-4-9.ec2.internal"


def healthy_cluster(nodes=(GPU_NODE_A, GPU_NODE_B)) -> list[dict]:
    """Two g5.xlarge GPU nodes with every operand running, a ready ClusterPolicy, a ready
    NodePool and EC2NodeClass, a CPU node."""
    objs = [cpu_node(), clusterpolicy(), nodepool(), ec2nodeclass()]
    for i, n in enumerate(nodes):
        objs.append(gpu_node(n))
        objs.append(nodeclaim(f"gpu-{'abcdefgh'[i] * 5}", node=n))
    for app in OPERAND_DS:
        objs.append(daemonset(app, desired=len(nodes), ready=len(nodes)))
        for i, n in enumerate(nodes):
            objs.append(operand_pod(app, n, suffix=f"{'vwxyz'[i]}{i}zz"))
    return objs


def replace(objs: list[dict], kind: str, name: str, new: dict | None) -> list[dict]:
    """The list with the object of that kind/name swapped for `new` (or removed when None)."""
    out = []
    for o in objs:
        if o.get("kind") == kind and o["metadata"]["name"] == name:
            if new is not None:
                out.append(new)
        else:
            out.append(o)
    return out


def find(objs: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objs if o.get("kind") == kind and o["metadata"]["name"] == name)


def snapshot(objs: list[dict], logs=None) -> ClusterSnapshot:
    snap = ClusterSnapshot.from_manifests(copy.deepcopy(objs), now=NOW)
    snap.logs.update(logs or {})
    return snap


def run(snap: ClusterSnapshot, code: str):
    """Findings of one check, through the runner (so a crash would show up as GPU901)."""
    from checks.registry import REGISTRY, run_checks

    c = REGISTRY.find(code)
    findings = run_checks(snap, [c])
    assert all(f.code != "GPU901" for f in findings), [f.message for f in findings]
    return findings


# -- Karpenter conditions and insufficient-capacity clusters -------------------------------

ICE = (
    "NodeClaim gpu-x1y2z event: insufficient capacity, with fleet error(s), InsufficientInstanceCapacity: We "
    "currently do not have sufficient g5.xlarge capacity in the Availability Zone you requested (us-west-2a)."
)
TYPES_ONLY = [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g5.xlarge", "g5.2xlarge"]}]


def condition(type_, status, reason, message="", minutes_ago=5):
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": ts(minutes_ago),
    }


def ice_cluster(pending=True, limits=None, resources=None, requirements=TYPES_ONLY):
    objs = replace(
        healthy_cluster(), "NodePool", "gpu", nodepool(limits=limits, resources=resources, requirements=requirements)
    )
    objs.append(event("InsufficientCapacityError", ICE, kind="NodeClaim", name="gpu-x1y2z", minutes_ago=4))
    objs.append(
        event(
            "InsufficientCapacityError",
            ICE.replace("gpu-x1y2z", "gpu-q9w8e"),
            kind="NodeClaim",
            name="gpu-q9w8e",
            minutes_ago=2,
            count=3,
        )
    )
    if pending:
        objs.append(gpu_pod("infer-7d9c-abcde", owner=("ReplicaSet", "infer-7d9c")))
    return objs


def leaving_node(minutes: float, *, taint_only: bool = False) -> list[dict]:
    """The healthy cluster with one GPU node Karpenter is taking away `minutes` ago: NotReady,
    tainted karpenter.sh/disrupted, and deleting (or, with taint_only, only a DisruptionReason)."""
    objs = healthy_cluster()
    node = next(
        o
        for o in objs
        if o["kind"] == "Node" and o["metadata"].get("labels", {}).get("feature.node.kubernetes.io/pci-10de.present")
    )
    node["status"]["conditions"][0].update(status="Unknown", reason="NodeStatusUnknown", lastTransitionTime=ts(1))
    node["spec"]["taints"].append({"key": "karpenter.sh/disrupted", "effect": "NoSchedule"})
    nc = next(o for o in objs if o["kind"] == "NodeClaim" and o["status"].get("nodeName") == node["metadata"]["name"])
    if taint_only:
        nc["status"]["conditions"].append(
            {"type": "DisruptionReason", "status": "True", "reason": "Underutilized", "lastTransitionTime": ts(minutes)}
        )
    else:
        node["metadata"]["deletionTimestamp"] = ts(minutes)
    return objs


def blocked_idle_node(message: str, *, minutes: float = 45, reason: str = "DisruptionBlocked") -> list[dict]:
    """The healthy cluster whose idle GPU node A has had Karpenter `reason` events for `minutes`."""
    ev = event(reason, message, kind="Node", name=GPU_NODE_A, minutes_ago=1, type_="Normal", count=12)
    ev["firstTimestamp"] = ts(minutes)
    return healthy_cluster() + [ev]


def vanished_nomination(nodeclaim_name: str = "gpu-g0ne1", *, minutes: float = 20, events=()) -> list[dict]:
    """The healthy cluster with a pending GPU pod last nominated to a NodeClaim that is gone."""
    nom = event(
        "Nominated",
        f"Pod should schedule on: nodeclaim/{nodeclaim_name}",
        kind="Pod",
        name="wait-1",
        namespace="ml",
        minutes_ago=minutes,
        type_="Normal",
    )
    return healthy_cluster() + [gpu_pod("wait-1"), nom, *events]
