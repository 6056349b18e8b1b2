"""The types of the fields gputui reads, checked when objects are loaded, as an API server
would refuse them: a number where a string belongs, a list for a mapping. Without this a
hand-edited manifest with one wrong-typed field ended in a traceback (or a check that
failed) instead of one line naming the file, document and field."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from checks.kinds import Condition, Event, Node, ObjectMeta, Pod, Taint, Toleration, to_struct
from checks.snapshot import KIND_TO_ATTR
from gputui.errors import InputError
from gputui.kube.manifests import Origin


class _Requirement(msgspec.Struct, rename="camel"):
    key: str = ""
    operator: str = ""
    values: list[str] = []


class _Selector(msgspec.Struct, rename="camel"):
    match_labels: dict[str, str] = {}
    match_expressions: list[_Requirement] = []


# -- the parts of pods that checks.kinds keeps as plain mappings ---------------------------


class _Terminated(msgspec.Struct, rename="camel"):
    exit_code: int | None = None
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


class _Waiting(msgspec.Struct):
    reason: str | None = None
    message: str | None = None


class _State(msgspec.Struct):
    waiting: _Waiting | None = None
    running: dict[str, Any] | None = None
    terminated: _Terminated | None = None


class _ContainerStatus(msgspec.Struct, rename="camel"):
    state: _State | None = None
    last_state: _State | None = None


class _PodStatus(msgspec.Struct, rename="camel"):
    container_statuses: list[_ContainerStatus] = []
    init_container_statuses: list[_ContainerStatus] = []


class _Term(msgspec.Struct, rename="camel"):
    match_expressions: list[_Requirement] = []
    match_fields: list[_Requirement] = []


class _NodeSelector(msgspec.Struct, rename="camel"):
    node_selector_terms: list[_Term] = []


class _Preferred(msgspec.Struct):
    weight: int | None = None
    preference: _Term | None = None


class _NodeAffinity(msgspec.Struct):
    requiredDuringSchedulingIgnoredDuringExecution: _NodeSelector | None = None  # noqa: N815 - the API's name
    preferredDuringSchedulingIgnoredDuringExecution: list[_Preferred] = []  # noqa: N815


class _Affinity(msgspec.Struct, rename="camel"):
    node_affinity: _NodeAffinity | None = None
    pod_affinity: dict[str, Any] | None = None
    pod_anti_affinity: dict[str, Any] | None = None


Quantity = str | int | float


class _Resources(msgspec.Struct):
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}


class _Container(msgspec.Struct):
    name: str = ""
    image: str = ""
    resources: _Resources | None = None


class _TemplateSpec(msgspec.Struct, rename="camel"):
    """checks.kinds.PodSpec as a manifest may write it, before the server's defaults: quantities
    may be numbers."""

    node_name: str | None = None
    node_selector: dict[str, str] = {}
    tolerations: list[Toleration] = []
    affinity: _Affinity | None = None
    containers: list[_Container] = []
    init_containers: list[_Container] = []
    priority_class_name: str | None = None
    scheduler_name: str | None = None
    runtime_class_name: str | None = None
    restart_policy: str | None = None
    overhead: dict[str, Quantity] = {}
    active_deadline_seconds: int | None = None


class _Template(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: _TemplateSpec = msgspec.field(default_factory=_TemplateSpec)


class _Pod(msgspec.Struct):
    """A pod as a manifest may write it: the template's spec, and the parts of its status."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: _TemplateSpec = msgspec.field(default_factory=_TemplateSpec)
    status: _PodStatus | None = None


class _Spec(msgspec.Struct):
    template: _Template | None = None
    selector: _Selector | None = None


class _Status(msgspec.Struct):
    conditions: list[Condition] = []


