"""ClusterSnapshot: everything one gathering pass read, plus the indexes checks need.

Built from live API bytes (gputui.kube.gather), from manifest files (offline
analysis) or from fixtures in tests. Indexes are computed on first use and cached,
so a check that needs none of them costs nothing.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from checks.kinds import Event, Node, Object, Pod, to_struct
from checks.timestamps import parse_time  # noqa: F401  (re-exported for readers of snapshot files)

# (group, plural) of every resource the gatherer reads, with the snapshot attribute it fills.
RESOURCES: dict[str, tuple[str, str, str]] = {
    # attribute: (group, version, plural)
    "nodes": ("", "v1", "nodes"),
    "pods": ("", "v1", "pods"),
    "events": ("", "v1", "events"),
    "namespaces": ("", "v1", "namespaces"),
    "daemonsets": ("apps", "v1", "daemonsets"),
    "deployments": ("apps", "v1", "deployments"),
    "statefulsets": ("apps", "v1", "statefulsets"),
    "replicasets": ("apps", "v1", "replicasets"),
    "jobs": ("batch", "v1", "jobs"),
    "pdbs": ("policy", "v1", "poddisruptionbudgets"),
    "hpas": ("autoscaling", "v2", "horizontalpodautoscalers"),
    "nodepools": ("karpenter.sh", "v1", "nodepools"),
    "nodeclaims": ("karpenter.sh", "v1", "nodeclaims"),
    "ec2nodeclasses": ("karpenter.k8s.aws", "v1", "ec2nodeclasses"),
    "clusterpolicies": ("nvidia.com", "v1", "clusterpolicies"),
    "crds": ("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
}

# kind -> snapshot attribute, for building a snapshot from a flat list of manifests.
KIND_TO_ATTR = {
    "Node": "nodes",
    "Pod": "pods",
    "Event": "events",
    "Namespace": "namespaces",
    "DaemonSet": "daemonsets",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "ReplicaSet": "replicasets",
    "Job": "jobs",
    "PodDisruptionBudget": "pdbs",
    "HorizontalPodAutoscaler": "hpas",
    "NodePool": "nodepools",
    "NodeClaim": "nodeclaims",
    "EC2NodeClass": "ec2nodeclasses",
    "ClusterPolicy": "clusterpolicies",
    "CustomResourceDefinition": "crds",
}

_TYPED = {"nodes": Node, "pods": Pod, "events": Event}


# Incomplete.reason for objects of a kind gputui does not know (a custom resource whose
# CRD is neither in the input nor built in): listed as not seen, never a partial read.
UNKNOWN_KIND = "UnknownKind"
# Reasons that say what is absent or unread by design, not what could not be read.
NOT_PARTIAL_REASONS = frozenset({"NotFound", UNKNOWN_KIND})


@dataclass
class Incomplete:
    """A resource the gatherer could not read, and why."""

    resource: str  # "nodeclaims.karpenter.sh"
    reason: str  # Forbidden | NotFound | Timeout | ServerError | UnknownKind | ...
    message: str

    def to_json(self) -> dict[str, str]:
        return {"resource": self.resource, "reason": self.reason, "message": self.message}


@dataclass
class ClusterSnapshot:
    nodes: list[Node] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    namespaces: list[Object] = field(default_factory=list)
    daemonsets: list[Object] = field(default_factory=list)
    deployments: list[Object] = field(default_factory=list)
    statefulsets: list[Object] = field(default_factory=list)
    replicasets: list[Object] = field(default_factory=list)
    jobs: list[Object] = field(default_factory=list)
    pdbs: list[Object] = field(default_factory=list)
    hpas: list[Object] = field(default_factory=list)
    nodepools: list[Object] = field(default_factory=list)
    nodeclaims: list[Object] = field(default_factory=list)
    ec2nodeclasses: list[Object] = field(default_factory=list)
    clusterpolicies: list[Object] = field(default_factory=list)
    crds: list[Object] = field(default_factory=list)
    # Log excerpts the gatherer fetched for failing pods: (namespace, pod, container, previous) -> text
    logs: dict[tuple[str, str, str, bool], str] = field(default_factory=dict)
    incomplete: list[Incomplete] = field(default_factory=list)
    # The reference time for ages and timeouts: wall clock when gathered live; the
    # newest timestamp in the data when built from files.
    now: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc))
    context: str | None = None
    server: str | None = None
    source: str = "live"  # live | snapshot
    # apiVersion actually served for Karpenter kinds ("karpenter.sh/v1" or ".../v1beta1")
    karpenter_api_version: str | None = None
    # attribute -> (apiVersion served, the list's resourceVersion) of each list read live: where
    # a watch goes on from. Empty for snapshots built from files.
    listed: dict[str, tuple[str, str]] = field(default_factory=dict)

    # -- construction ------------------------------------------------------

    @classmethod
    def from_manifests(
        cls, objects: Iterable[dict[str, Any]], now: _dt.datetime | None = None, **kw: Any
    ) -> ClusterSnapshot:
        """Build from manifest dicts of any supported kind; unknown kinds are ignored."""
        snap = cls(**kw)
        newest: _dt.datetime | None = None
        for obj in objects:
            attr = KIND_TO_ATTR.get(obj.get("kind", ""))
            if attr is None:
                continue
            if attr == "nodepools" and "karpenter.sh/" in obj.get("apiVersion", ""):
                snap.karpenter_api_version = snap.karpenter_api_version or obj["apiVersion"]
            typed = to_struct(obj, _TYPED.get(attr, Object))
            getattr(snap, attr).append(typed)
            if attr == "pods":
                md = obj.get("metadata") or {}
                for (container, previous), text in split_log_annotations(obj).items():
                    snap.logs[(md.get("namespace") or "default", md.get("name", ""), container, previous)] = text
            for t in _timestamps(obj):
                ts = parse_time(t)
                if ts and (newest is None or ts > newest):
                    newest = ts
        if now is not None:
            snap.now = now
        elif newest is not None:
            snap.now = newest
        return snap

    def age_seconds(self, timestamp: str | None) -> float | None:
        ts = parse_time(timestamp)
        return None if ts is None else (self.now - ts).total_seconds()

    def cannot_see(self, resource: str) -> bool:
        """True when the gatherer could not read this resource (e.g. 'nodeclaims.karpenter.sh')."""
        return any(i.resource == resource for i in self.incomplete)

    # -- indexes -----------------------------------------------------------

    @cached_property
    def node_by_name(self) -> dict[str, Node]:
        return {n.metadata.name: n for n in self.nodes}

    @cached_property
    def pods_by_node(self) -> dict[str, list[Pod]]:
        idx: dict[str, list[Pod]] = defaultdict(list)
        for p in self.pods:
            if p.spec.node_name:
                idx[p.spec.node_name].append(p)
        return dict(idx)

    @cached_property
    def pod_by_key(self) -> dict[tuple[str, str], Pod]:
        """(namespace, name) -> pod: events name pods, and there can be 100,000 of them."""
        return {(p.metadata.namespace or "", p.metadata.name): p for p in self.pods}

    @cached_property
    def pods_by_owner(self) -> dict[tuple[str, str, str], list[Pod]]:
        """(namespace, owner kind, owner name) of the controller reference -> pods."""
        idx: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
        for p in self.pods:
            for ref in p.metadata.owner_references:
                if ref.controller:
                    idx[(p.metadata.namespace or "", ref.kind, ref.name)].append(p)
                    break
        return dict(idx)

    @cached_property
    def events_by_object(self) -> dict[tuple[str, str, str], list[Event]]:
        """(kind, namespace or '', name) of the involved object -> events, newest last."""
        idx: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
        for e in self.events:
            io = e.involved_object
            idx[(io.kind, io.namespace or "", io.name)].append(e)
        for lst in idx.values():
            if len(lst) > 1:  # most objects have one event: nothing to order
                lst.sort(key=lambda e: e.when or "")
        return dict(idx)

    def events_for(self, kind: str, name: str, namespace: str | None = None) -> list[Event]:
        return self.events_by_object.get((kind, namespace or "", name), [])

    @cached_property
    def events_by_reason(self) -> dict[str, list[Event]]:
        idx: dict[str, list[Event]] = defaultdict(list)
        for e in self.events:
            idx[e.reason].append(e)
        return dict(idx)

    @cached_property
    def nodeclaims_by_node(self) -> dict[str, Object]:
        return {str(nc.status["nodeName"]): nc for nc in self.nodeclaims if nc.status.get("nodeName")}

    @cached_property
    def nodeclaims_by_nodepool(self) -> dict[str, list[Object]]:
        idx: dict[str, list[Object]] = defaultdict(list)
        for nc in self.nodeclaims:
            pool = nc.metadata.labels.get("karpenter.sh/nodepool")
            if pool:
                idx[pool].append(nc)
        return dict(idx)

    @cached_property
    def nodepool_by_name(self) -> dict[str, Object]:
        return {np.metadata.name: np for np in self.nodepools}

    @cached_property
    def nodes_by_nodepool(self) -> dict[str, list[Node]]:
        idx: dict[str, list[Node]] = defaultdict(list)
        for n in self.nodes:
            pool = n.metadata.labels.get("karpenter.sh/nodepool")
            if pool:
                idx[pool].append(n)
        return dict(idx)

    @cached_property
    def daemonset_by_name(self) -> dict[tuple[str, str], Object]:
        return {(d.metadata.namespace or "", d.metadata.name): d for d in self.daemonsets}

    @cached_property
    def operand_pods_by_node(self) -> dict[str, dict[str, list[Pod]]]:
        """node -> GPU Operator `app` label -> pods on that node (any namespace).

        Operand pods are recognised by the `app` label values the operator sets
        (nvidia-driver-daemonset, nvidia-device-plugin-daemonset, ...); see
        checks.gpu.OPERAND_APPS.
        """
        from checks.gpu import OPERAND_APPS

        idx: dict[str, dict[str, list[Pod]]] = defaultdict(lambda: defaultdict(list))
        for p in self.pods:
            app = p.metadata.labels.get("app")
            if app in OPERAND_APPS and p.spec.node_name:
                idx[p.spec.node_name][app].append(p)
        return {k: dict(v) for k, v in idx.items()}


LOG_ANNOTATION = "sim.gputui.dev/log."
PREVIOUS_LOG_ANNOTATION = "sim.gputui.dev/previous-log."


def split_log_annotations(obj: dict[str, Any], remove: bool = False) -> dict[tuple[str, bool], str]:
    """Log text a manifest carries in pod annotations: (container, previous) -> text.

    Scenarios script container logs as `sim.gputui.dev/log.<container>` and
    `sim.gputui.dev/previous-log.<container>`; the simulator serves them through the
    log endpoint (remove=True strips them from the object), offline analysis reads
    them the way the gatherer reads fetched logs.
    """
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    logs: dict[tuple[str, bool], str] = {}
    for key in list(annotations):
        if key.startswith(LOG_ANNOTATION):
            logs[(key[len(LOG_ANNOTATION) :], False)] = str(annotations[key])
        elif key.startswith(PREVIOUS_LOG_ANNOTATION):
            logs[(key[len(PREVIOUS_LOG_ANNOTATION) :], True)] = str(annotations[key])
        else:
            continue
        if remove:
            del annotations[key]
    return logs


def _timestamps(obj: dict[str, Any]) -> Iterable[str]:
    md = obj.get("metadata") or {}
    if md.get("creationTimestamp"):
        yield md["creationTimestamp"]
    for k in ("lastTimestamp", "eventTime", "firstTimestamp"):
        if obj.get(k):
            yield obj[k]
    status = obj.get("status") or {}
    if isinstance(status, dict):
        for c in status.get("conditions") or []:
            if isinstance(c, dict) and c.get("lastTransitionTime"):
                yield c["lastTransitionTime"]
