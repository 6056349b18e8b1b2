"""Fresh reads for the drill-down screens: one object as YAML, its events, a pod's log.

Blocking (they talk HTTP); screens call them from thread workers. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from checks.snapshot import KIND_TO_ATTR, RESOURCES

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Node",
        "Namespace",
        "NodePool",
        "NodeClaim",
        "EC2NodeClass",
        "ClusterPolicy",
        "NVIDIADriver",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "RuntimeClass",
    }
)
_KARPENTER_GROUPS = ("karpenter.sh", "karpenter.k8s.aws")
LOG_TAIL_LINES = 200


@dataclass
class EventRow:
    type: str
    reason: str
    when: str
    count: int
    source: str
    message: str


def api_path(ref, karpenter_api_version: str | None = None) -> str:
    """The REST path of one object, e.g. /apis/karpenter.sh/v1/nodepools/gpu-training."""
    attr = KIND_TO_ATTR.get(ref.kind)
    if attr is None:
        raise LookupError(f"gputui cannot fetch objects of kind {ref.kind}")
    group, version, plural = RESOURCES[attr]
    if ref.api_version and "/" in ref.api_version:
        group, version = ref.api_version.split("/", 1)
    elif group in _KARPENTER_GROUPS and karpenter_api_version and group == "karpenter.sh":
        version = karpenter_api_version.split("/", 1)[1]
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    if ref.kind in CLUSTER_SCOPED_KINDS or not ref.namespace:
        return f"{base}/{plural}/{ref.name}"
    return f"{base}/namespaces/{ref.namespace}/{plural}/{ref.name}"


def fetch_object(kube, ref, karpenter_api_version: str | None = None) -> dict[str, Any]:
    return kube.request("GET", api_path(ref, karpenter_api_version)).json() or {}


def to_yaml(obj: dict[str, Any]) -> str:
    """YAML as `kubectl get -o yaml` shows it, minus managedFields (noise for troubleshooting)."""
    obj = dict(obj)
    md = dict(obj.get("metadata") or {})
    md.pop("managedFields", None)
    obj["metadata"] = md
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=200, allow_unicode=True)


def fetch_events(kube, ref, now=None) -> list[EventRow]:
    """Events whose involvedObject is `ref`, newest first (server-side field selector)."""
    selector = f"involvedObject.kind={ref.kind},involvedObject.name={ref.name}"
    if ref.namespace and ref.kind not in CLUSTER_SCOPED_KINDS:
        path = f"/api/v1/namespaces/{ref.namespace}/events"
    else:
        path = "/api/v1/events"
    items = (kube.request("GET", path, query={"fieldSelector": selector}).json() or {}).get("items") or []
    rows = []
    for e in items:
        when = (
            e.get("lastTimestamp")
            or e.get("eventTime")
            or e.get("firstTimestamp")
            or (e.get("metadata") or {}).get("creationTimestamp")
            or ""
        )
        src = (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""
        rows.append(
            EventRow(
                e.get("type") or "",
                e.get("reason") or "",
                when,
                int(e.get("count") or 1),
                src,
                (e.get("message") or "").strip(),
            )
        )
    rows.sort(key=lambda r: r.when, reverse=True)
    return rows


def fetch_log(
    kube,
    namespace: str,
    pod: str,
    container: str | None,
    previous: bool = False,
    tail: int = LOG_TAIL_LINES,
    timestamps: bool = False,
) -> str:
    """The last `tail` lines of one container's log; `timestamps` prefixes each line with the
    kubelet's RFC 3339 time (`kubectl logs --timestamps`)."""
    data = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
        query={
            "container": container,
            "tailLines": tail,
            "previous": previous or None,
            "timestamps": timestamps or None,
        },
        accept="*/*",
    ).data
    return data.decode("utf-8", "replace")


def containers_of(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec") or {}
    return [c.get("name", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]