class _Workload(msgspec.Struct):
    """Workloads and PDBs: the pod template and selector the checks read."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: _Spec = msgspec.field(default_factory=_Spec)
    status: _Status | None = None


class _Other(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: dict[str, Any] = {}
    status: _Status | None = None


# -- Karpenter and the GPU Operator: the fields their CRDs type and the checks read ---------


class _NodeSelectorRequirement(msgspec.Struct, rename="camel"):
    key: str = ""
    operator: str = ""
    values: list[str] = []
    min_values: int | None = None


class _NodeClaimSpec(msgspec.Struct, rename="camel"):
    requirements: list[_NodeSelectorRequirement] = []
    taints: list[Taint] = []
    startup_taints: list[Taint] = []
    node_class_ref: dict[str, str] | None = None
    expire_after: str | None = None
    termination_grace_period: str | None = None


class _TemplateMeta(msgspec.Struct):
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class _NodeClaimTemplate(msgspec.Struct):
    metadata: _TemplateMeta | None = None
    spec: _NodeClaimSpec = msgspec.field(default_factory=_NodeClaimSpec)


class _Budget(msgspec.Struct):
    nodes: str | None = None
    reasons: list[str] = []
    schedule: str | None = None
    duration: str | None = None


class _Disruption(msgspec.Struct, rename="camel"):
    consolidation_policy: str | None = None
    consolidate_after: str | None = None
    expire_after: str | None = None
    budgets: list[_Budget] = []


class _NodePoolSpec(msgspec.Struct):
    template: _NodeClaimTemplate = msgspec.field(default_factory=_NodeClaimTemplate)
    disruption: _Disruption | None = None
    limits: dict[str, Quantity] = {}
    weight: int | None = None


class _Ami(msgspec.Struct):
    id: str | None = None
    name: str | None = None


class _ResourceStatus(msgspec.Struct, rename="camel"):
    amis: list[_Ami] = []
    conditions: list[Condition] = []
    resources: dict[str, Quantity] = {}
    capacity: dict[str, Quantity] = {}
    allocatable: dict[str, Quantity] = {}
    node_name: str | None = None
    provider_id: str | None = msgspec.field(default=None, name="providerID")
    state: str | None = None


class _NodePool(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: _NodePoolSpec = msgspec.field(default_factory=_NodePoolSpec)
    status: _ResourceStatus | None = None


class _NodeClaim(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: _NodeClaimSpec = msgspec.field(default_factory=_NodeClaimSpec)
    status: _ResourceStatus | None = None


class _StatusOnly(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: dict[str, Any] = {}
    status: _ResourceStatus | None = None


_WORKLOADS = ("daemonsets", "deployments", "statefulsets", "replicasets", "jobs", "pdbs")
_SHAPES: dict[str, type] = {
    "pods": _Pod,
    **{a: _Workload for a in _WORKLOADS},
    "nodepools": _NodePool,
    "nodeclaims": _NodeClaim,
    "ec2nodeclasses": _StatusOnly,
    "clusterpolicies": _StatusOnly,
}
# The types the checks read nodes, pods and events as (quantities as the server writes them: text).
_SERVED: dict[str, type] = {"nodes": Node, "pods": Pod, "events": Event}
_SURROGATES = re.compile("[\ud800-\udfff]")


def check_typed_fields(obj: dict[str, Any], origin: Origin, crd: dict[str, Any] | None = None) -> None:
    """Raise InputError when a field gputui reads has a type the API server would refuse: the
    typed fields of nodes, pods and events, the pod templates, selectors and conditions of the
    other kinds, Karpenter's and the GPU Operator's typed fields, and a custom resource's fields
    against its CRD's schema. The object is `normalize`d first and its quantities made text."""
    normalize(obj)
    quantities_as_text(obj)
    attr = KIND_TO_ATTR.get(obj["kind"])
    if attr is None:
        return
    try:
        to_struct(obj, _SHAPES.get(attr, _Other))
        if attr in _SERVED:
            to_struct(obj, _SERVED[attr])
    except msgspec.ValidationError as e:
        raise _invalid(obj, origin, e) from None
    if crd is not None:
        from checks.crd_schema import is_permissive, validate, version_schema

        schema = version_schema(crd, str(obj.get("apiVersion") or "").rpartition("/")[2])
        if schema is not None and not is_permissive(schema):
            for error in validate(obj, schema).errors:
                if "must be of type" in error.message:
                    raise _wrong_type(obj, origin, error.path, error.message)


