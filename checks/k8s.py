"""Kubernetes semantics the checks need: quantities, taints and tolerations, label
selectors and node-selector requirements. Pure functions over checks.kinds types
(or plain dicts for the generic kinds)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from checks.conditions import condition
from checks.kinds import Container, Node, Pod, Taint, Toleration

_SUFFIX = {
    "Ki": Decimal(1024),
    "Mi": Decimal(1024) ** 2,
    "Gi": Decimal(1024) ** 3,
    "Ti": Decimal(1024) ** 4,
    "Pi": Decimal(1024) ** 5,
    "Ei": Decimal(1024) ** 6,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
}
_QTY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one: a custom resource's field of the wrong
    type (a number where an object belongs) reads as absent instead of breaking a check."""
    return value if isinstance(value, Mapping) else {}


def parse_quantity(value: Any) -> Decimal:
    """'500m' -> 0.5, '16Gi' -> 17179869184, 4 -> 4. Raises ValueError on nonsense."""
    if value.__class__ is str:
        return _parse_quantity_text(value)
    if isinstance(value, bool):
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        if not number.is_finite():  # YAML's .nan and .inf: no quantity, and they poison comparisons
            raise ValueError(f"not a Kubernetes quantity: {value!r}")
        return number
    return _parse_text(str(value), value)


def _parse_text(text: str, value: Any) -> Decimal:
    m = _QTY.match(text.strip())
    if not m:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    try:
        return Decimal(m.group(1)) * _SUFFIX[m.group(2) or ""]
    except InvalidOperation:
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from None


@lru_cache(maxsize=4096)
def _parse_quantity_text(text: str) -> Decimal:
    """A cluster writes a few distinct quantities ("1", "500m", "16Gi") on 100,000 pods:
    each is parsed once (Decimals are immutable). Nonsense raises every time, as
    lru_cache keeps no exceptions."""
    return _parse_text(text, text)


def quantity_or_zero(value: Any) -> Decimal:
    try:
        return parse_quantity(value) if value not in (None, "") else Decimal(0)
    except ValueError:
        return Decimal(0)


def format_quantity(value: Decimal, resource: str = "") -> str:
    """A readable rendering: memory in Gi/Mi, cpu in cores or millicores, counts as ints."""
    if resource == "memory" or resource.endswith("storage"):
        for unit in ("Ti", "Gi", "Mi", "Ki"):
            if value >= _SUFFIX[unit]:
                q = value / _SUFFIX[unit]
                return f"{q.normalize():f}{unit}" if q == q.to_integral() else f"{q:.1f}{unit}"
        return f"{value.normalize():f}"
    if value != value.to_integral():
        return f"{int(value * 1000)}m"
    return f"{int(value)}"


# -- resources ---------------------------------------------------------------


def pod_requests(pod: Pod) -> dict[str, Decimal]:
    """Effective requests as the scheduler computes them: max(sum of containers, any init
    container) per resource, plus pod overhead. Limits stand in for missing requests of
    extended resources (nvidia.com/gpu is usually given only as a limit)."""
    return dict(pod_requests_view(pod))


def pod_gpu_request(pod: Pod, resource: str = "nvidia.com/gpu") -> int:
    return int(pod_requests_view(pod).get(resource, Decimal(0)))


# The quantities of a pod's containers, init containers and overhead, as a hashable value:
# replicas of one workload share it, so their requests are computed once.
_Quantities = tuple[tuple[str, Any], ...]
_ResourcesKey = tuple[tuple[_Quantities, _Quantities], ...]


def _resources_key(containers: Sequence[Container]) -> _ResourcesKey:
    return tuple((tuple(c.resources.requests.items()), tuple(c.resources.limits.items())) for c in containers)


def pod_requests_view(pod: Pod) -> Mapping[str, Decimal]:
    """pod_requests without the copy, for readers: shared by every pod with these
    resources, so never change it."""
    spec = pod.spec
    containers = _resources_key(spec.containers)
    init_containers = _resources_key(spec.init_containers) if spec.init_containers else ()
    overhead = tuple(spec.overhead.items()) if spec.overhead else ()
    try:
        return _requests_of(containers, init_containers, overhead)
    except TypeError:  # an unhashable quantity in a hand-built object: computed, not cached
        return _requests_of.__wrapped__(containers, init_containers, overhead)


@lru_cache(maxsize=4096)
def _requests_of(
    containers: _ResourcesKey, init_containers: _ResourcesKey, overhead: _Quantities
) -> Mapping[str, Decimal]:
    """Shared by every pod with these resources, so read-only."""
    total: dict[str, Decimal] = {}
    for requests, limits in containers:
        for name, q in _container_requests(requests, limits).items():
            total[name] = total.get(name, Decimal(0)) + q
    for requests, limits in init_containers:
        for name, q in _container_requests(requests, limits).items():
            if q > total.get(name, Decimal(0)):
                total[name] = q
    for name, amount in overhead:
        total[name] = total.get(name, Decimal(0)) + quantity_or_zero(amount)
    return MappingProxyType(total)


