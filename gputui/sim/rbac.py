"""RBAC for token identities: Roles, ClusterRoles and their bindings, judged as kube-apiserver's RBAC does.

The default admin token (and anyone in `system:masters`) may do everything, so a simulator
without identities behaves as before. A request made with an identity's token is allowed
when a rule bound to its user or one of its groups matches the verb, the API group, the
resource (with its subresource: `pods/log`, `pods/eviction`), the object's name (when the
rule lists `resourceNames`) and the namespace (a RoleBinding grants only in its own
namespace; a ClusterRoleBinding everywhere). Otherwise the answer is the API server's 403.

Every decision for an identity is recorded, so a test can list what a command asked for.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"


@dataclass(frozen=True)
class Identity:
    """Who a bearer token stands for."""

    user: str
    groups: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return MASTERS in self.groups

    @property
    def all_groups(self) -> tuple[str, ...]:
        return self.groups if AUTHENTICATED in self.groups else (*self.groups, AUTHENTICATED)


ADMIN = Identity("kubernetes-admin", (MASTERS,))
DECISIONS_KEPT = 100_000


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do, in RBAC's terms."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass(frozen=True)
class Decision:
    user: str
    attributes: Attributes
    allowed: bool


def parse_identity(spec: str) -> tuple[str, Identity]:
    """`NAME[:GROUP[,GROUP..]]=TOKEN` (the `gputui sim serve --user` form) -> (token, identity)."""
    who, sep, token = spec.partition("=")
    name, _, groups = who.partition(":")
    if not sep or not name.strip() or not token.strip():
        raise ValueError(f"{spec!r}: expected NAME=TOKEN or NAME:GROUP[,GROUP..]=TOKEN")
    return token.strip(), Identity(name.strip(), tuple(g.strip() for g in groups.split(",") if g.strip()))


def _matches(values: Iterable[str] | None, wanted: str) -> bool:
    values = list(values or ())
    return "*" in values or wanted in values


def _resource_matches(resources: Iterable[str] | None, attrs: Attributes) -> bool:
    full = attrs.full_resource
    for r in resources or ():
        if r in ("*", full):
            return True
        if attrs.subresource and r in (f"*/{attrs.subresource}", f"{attrs.resource}/*"):
            return True
    return False


def rule_allows(rule: Mapping[str, Any], attrs: Attributes) -> bool:
    """One PolicyRule against one resource request (non-resource URLs are not judged here)."""
    if not _matches(rule.get("verbs"), attrs.verb) or not _matches(rule.get("apiGroups"), attrs.group):
        return False
    if not _resource_matches(rule.get("resources"), attrs):
        return False
    names = rule.get("resourceNames") or []
    return not names or (bool(attrs.name) and attrs.name in names)


def _subject_matches(subject: Mapping[str, Any], identity: Identity, binding_ns: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == identity.user
    if kind == "Group":
        return name in identity.all_groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return identity.user == f"system:serviceaccount:{ns}:{name}"
    return False


class Authorizer:
    """Judges requests against the RBAC objects in a store; records every non-admin decision."""

    def __init__(self, store: Any):
        self.store = store
        # Bounded: a `gputui sim serve --user` session may run for days.
        self.decisions: deque[Decision] = deque(maxlen=DECISIONS_KEPT)
        self._lock = threading.Lock()

    def _objects(self, plural: str, namespace: str | None = None) -> list[dict]:
        rt = self.store.type_for_resource(RBAC_GROUP, plural)
        if rt is None:
            return []
        return [e.obj for e in self.store.select(rt, namespace).entries]

    def _role_rules(self, ref: Mapping[str, Any], namespace: str) -> list[dict]:
        kind, name = ref.get("kind"), ref.get("name")
        if kind == "ClusterRole":
            roles = self._objects("clusterroles")
        elif kind == "Role":
            roles = self._objects("roles", namespace)
        else:
            return []
        for role in roles:
            if role["metadata"].get("name") == name:
                return list(role.get("rules") or []) + self._aggregated(role)
        return []

    def _aggregated(self, role: Mapping[str, Any]) -> list[dict]:
        """The rules of the ClusterRoles an aggregationRule selects (matchLabels only)."""
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        out: list[dict] = []
        for other in self._objects("clusterroles") if selectors else []:
            labels = other["metadata"].get("labels") or {}
            if other is not role and any(
                all(labels.get(k) == v for k, v in (s.get("matchLabels") or {}).items()) for s in selectors
            ):
                out.extend(other.get("rules") or [])
        return out

    def allowed(self, identity: Identity, attrs: Attributes) -> bool:
        if identity.is_admin:
            return True
        ok = self._judge(identity, attrs)
        with self._lock:
            self.decisions.append(Decision(identity.user, attrs, ok))
        return ok

    def _judge(self, identity: Identity, attrs: Attributes) -> bool:
        for crb in self._objects("clusterrolebindings"):
            if any(_subject_matches(s, identity, "") for s in crb.get("subjects") or []):
                if any(rule_allows(r, attrs) for r in self._role_rules(crb.get("roleRef") or {}, "")):
                    return True
        if not attrs.namespace:
            return False
        for rb in self._objects("rolebindings", attrs.namespace):
            ns = rb["metadata"].get("namespace", "")
            if any(_subject_matches(s, identity, ns) for s in rb.get("subjects") or []):
                if any(rule_allows(r, attrs) for r in self._role_rules(rb.get("roleRef") or {}, ns)):
                    return True
        return False

    def decisions_of(self, user: str) -> list[Decision]:
        with self._lock:
            return [d for d in self.decisions if d.user == user]

    def clear(self) -> None:
        with self._lock:
            self.decisions.clear()


def write_kubeconfig(path: Path, url: str, token: str, identity: Identity) -> Path:
    """A kubeconfig that speaks as `identity`: its bearer token for Python clients, and `as`/`as-groups`
    for kubectl, which sends no token over plain HTTP but does ask to impersonate."""
    import yaml

    auth: dict[str, Any] = {"token": token, "as": identity.user}
    if identity.groups:
        auth["as-groups"] = list(identity.groups)
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "gputui-sim", "cluster": {"server": url}}],
        "users": [{"name": identity.user, "user": auth}],
        "contexts": [
            {"name": identity.user, "context": {"cluster": "gputui-sim", "user": identity.user, "namespace": "default"}}
        ],
        "current-context": identity.user,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path