def quantities_as_text(obj: dict[str, Any]) -> None:
    """Numeric quantities (`nvidia.com/gpu: 1`, a valid limit) become text in place, as the API
    server stores them: checks read requests, limits and capacities as strings, in pods, in the
    pod templates of workloads and in nodes."""

    def text(values: Any) -> None:
        if isinstance(values, dict):
            for k, v in values.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    values[k] = str(v)

    def pod_spec(spec: Any) -> None:
        if not isinstance(spec, dict):
            return
        for field in ("containers", "initContainers"):
            items = spec.get(field)
            for c in items if isinstance(items, list) else []:
                res = c.get("resources") if isinstance(c, dict) else None
                if isinstance(res, dict):
                    text(res.get("requests"))
                    text(res.get("limits"))
        text(spec.get("overhead"))

    spec, status = obj.get("spec"), obj.get("status")
    if obj["kind"] == "Pod":
        pod_spec(spec)
    elif isinstance(spec, dict) and isinstance(spec.get("template"), dict):
        pod_spec(spec["template"].get("spec"))
    if obj["kind"] == "Node" and isinstance(status, dict):
        text(status.get("capacity"))
        text(status.get("allocatable"))


def _invalid(obj: dict[str, Any], origin: Origin, e: msgspec.ValidationError) -> InputError:
    expected, _, where = str(e).partition(" - at `$.")
    return _wrong_type(obj, origin, where.rstrip("`") or "the object", expected.replace("`", ""))


def _wrong_type(obj: dict[str, Any], origin: Origin, field: str, what: str) -> InputError:
    md = obj.get("metadata") or {}
    name = "/".join(str(x) for x in (md.get("namespace"), md.get("name")) if x)
    return InputError(
        f"{origin}: {obj['kind']} {name}: {field}: {what}",
        hint="fix the field's type (the API server would refuse this object)",
    )


def normalize(obj: dict[str, Any]) -> dict[str, Any]:
    """As the API server reads JSON: a null field is an absent one (`labels:` with nothing
    under it), and a lone surrogate (a JSON escape such as \\ud800, which UTF-8 cannot hold)
    becomes U+FFFD. In place; returns the object.

    Most objects have neither: one fast encode tells, and only the others are walked (a walk
    costs ~100 times more, which a 100,000-pod dump would feel)."""
    try:
        encoded = msgspec.json.encode(obj)
    except (UnicodeEncodeError, TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return _normalize(obj)  # surrogates, or values JSON has no words for: the full walk
    if b":null" in encoded:
        # managedFields is bookkeeping nobody reads here, and most of an object's nodes
        md = obj.get("metadata")
        managed = md.pop("managedFields", None) if isinstance(md, dict) else None
        _drop_nulls(obj)
        if managed is not None and isinstance(md, dict):
            md["managedFields"] = managed
    return obj


def _drop_nulls(node: Any) -> None:
    if isinstance(node, dict):
        for k in [k for k, v in node.items() if v is None]:
            del node[k]
        for v in node.values():
            if isinstance(v, (dict, list)):
                _drop_nulls(v)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, (dict, list)):
                _drop_nulls(v)


def _normalize(node: Any) -> Any:
    if isinstance(node, str):
        return _SURROGATES.sub("\ufffd", node) if _SURROGATES.search(node) else node
    if isinstance(node, dict):
        for k in list(node):
            v = node[k]
            if v is None:
                del node[k]
                continue
            new_v = _normalize(v)
            new_k = _normalize(k) if isinstance(k, str) else k
            if new_k is not k:
                del node[k]
                node[new_k] = new_v
            elif new_v is not v:
                node[k] = new_v
    elif isinstance(node, list):
        for i, v in enumerate(node):
            new_v = _normalize(v)
            if new_v is not v:
                node[i] = new_v
    return node
