"""Slim, typed views of the Kubernetes objects the checks read.

Only the fields some check uses are declared; everything else in the API's JSON is
skipped while decoding, which is what keeps a 100,000-pod cluster small and fast to
read (see PERFORMANCE notes in the README). The same types are filled from live API
bytes (`msgspec.json.Decoder(PodList)`), from saved manifests and from test
fixtures (`to_struct(dict, Pod)`), so checks see one shape whatever the source.

Attribute names are snake_case; the JSON names are camelCase (`rename="camel"`).
Small, rarely-listed kinds (CRs, workloads) keep `spec`/`status` as plain dicts.
"""

from __future__ import annotations

from typing import Any

import msgspec


class _Base(msgspec.Struct, rename="camel", omit_defaults=True, gc=False):
    pass


# -- shared ---------------------------------------------------------------


class OwnerReference(_Base):
    kind: str = ""
    name: str = ""
    api_version: str = ""
    uid: str = ""
    controller: bool | None = None


class ObjectMeta(_Base):
    name: str = ""
    namespace: str | None = None
    uid: str = ""
    resource_version: str = ""
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    owner_references: list[OwnerReference] = []
    finalizers: list[str] = []
    generation: int | None = None


class Condition(_Base):
    type: str = ""
    status: str = ""
    reason: str | None = None
    message: str | None = None
    last_transition_time: str | None = None
    last_heartbeat_time: str | None = None


class Taint(_Base):
    key: str = ""
    effect: str = ""
    value: str | None = None


class Toleration(_Base):
    key: str | None = None
    operator: str | None = None  # Equal (default) | Exists
    value: str | None = None
    effect: str | None = None  # empty = all effects
    toleration_seconds: int | None = None


class ListMeta(_Base):
    resource_version: str = ""
    # `continue` is a keyword: msgspec maps the attribute name.
    continue_: str | None = msgspec.field(default=None, name="continue")
    remaining_item_count: int | None = None


# -- Node -----------------------------------------------------------------


class NodeSpec(_Base):
    taints: list[Taint] = []
    unschedulable: bool = False
    provider_id: str | None = msgspec.field(default=None, name="providerID")


class NodeSystemInfo(_Base):
    kubelet_version: str = ""
    os_image: str = ""
    kernel_version: str = ""
    container_runtime_version: str = ""
    architecture: str = ""


class NodeStatus(_Base):
    capacity: dict[str, str] = {}
    allocatable: dict[str, str] = {}
    conditions: list[Condition] = []
    node_info: NodeSystemInfo | None = None


class Node(_Base):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)
    kind: str = "Node"


class NodeList(_Base):
    items: list[Node] = []
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


# -- Pod ------------------------------------------------------------------


class ResourceRequirements(_Base):
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}


class Container(_Base):
    name: str = ""
    image: str = ""
    resources: ResourceRequirements = msgspec.field(default_factory=ResourceRequirements)


class PodSpec(_Base):
    node_name: str | None = None
    node_selector: dict[str, str] = {}
    tolerations: list[Toleration] = []
    # Affinity is kept as the API's JSON: only required node affinity is read, rarely.
    affinity: dict[str, Any] | None = None
    containers: list[Container] = []
    init_containers: list[Container] = []
    priority_class_name: str | None = None
    scheduler_name: str | None = None
    runtime_class_name: str | None = None
    restart_policy: str | None = None
    overhead: dict[str, str] = {}
    active_deadline_seconds: int | None = None


class ContainerStatus(_Base):
    name: str = ""
    ready: bool = False
    restart_count: int = 0
    # {"waiting": {"reason", "message"}} | {"running": {...}} | {"terminated": {"exitCode", "reason", ...}}
    state: dict[str, Any] = {}
    last_state: dict[str, Any] = {}
    image: str = ""
    started: bool | None = None


class PodStatus(_Base):
    phase: str | None = None
    reason: str | None = None
    message: str | None = None
    conditions: list[Condition] = []
    container_statuses: list[ContainerStatus] = []
    init_container_statuses: list[ContainerStatus] = []
    nominated_node_name: str | None = None
    start_time: str | None = None
    host_ip: str | None = msgspec.field(default=None, name="hostIP")


class Pod(_Base):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)
    kind: str = "Pod"


class PodList(_Base):
    items: list[Pod] = []
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


# -- Event (core/v1) --------------------------------------------------------


class ObjectReference(_Base):
    kind: str = ""
    name: str = ""
    namespace: str | None = None
    uid: str | None = None
    api_version: str | None = None
    field_path: str | None = None


class EventSource(_Base):
    component: str | None = None
    host: str | None = None


class Event(_Base):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    involved_object: ObjectReference = msgspec.field(default_factory=ObjectReference)
    reason: str = ""
    message: str = ""
    type: str = ""
    count: int | None = None
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    event_time: str | None = None
    source: EventSource | None = None
    reporting_component: str | None = None
    kind: str = "Event"

    @property
    def when(self) -> str | None:
        """The most recent time this event was seen, whichever field the emitter set."""
        return self.last_timestamp or self.event_time or self.first_timestamp or self.metadata.creation_timestamp

    @property
    def component(self) -> str:
        return (
            (self.source.component if self.source and self.source.component else None) or self.reporting_component or ""
        )


class EventList(_Base):
    items: list[Event] = []
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


# -- everything else: small lists, kept generic ------------------------------


class Object(_Base):
    """Any other kind (workloads, PDBs, HPAs, Karpenter and GPU Operator CRs, CRDs)."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: dict[str, Any] = {}
    status: dict[str, Any] = {}
    kind: str = ""
    api_version: str = ""


class ObjectList(_Base):
    items: list[Object] = []
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    kind: str = ""
    api_version: str = ""


def to_struct(data: dict[str, Any], type_: type) -> Any:
    """Convert a manifest dict (camelCase, as kubectl writes it) into a slim struct."""
    return msgspec.convert(data, type_, strict=False)


def to_dict(obj: Any) -> dict[str, Any]:
    """The struct back as API-shaped JSON (camelCase, defaults omitted)."""
    out: dict[str, Any] = msgspec.to_builtins(obj)
    return out


# Any object the checks hold: typed Node and Pod, or a generic object (CRs, workloads).
KubeObject = Node | Pod | Object
