"""Shrink freshly decoded objects by sharing what repeats.

On a 100,000-pod cluster most bytes repeat: every replica of a Deployment carries the
same labels, annotations, tolerations, containers and owner reference; every node the
same hundred label keys. The JSON decoder allocates each occurrence separately; here
equal values are replaced by one shared instance, page by page right after decoding,
so the memory freed is reused by the next page. This roughly halves the snapshot.

Consequence: snapshot objects share sub-objects. Nothing may mutate a gathered
snapshot (checks are pure; the TUI replaces snapshots wholesale).

Workload templates also lose what no check reads and what costs the most (env,
commands, probes, volumes); `gputui snapshot` keeps full objects separately.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


class Compactor:
    """One per gathering: its caches are what makes values shared across pages and resources."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._shared: dict[Hashable, Any] = {}

    def size(self) -> int:
        """Entries in its caches: they grow with every distinct value seen."""
        return len(self._strings) + len(self._shared)

    # -- primitives ---------------------------------------------------------------------

    def s(self, value):
        if value.__class__ is str:
            return self._strings.setdefault(value, value)
        return value

    def strings_dict(self, d: dict) -> dict:
        """Same dict content, keys and values interned; for dicts that are unique per object."""
        if not d:
            return d
        s = self._strings.setdefault
        return {s(k, k): (s(v, v) if v.__class__ is str else v) for k, v in d.items()}

    def shared_dict(self, d: dict) -> dict:
        """One instance per distinct content; for dicts that repeat across objects (pod labels)."""
        if not d:
            return d
        try:
            key = ("d", *d.items())
            hit = self._shared.get(key)
        except TypeError:  # unhashable values (nested dicts)
            return d
        if hit is None:
            hit = self._shared[key] = self.strings_dict(d)
        return hit

    def _shared_value(self, key: Hashable, value: Any) -> Any:
        hit = self._shared.get(key)
        if hit is None:
            self._shared[key] = hit = value
        return hit

    # -- per kind -------------------------------------------------------------------------

    def meta(self, md, *, repeats: bool) -> None:
        md.namespace = self.s(md.namespace)
        md.creation_timestamp = self.s(md.creation_timestamp)
        if md.labels:
            md.labels = self.shared_dict(md.labels) if repeats else self.strings_dict(md.labels)
        if md.annotations:
            md.annotations = self.shared_dict(md.annotations) if repeats else self.strings_dict(md.annotations)
        if md.owner_references:
            key = ("owners", *((r.kind, r.name, r.api_version, r.uid, r.controller) for r in md.owner_references))
            md.owner_references = self._shared_value(key, md.owner_references)

    def conditions(self, conds) -> None:
        s = self.s
        for c in conds:
            c.type = s(c.type)
            c.status = s(c.status)
            c.reason = s(c.reason)
            c.last_transition_time = s(c.last_transition_time)

    def pods(self, pods: list) -> None:
        s = self.s
        for p in pods:
            self.meta(p.metadata, repeats=True)
            spec = p.spec
            spec.node_name = s(spec.node_name)
            spec.scheduler_name = s(spec.scheduler_name)
            spec.restart_policy = s(spec.restart_policy)
            spec.priority_class_name = s(spec.priority_class_name)
            if spec.node_selector:
                spec.node_selector = self.shared_dict(spec.node_selector)
            if spec.tolerations:
                key = ("tol", *((t.key, t.operator, t.value, t.effect, t.toleration_seconds) for t in spec.tolerations))
                spec.tolerations = self._shared_value(key, spec.tolerations)
            if spec.containers:
                spec.containers = self._containers(spec.containers)
            if spec.init_containers:
                spec.init_containers = self._containers(spec.init_containers)
            st = p.status
            st.phase = s(st.phase)
            st.host_ip = s(st.host_ip)
            st.start_time = s(st.start_time)
            if st.conditions:
                self.conditions(st.conditions)
            for cs in st.container_statuses:
                cs.name = s(cs.name)
                cs.image = s(cs.image)
                if cs.state:
                    cs.state = {s(k): (self.strings_dict(v) if isinstance(v, dict) else v) for k, v in cs.state.items()}

    def _containers(self, containers: list) -> list:
        try:
            key = (
                "ctr",
                *(
                    (c.name, c.image, *c.resources.requests.items(), "|", *c.resources.limits.items())
                    for c in containers
                ),
            )
        except TypeError:
            return containers
        hit = self._shared.get(key)
        if hit is None:
            for c in containers:
                c.name, c.image = self.s(c.name), self.s(c.image)
                c.resources.requests = self.strings_dict(c.resources.requests)
                c.resources.limits = self.strings_dict(c.resources.limits)
            self._shared[key] = hit = containers
        return hit

    def nodes(self, nodes: list) -> None:
        for n in nodes:
            self.meta(n.metadata, repeats=False)
            st = n.status
            st.capacity = self.shared_dict(st.capacity)
            st.allocatable = self.shared_dict(st.allocatable)
            self.conditions(st.conditions)
            if st.node_info is not None:
                info = st.node_info
                info.kubelet_version, info.os_image = self.s(info.kubelet_version), self.s(info.os_image)
                info.kernel_version = self.s(info.kernel_version)
                info.container_runtime_version = self.s(info.container_runtime_version)
                info.architecture = self.s(info.architecture)

    def events(self, events: list) -> None:
        s = self.s
        for e in events:
            e.metadata.namespace = s(e.metadata.namespace)
            io = e.involved_object
            io.kind, io.namespace, io.api_version = s(io.kind), s(io.namespace), s(io.api_version)
            e.reason, e.type = s(e.reason), s(e.type)
            if e.source is not None:
                e.source.component, e.source.host = s(e.source.component), s(e.source.host)

    def objects(self, attr: str, objs: list) -> None:
        for o in objs:
            self.meta(o.metadata, repeats=attr in _REPEATING)
            if attr in _WORKLOADS:
                _slim_template(o, drop_all=attr == "replicasets" and _owned_by_deployment(o))
            conds = o.status.get("conditions") if isinstance(o.status, dict) else None
            if conds and isinstance(conds, list):
                o.status["conditions"] = [self.strings_dict(c) if isinstance(c, dict) else c for c in conds]


_REPEATING = frozenset({"replicasets", "jobs"})
_WORKLOADS = frozenset({"deployments", "statefulsets", "replicasets", "jobs"})
# Heavy parts of a pod template that no check reads (the pods themselves carry what matters).
_TEMPLATE_SPEC_DROP = ("volumes",)
_CONTAINER_DROP = (
    "env",
    "envFrom",
    "command",
    "args",
    "volumeMounts",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "securityContext",
    "ports",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
)


def _owned_by_deployment(o) -> bool:
    return any(r.kind == "Deployment" and r.controller for r in o.metadata.owner_references)


def _slim_template(o, *, drop_all: bool) -> None:
    spec = o.spec if isinstance(o.spec, dict) else None
    tpl = spec.get("template") if spec else None
    if not isinstance(tpl, dict):
        return
    if drop_all and spec is not None:
        # Its Deployment holds the same template; a ReplicaSet is only read for its owner link.
        spec["template"] = {"metadata": {"labels": (tpl.get("metadata") or {}).get("labels") or {}}}
        return
    pod_spec = tpl.get("spec")
    if not isinstance(pod_spec, dict):
        return
    for key in _TEMPLATE_SPEC_DROP:
        pod_spec.pop(key, None)
    for field in ("containers", "initContainers"):
        for c in pod_spec.get(field) or []:
            if isinstance(c, dict):
                for key in _CONTAINER_DROP:
                    c.pop(key, None)
