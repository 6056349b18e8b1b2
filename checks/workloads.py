"""The controller behind a pod (Deployment via its ReplicaSet, Job, StatefulSet, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checks.kinds import Object, Pod
from checks.model import ObjectRef
from checks.snapshot_indexes import objects_by_ns_name

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot


def pod_names(pods: Iterable[Pod], limit: int = 5) -> str:
    names = [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


@dataclass
class Workload:
    """The controller a pod belongs to, resolved through ReplicaSets to Deployments."""

    kind: str
    name: str
    namespace: str
    obj: Object | None = None
    pods: list[Pod] = field(default_factory=list)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.name, self.namespace, WORKLOAD_API_VERSIONS.get(self.kind))


WORKLOAD_API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "DaemonSet": "apps/v1",
    "Pod": "v1",
}


def workload_of(snapshot: ClusterSnapshot, pod: Pod) -> Workload:
    """The object that owns the pod's template: Deployment (via its ReplicaSet), Job,
    StatefulSet, ... or the Pod itself when nothing controls it."""
    ns = pod.metadata.namespace or ""
    owner = next((r for r in pod.metadata.owner_references if r.controller), None)
    if owner is None:
        return Workload("Pod", pod.metadata.name, ns, None)
    kind, name = owner.kind, owner.name
    if kind == "ReplicaSet":
        rs = objects_by_ns_name(snapshot, "replicasets").get((ns, name))
        dep = next((o for o in (rs.metadata.owner_references if rs else []) if o.controller), None)
        if dep is not None:
            kind, name = dep.kind, dep.name
        elif rs is None:
            # The ReplicaSet was not read (or is gone): its name is the Deployment's plus the template hash.
            hash_ = pod.metadata.labels.get("pod-template-hash")
            if (
                hash_
                and name.endswith("-" + hash_)
                and (ns, name[: -len(hash_) - 1]) in objects_by_ns_name(snapshot, "deployments")
            ):
                kind, name = "Deployment", name[: -len(hash_) - 1]
    attr = {
        "Job": "jobs",
        "StatefulSet": "statefulsets",
        "Deployment": "deployments",
        "ReplicaSet": "replicasets",
        "DaemonSet": "daemonsets",
    }.get(kind)
    obj = objects_by_ns_name(snapshot, attr).get((ns, name)) if attr else None
    return Workload(kind, name, ns, obj)


def group_by_workload(snapshot: ClusterSnapshot, pods: list[Pod]) -> list[Workload]:
    """Pods grouped by the workload that owns them, in first-seen order."""
    groups: dict[tuple[Any, ...], Workload] = {}
    for p in pods:
        wl = workload_of(snapshot, p)
        key = (wl.kind, wl.namespace, wl.name)
        groups.setdefault(key, wl).pods.append(p)
    return list(groups.values())


def pod_template_spec(obj: Object) -> dict[str, Any]:
    """spec.template.spec of a workload (DaemonSet, Deployment, Job, ...): its pod spec."""
    return ((obj.spec.get("template") or {}).get("spec")) or {}


def pod_template_labels(obj: Object) -> dict[str, Any]:
    """spec.template.metadata.labels of a workload."""
    return (((obj.spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
