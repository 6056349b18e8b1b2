"""Where an object a fix plan names lives on the API server."""

from __future__ import annotations

from urllib.parse import quote

from checks.model import ObjectRef
from gputui.errors import InputError

# kind -> (group, version, plural, namespaced). The plural cannot be derived from the kind
# reliably (policies, classes), so the kinds fix plans can target are listed.
KINDS: dict[str, tuple[str, str, str, bool]] = {
    "Pod": ("", "v1", "pods", True),
    "Node": ("", "v1", "nodes", False),
    "Namespace": ("", "v1", "namespaces", False),
    "ConfigMap": ("", "v1", "configmaps", True),
    "DaemonSet": ("apps", "v1", "daemonsets", True),
    "Deployment": ("apps", "v1", "deployments", True),
    "StatefulSet": ("apps", "v1", "statefulsets", True),
    "ReplicaSet": ("apps", "v1", "replicasets", True),
    "Job": ("batch", "v1", "jobs", True),
    "CronJob": ("batch", "v1", "cronjobs", True),
    "PodDisruptionBudget": ("policy", "v1", "poddisruptionbudgets", True),
    "NodePool": ("karpenter.sh", "v1", "nodepools", False),
    "NodeClaim": ("karpenter.sh", "v1", "nodeclaims", False),
    "EC2NodeClass": ("karpenter.k8s.aws", "v1", "ec2nodeclasses", False),
    "ClusterPolicy": ("nvidia.com", "v1", "clusterpolicies", False),
    "NVIDIADriver": ("nvidia.com", "v1alpha1", "nvidiadrivers", False),
}


class UnknownKind(InputError):
    pass


def api_version_of(ref: ObjectRef) -> str:
    if ref.api_version:
        return ref.api_version
    group, version, _, _ = _entry(ref.kind)
    return f"{group}/{version}" if group else version


def is_namespaced(kind: str) -> bool:
    return _entry(kind)[3]


def collection_path(ref: ObjectRef) -> str:
    group, _, plural, namespaced = _entry(ref.kind)
    api = api_version_of(ref)
    root = f"/apis/{api}" if group or "/" in api else f"/api/{api}"
    if namespaced:
        return f"{root}/namespaces/{quote(ref.namespace or 'default', safe='')}/{plural}"
    return f"{root}/{plural}"


def object_path(ref: ObjectRef, subresource: str | None = None) -> str:
    path = f"{collection_path(ref)}/{quote(ref.name, safe='')}"
    return f"{path}/{subresource}" if subresource else path


def ref_of(obj: dict) -> ObjectRef:
    """The ObjectRef of a full object as the server returned it."""
    md = obj.get("metadata") or {}
    return ObjectRef(
        kind=obj.get("kind", ""),
        name=md.get("name", ""),
        namespace=md.get("namespace") or None,
        api_version=obj.get("apiVersion"),
    )


def _entry(kind: str) -> tuple[str, str, str, bool]:
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKind(
            f"gputui does not know where {kind} objects live", hint="apply the fix with the kubectl command it shows"
        ) from None
