"""The resource types the simulator serves.

Built-in kinds are listed here; custom resources are derived from the
CustomResourceDefinition objects a scenario loads (`ResourceType.from_crd`), as a
real API server does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERBS_ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str  # preferred (storage) version
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = VERBS_ALL
    subresources: tuple[str, ...] = ()  # "status", "log", "scale", "eviction", "binding"
    versions: tuple[str, ...] = ()  # every served version; empty = (version,)
    crd: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def served_versions(self) -> tuple[str, ...]:
        return self.versions or (self.version,)

    def api_version(self, version: str | None = None) -> str:
        v = version or self.version
        return f"{self.group}/{v}" if self.group else v

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def resource_name(self) -> str:
        """`pods`, `nodeclaims.karpenter.sh` — the name RBAC and --forbid use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @classmethod
    def from_crd(cls, crd: dict[str, Any]) -> ResourceType:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
        storage = next((v["name"] for v in versions if v.get("storage")), versions[0]["name"] if versions else "v1")
        subresources: list[str] = []
        for v in versions:
            for sr in v.get("subresources") or {}:
                if sr not in subresources:
                    subresources.append(sr)
        return cls(
            group=spec.get("group", ""),
            version=storage,
            kind=names.get("kind", ""),
            plural=names.get("plural", ""),
            singular=names.get("singular") or names.get("kind", "").lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(subresources),
            versions=tuple(v["name"] for v in versions),
            crd=crd,
        )


def _rt(group, version, kind, plural, namespaced, short=(), cats=(), sub=(), verbs=VERBS_ALL):
    return ResourceType(
        group, version, kind, plural, kind.lower(), namespaced, tuple(short), tuple(cats), tuple(verbs), tuple(sub)
    )


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _rt("", "v1", "Namespace", "namespaces", False, ("ns",), sub=("status",)),
    _rt("", "v1", "Node", "nodes", False, ("no",), sub=("status",)),
    _rt("", "v1", "Pod", "pods", True, ("po",), ("all",), sub=("status", "log", "eviction", "binding")),
    _rt("", "v1", "Event", "events", True, ("ev",)),
    _rt("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    _rt("", "v1", "Service", "services", True, ("svc",), ("all",), sub=("status",)),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    _rt("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), sub=("status",)),
    _rt("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("all",), sub=("status", "scale")),
    _rt("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("all",), sub=("status", "scale")),
    _rt("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",), sub=("status", "scale")),
    _rt("batch", "v1", "Job", "jobs", True, (), ("all",), sub=("status",)),
    _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), sub=("status",)),
    _rt(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("all",),
        sub=("status",),
    ),
    _rt("coordination.k8s.io", "v1", "Lease", "leases", True),
    _rt(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ("crd", "crds"),
        ("api-extensions",),
        sub=("status",),
    ),
    # RBAC objects: served, and read by the authorizer (gputui.sim.rbac) for token identities.
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    # Answered by the server itself; never stored.
    _rt("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False, verbs=("create",)),
)