def _container_requests(requests: _Quantities, limits: _Quantities) -> dict[str, Decimal]:
    out = {k: quantity_or_zero(v) for k, v in requests}
    for k, v in limits:
        # Requests default to limits when only limits are set.
        if k not in out:
            out[k] = quantity_or_zero(v)
    return out


def is_terminal(pod: Pod) -> bool:
    return pod.status.phase in ("Succeeded", "Failed")


# -- taints and tolerations --------------------------------------------------


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """The scheduler's ToleratesTaint."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    op = toleration.operator or "Equal"
    if not toleration.key:
        # An empty key with Exists tolerates everything.
        return op == "Exists"
    if toleration.key != taint.key:
        return False
    if op == "Exists":
        return True
    return (toleration.value or "") == (taint.value or "")


def untolerated_taints(
    taints: Iterable[Taint], tolerations: Sequence[Toleration], effects: Iterable[str] = ("NoSchedule", "NoExecute")
) -> list[Taint]:
    """Taints with one of `effects` that no toleration tolerates (PreferNoSchedule never blocks)."""
    wanted = set(effects)
    return [t for t in taints if t.effect in wanted and not any(tolerates(tol, t) for tol in tolerations)]


def format_taint(taint: Taint) -> str:
    return f"{taint.key}={taint.value}:{taint.effect}" if taint.value else f"{taint.key}:{taint.effect}"


def taint_from_dict(d: Mapping[str, Any]) -> Taint:
    return Taint(key=d.get("key", ""), effect=d.get("effect", ""), value=d.get("value"))


def toleration_from_dict(d: Mapping[str, Any]) -> Toleration:
    return Toleration(
        key=d.get("key"),
        operator=d.get("operator"),
        value=d.get("value"),
        effect=d.get("effect"),
        toleration_seconds=d.get("tolerationSeconds"),
    )


# -- label selectors and node-selector requirements --------------------------


def requirement_matches(labels: Mapping[str, str], key: str, operator: str, values: Sequence[str] = ()) -> bool:
    """One NodeSelectorRequirement (also used for Karpenter requirements) against labels.

    The one matching semantics of the checks: Gt/Lt (and Karpenter v1's Gte/Lte) compare
    integers, and an operator nobody defined matches nothing, as the API server would
    reject it (checks.nodepools' value sets agree)."""
    present = key in labels
    value = labels.get(key)
    if operator == "In":
        return present and value in values
    if operator == "NotIn":
        return not present or value not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in _NUMERIC_OPERATORS:
        if not present or not values:
            return False
        try:
            have, bound = int(value), int(values[0])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return _NUMERIC_OPERATORS[operator](have, bound)
    return False


_NUMERIC_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "Gt": lambda have, bound: have > bound,
    "Lt": lambda have, bound: have < bound,
    "Gte": lambda have, bound: have >= bound,
    "Lte": lambda have, bound: have <= bound,
}


def match_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector (matchLabels + matchExpressions). An empty selector matches all."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        if not requirement_matches(labels, expr.get("key", ""), expr.get("operator", ""), expr.get("values") or ()):
            return False
    return True


def required_node_affinity_terms(pod_spec_affinity: Mapping[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The pod's requiredDuringSchedulingIgnoredDuringExecution nodeSelectorTerms as lists
    of matchExpressions (terms are ORed, expressions within a term ANDed)."""
    if not pod_spec_affinity:
        return []
    na = pod_spec_affinity.get("nodeAffinity") or {}
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    return [list(t.get("matchExpressions") or []) for t in req.get("nodeSelectorTerms") or []]


def node_matches_pod_selectors(node_labels: Mapping[str, str], pod: Pod) -> bool:
    """nodeSelector and required node affinity, as the NodeAffinity filter plugin does."""
    for k, v in pod.spec.node_selector.items():
        if node_labels.get(k) != v:
            return False
    terms = required_node_affinity_terms(pod.spec.affinity)
    if not terms:
        return True
    return any(
        all(
            requirement_matches(node_labels, e.get("key", ""), e.get("operator", ""), e.get("values") or ())
            for e in term
        )
        for term in terms
    )


# -- nodes -------------------------------------------------------------------


def node_is_ready(node: Node) -> bool:
    c = condition(node, "Ready")
    return c is not None and c.get("status") == "True"


def owner_of(pod: Pod) -> tuple[str, str] | None:
    """(kind, name) of the pod's controller reference."""
    for ref in pod.metadata.owner_references:
        if ref.controller:
            return ref.kind, ref.name
    return None
