"""Can this Karpenter NodePool launch a node for this pod? Karpenter's own reasoning,
re-done offline against the instance catalogue.

A NodePool (karpenter.sh v1 or v1beta1; both keep taints and requirements under
spec.template.spec) cannot take a pod when:
* a template taint is not tolerated (startupTaints are removed before pods schedule,
  so they never block);
* the pod's nodeSelector / required node affinity conflicts with the NodePool's
  requirements and template labels. As in Karpenter, a key the NodePool constrains must
  intersect; a key it does not constrain is fine when it is a well-known label (checked
  against the instance types later) or a NotIn/DoesNotExist, and fatal otherwise
  ("label does not have known values");
* no instance type the NodePool allows (and the pod's requirements keep) has room for
  the pod's requests plus the daemonset overhead;
* spec.limits leave no room for one more node of any fitting type;
* the NodePool (or its node class) is not ready.

Public API:
    evaluate_nodepool(nodepool, pod, *, daemonset_overhead=None) -> NodePoolVerdict
    allowed_instance_types(nodepool) -> list[InstanceType]
    nodepool_requirements(nodepool) -> list[Requirement]
    pod_requirement_terms(pod) -> list[list[Requirement]]
    daemonset_overhead(daemonsets, nodepool) -> dict[str, Decimal]
    widen_requirements(nodepool, pod, *, daemonset_overhead=None) -> WidenPlan | None
    set_after_boot(key) -> bool; karpenter_equivalent(key, value) -> (key, value) | None
    limit_headroom(nodepool) -> dict[str, (limit, used)]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from checks import instances
from checks.conditions import condition
from checks.gpu import GPU_RESOURCE, LABEL_CAPACITY_TYPE, LABEL_NODEPOOL
from checks.gpu_pods import pending_gpu_pods
from checks.instances import INSTANCE_LABEL_KEYS, NEURON_RESOURCE, InstanceType, karpenter_labels
from checks.k8s import (
    format_quantity,
    format_taint,
    pod_requests,
    quantity_or_zero,
    required_node_affinity_terms,
    requirement_matches,
    tolerates,
    untolerated_taints,
)
from checks.kinds import Event, Object, Pod, to_struct
from checks.nodeclass_kubelet import KUBELET_SETTINGS, int_or_none, kubelet_allocatable, pod_capacity
from checks.nodepool_model import nodepool_taints, template, template_labels, template_spec
from checks.workloads import pod_template_spec

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

ACCELERATOR_RESOURCES = (GPU_RESOURCE, NEURON_RESOURCE)

# Used when the caller cannot compute the daemonsets that would land on a new node
# (a typical EKS node runs aws-node, kube-proxy, the EBS CSI node and pod identity agents).
DEFAULT_DAEMONSET_OVERHEAD: dict[str, Decimal] = {
    "cpu": Decimal("0.2"),
    "memory": Decimal(256 * 1024 * 1024),
    "pods": Decimal(4),
}

# Labels Karpenter knows how to satisfy without the NodePool naming them.
WELL_KNOWN_LABELS = frozenset(
    {
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.k8s.aws/zone-id",
        "node.kubernetes.io/instance-type",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "node.kubernetes.io/windows-build",
        LABEL_CAPACITY_TYPE,
        LABEL_NODEPOOL,
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
    }
)
NODE_AGENT_LABEL_PREFIXES = ("nvidia.com/", "feature.node.kubernetes.io/")

_DEPRECATED = {
    "failure-domain.beta.kubernetes.io/zone": "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
    "beta.kubernetes.io/arch": "kubernetes.io/arch",
    "beta.kubernetes.io/os": "kubernetes.io/os",
    "beta.kubernetes.io/instance-type": "node.kubernetes.io/instance-type",
}


def is_well_known(key: str) -> bool:
    return key in WELL_KNOWN_LABELS or key.startswith(
        ("karpenter.k8s.aws/instance-", "karpenter.k8s.aws/capacity-reservation")
    )


# -- requirements --------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()
    # where it came from: "requirement" | "label" (NodePool template label) | "nodepool" | "pod"
    origin: str = "requirement"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], origin: str = "requirement") -> Requirement:
        key = d.get("key", "")
        return cls(
            _DEPRECATED.get(key, key), d.get("operator", ""), tuple(str(v) for v in d.get("values") or ()), origin
        )

    def __str__(self) -> str:
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{self.key} {self.operator}"
        return f"{self.key} {self.operator} [{' '.join(self.values)}]"

    def matches(self, labels: Mapping[str, str]) -> bool:
        return requirement_matches(labels, self.key, self.operator, self.values)

    def matches_instance(self, it: InstanceType, labels: Mapping[str, str] | None = None) -> bool:
        """Only instance-derived keys can be judged here; others (zone, capacity type,
        custom labels) are offering- or NodePool-level and pass."""
        if self.key not in INSTANCE_LABEL_KEYS:
            return True
        return self.matches(labels if labels is not None else karpenter_labels(it))


@dataclass(frozen=True)
class _ValueSet:
    """Karpenter's requirement model: a (possibly complemented) value set with numeric bounds."""

    complement: bool
    values: frozenset[str]
    gt: int | None = None
    lt: int | None = None

    @classmethod
    def of(cls, r: Requirement) -> _ValueSet:
        op = r.operator
        if op == "In":
            return cls(False, frozenset(r.values))
        if op == "NotIn":
            return cls(True, frozenset(r.values))
        if op == "Exists":
            return cls(True, frozenset())
        if op == "DoesNotExist":
            return cls(False, frozenset())
        bound = int_or_none(r.values[0]) if r.values else None
        if op == "Gt":
            return cls(True, frozenset(), gt=bound)
        if op == "Lt":
            return cls(True, frozenset(), lt=bound)
        if op == "Gte":
            return cls(True, frozenset(), gt=None if bound is None else bound - 1)
        if op == "Lte":
            return cls(True, frozenset(), lt=None if bound is None else bound + 1)
        return cls(False, frozenset())  # an unknown operator admits nothing, as requirement_matches says

    def _in_bounds(self, v: str) -> bool:
        if self.gt is None and self.lt is None:
            return True
        n = int_or_none(v)
        if n is None:
            return False
        return (self.gt is None or n > self.gt) and (self.lt is None or n < self.lt)

    def intersect(self, o: _ValueSet) -> _ValueSet:
        gt = max((b for b in (self.gt, o.gt) if b is not None), default=None)
        lt = min((b for b in (self.lt, o.lt) if b is not None), default=None)
        if self.complement and o.complement:
            out = _ValueSet(True, self.values | o.values, gt, lt)
        elif self.complement:
            out = _ValueSet(False, o.values - self.values, gt, lt)
        elif o.complement:
            out = _ValueSet(False, self.values - o.values, gt, lt)
        else:
            out = _ValueSet(False, self.values & o.values, gt, lt)
        if not out.complement:
            out = _ValueSet(False, frozenset(v for v in out.values if out._in_bounds(v)), gt, lt)
        return out

    @property
    def empty(self) -> bool:
        if not self.complement:
            return not self.values
        return self.gt is not None and self.lt is not None and self.lt - self.gt <= 1


def _merge(reqs: Iterable[Requirement]) -> dict[str, tuple[_ValueSet, list[Requirement]]]:
    out: dict[str, tuple[_ValueSet, list[Requirement]]] = {}
    for r in reqs:
        vs = _ValueSet.of(r)
        if r.key in out:
            prev, rs = out[r.key]
            out[r.key] = (prev.intersect(vs), rs + [r])
        else:
            out[r.key] = (vs, [r])
    return out


@dataclass(frozen=True)
class Conflict:
    key: str
    pod: tuple[Requirement, ...]
    nodepool: tuple[Requirement, ...]  # empty when the NodePool does not know the label

    @property
    def unknown_label(self) -> bool:
        return not self.nodepool

    def __str__(self) -> str:
        pod = ", ".join(str(r) for r in self.pod)
        if self.unknown_label:
            return f'the pod needs {pod}, but label "{self.key}" has no known values in this NodePool'
        return f"the pod needs {pod}; the NodePool allows {', '.join(str(r) for r in self.nodepool)}"


_NEGATIVE = ("NotIn", "DoesNotExist")


def conflicts(nodepool_reqs: Sequence[Requirement], pod_reqs: Sequence[Requirement]) -> list[Conflict]:
    """Karpenter's Compatible(), with undefined well-known labels allowed."""
    np_sets = _merge(nodepool_reqs)
    out: list[Conflict] = []
    for key, (pod_set, pod_rs) in _merge(pod_reqs).items():
        if key not in np_sets:
            if all(r.operator in _NEGATIVE for r in pod_rs) or is_well_known(key):
                continue
            out.append(Conflict(key, tuple(pod_rs), ()))
            continue
        np_set, np_rs = np_sets[key]
        if np_set.intersect(pod_set).empty:
            if all(r.operator in _NEGATIVE for r in pod_rs) and all(r.operator in _NEGATIVE for r in np_rs):
                continue
            out.append(Conflict(key, tuple(pod_rs), tuple(np_rs)))
    return out


def nodepool_requirements(nodepool: Object) -> list[Requirement]:
    """spec.template.spec.requirements + template labels (Karpenter treats each as `In
    [value]`) + the implicit karpenter.sh/nodepool In [name]."""
    reqs = [Requirement.from_dict(d) for d in template_spec(nodepool).get("requirements") or []]
    labels = (template(nodepool).get("metadata") or {}).get("labels") or {}
    reqs += [Requirement(k, "In", (str(v),), "label") for k, v in labels.items()]
    reqs.append(Requirement(LABEL_NODEPOOL, "In", (nodepool.metadata.name,), "nodepool"))
    return reqs


def pod_requirement_terms(pod: Pod) -> list[list[Requirement]]:
    """nodeSelector ANDed into each required nodeSelectorTerm (terms are alternatives)."""
    base = [Requirement(_DEPRECATED.get(k, k), "In", (v,), "pod") for k, v in pod.spec.node_selector.items()]
    terms = required_node_affinity_terms(pod.spec.affinity)
    if not terms:
        return [base]
    return [base + [Requirement.from_dict(e, "pod") for e in term] for term in terms]


def pod_aims_at_nodepool(np: Object, pod: Pod, gpu_pool: bool) -> bool:
    """Does the pod mean to run on this NodePool? It selects the pool or one of its own
    labels, or it selects nothing custom and the pool is a GPU pool."""
    labels = template_labels(np)
    for term in pod_requirement_terms(pod):
        custom = [r for r in term if not is_well_known(r.key) or r.key == LABEL_NODEPOOL]
        if not custom:
            if gpu_pool:
                return True
            continue
        if any(r.key == LABEL_NODEPOOL and r.operator == "In" and np.metadata.name in r.values for r in custom):
            return True
        if any(r.key in labels and r.operator == "In" and str(labels[r.key]) in r.values for r in custom):
            return True
    return False


def pod_may_use_nodepool(pod: Pod, np: Object) -> bool:
    """A quick compatibility test: the pool's taints tolerated, and some term of the pod's
    nodeSelector and required affinity compatible with the pool's requirements and labels
    (the same semantics as evaluate_nodepool, without the instance types)."""
    for t in nodepool_taints(np):
        if t.effect in ("NoSchedule", "NoExecute") and not any(tolerates(tol, t) for tol in pod.spec.tolerations):
            return False
    reqs = nodepool_requirements(np)
    return any(not conflicts(reqs, term) for term in pod_requirement_terms(pod))


def _karpenter_points_at(events: Iterable[Event], pool: str) -> bool:
    """Karpenter nominated the pod to one of the pool's NodeClaims, or said only the pool's
    limits stand in the way. Merely being named (as incompatible) does not count."""
    from checks.event_messages import KarpenterMessage, parse_failed_scheduling

    for e in events:
        msg = e.message or ""
        if e.reason == "Nominated" and f"nodeclaim/{pool}-" in msg:
            return True
        if e.reason == "FailedScheduling" and pool in msg:
            parsed = parse_failed_scheduling(msg)
            if isinstance(parsed, KarpenterMessage) and any(
                x.kind == "limits" and x.nodepool == pool for x in parsed.errors
            ):
                return True
    return False


def pods_waiting_on_nodepool(snapshot: ClusterSnapshot, np: Object) -> list[Pod]:
    """Pending GPU pods this NodePool could serve, or that Karpenter ties to it."""
    name = np.metadata.name
    out = []
    for p in pending_gpu_pods(snapshot):
        if pod_may_use_nodepool(p, np) or _karpenter_points_at(
            snapshot.events_for("Pod", p.metadata.name, p.metadata.namespace), name
        ):
            out.append(p)
    return out


# -- instance types --------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _catalogue() -> list[tuple[InstanceType, dict[str, str]]]:
    return [
        (it, karpenter_labels(it)) for it in sorted(instances.INSTANCE_TYPES.values(), key=lambda i: i.on_demand_usd)
    ]


def _filter(reqs: Sequence[Requirement]) -> list[tuple[InstanceType, dict[str, str]]]:
    return [(it, labels) for it, labels in _catalogue() if all(r.matches_instance(it, labels) for r in reqs)]


def allowed_instance_types(nodepool: Object) -> list[InstanceType]:
    """Catalogue types the NodePool's requirements admit, cheapest first. Only the types
    in checks.instances are known: a NodePool of general-purpose types yields []."""
    return [it for it, _ in _filter(nodepool_requirements(nodepool))]


def _fits(it: InstanceType, requests: Mapping[str, Decimal], overhead: Mapping[str, Decimal]) -> bool:
    return not _shortfall(it, requests, overhead)


def _shortfall(
    it: InstanceType,
    requests: Mapping[str, Decimal],
    overhead: Mapping[str, Decimal],
    allocatable: Mapping[str, Decimal] | None = None,
) -> list[str]:
    """Resources the instance type cannot provide (from `allocatable` when given, e.g. under the
    EC2NodeClass's kubelet settings). Resources the catalogue does not model (ephemeral storage,
    pod ENIs, hugepages) are assumed available."""
    alloc = it.allocatable if allocatable is None else allocatable
    short = []
    need = dict(requests)
    need["pods"] = need.get("pods", Decimal(0)) + 1
    for r, q in overhead.items():
        need[r] = need.get(r, Decimal(0)) + q
    for r, q in need.items():
        if q <= 0:
            continue
        if r in alloc:
            if q > alloc[r]:
                short.append(r)
        elif r in ACCELERATOR_RESOURCES:
            short.append(r)
    return short


def daemonset_overhead(daemonsets: Iterable[Object], nodepool: Object) -> dict[str, Decimal]:
    """Requests of the DaemonSets Karpenter expects on a new node of this NodePool: those
    tolerating its taints and compatible with its requirements (the GPU Operator's
    operands select on labels the operator adds later, so Karpenter leaves them out too)."""
    taints = nodepool_taints(nodepool)
    np_reqs = nodepool_requirements(nodepool)
    total: dict[str, Decimal] = {}
    for ds in daemonsets:
        spec = pod_template_spec(ds)
        pod = to_struct({"spec": spec}, Pod)
        if untolerated_taints(taints, pod.spec.tolerations):
            continue
        if not any(not conflicts(np_reqs, term) for term in pod_requirement_terms(pod)):
            continue
        for r, q in pod_requests(pod).items():
            total[r] = total.get(r, Decimal(0)) + q
        total["pods"] = total.get("pods", Decimal(0)) + 1
    return total


# -- limits --------------------------------------------------------------------------


def limit_headroom(nodepool: Object) -> dict[str, tuple[Decimal, Decimal]]:
    """resource -> (limit, in use) for every resource the NodePool limits."""
    used = nodepool.status.get("resources") or {}
    return {
        r: (quantity_or_zero(v), quantity_or_zero(used.get(r))) for r, v in (nodepool.spec.get("limits") or {}).items()
    }


def _node_adds(it: InstanceType, resource: str) -> Decimal:
    if resource == "nodes":
        return Decimal(1)
    return it.capacity.get(resource, Decimal(0))


def _within_limits(it: InstanceType, headroom: Mapping[str, tuple[Decimal, Decimal]]) -> list[str]:
    """Limited resources one more node of this type would push past the limit."""
    return [r for r, (limit, used) in headroom.items() if used + _node_adds(it, r) > limit]


# -- verdict ----------------------------------------------------------------------------


@dataclass
class Blocker:
    kind: str  # taint | requirements | limits | no-instance-type | nodeclass
    detail: str
    fix_hint: str = ""
    # Structured facts for fix plans: {"taint": {...}} | {"conflict": Conflict} |
    # {"resource", "limit", "used", "adds"} | {"largest": name, "needs": {...}}
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class NodePoolVerdict:
    nodepool: str
    fits: bool
    reasons: list[str] = field(default_factory=list)
    blocking: list[Blocker] = field(default_factory=list)
    candidate_types: list[str] = field(default_factory=list)

    def blockers_of(self, kind: str) -> list[Blocker]:
        return [b for b in self.blocking if b.kind == kind]

    def summary(self) -> str:
        if self.fits:
            few = ", ".join(self.candidate_types[:3])
            return f"NodePool {self.nodepool} can take it" + (
                f" ({few}{', ...' if len(self.candidate_types) > 3 else ''})" if few else ""
            )
        return f"NodePool {self.nodepool}: " + "; ".join(b.detail for b in self.blocking)


def _readiness_blocker(nodepool: Object) -> Blocker | None:
    for type_ in ("NodeClassReady", "Ready"):
        c = condition(nodepool, type_)
        if c and c.get("status") == "False":
            why = c.get("reason") or type_
            msg = f": {c['message']}" if c.get("message") else ""
            ref = template_spec(nodepool).get("nodeClassRef") or {}
            return Blocker(
                "nodeclass",
                f"NodePool is not ready ({type_}=False, {why}{msg})",
                f"fix node class {ref.get('kind', 'EC2NodeClass')}/{ref.get('name', '?')} or the NodePool spec; "
                "Karpenter launches nothing from a NodePool that is not ready",
                {"condition": type_, "reason": why, "nodeClassRef": ref},
            )
    return None


def _requests_words(requests: Mapping[str, Decimal]) -> str:
    keys = [r for r in (GPU_RESOURCE, NEURON_RESOURCE, "cpu", "memory") if requests.get(r, 0) > 0]
    return ", ".join(f"{r}={format_quantity(requests[r], r)}" for r in keys) or "nothing"


def _kubelet_blocker(
    fitting: list[InstanceType],
    requests: Mapping[str, Decimal],
    overhead: Mapping[str, Decimal],
    kubelet: Mapping[str, Any],
    nodepool: Object,
) -> tuple[list[InstanceType], Blocker | None]:
    """The instance types that still hold the DaemonSets plus the pod under the EC2NodeClass's kubelet
    settings (maxPods, podsPerCore, kubeReserved, systemReserved, evictionHard); a blocker naming the
    settings when none does."""
    if not fitting or not kubelet or not any(kubelet.get(k) for k in KUBELET_SETTINGS):
        return fitting, None
    kept = [it for it in fitting if not _shortfall(it, requests, overhead, kubelet_allocatable(it, kubelet))]
    if kept:
        return kept, None
    ref = (template_spec(nodepool).get("nodeClassRef") or {}).get("name", "?")
    largest = max(fitting, key=lambda it: (it.vcpu, it.memory_mib, pod_capacity(it, kubelet)))
    short = _shortfall(largest, requests, overhead, kubelet_allocatable(largest, kubelet))
    setting = ", ".join(
        f"{k}: {kubelet[k]}" if k in ("maxPods", "podsPerCore") else k for k in KUBELET_SETTINGS if kubelet.get(k)
    )
    if short == ["pods"]:
        need = int(overhead.get("pods", Decimal(0))) + 1
        n = pod_capacity(largest, kubelet)
        detail = (
            f"EC2NodeClass {ref} sets kubelet {setting}: a {largest.name} takes {n} pod{'s' if n != 1 else ''}, "
            f"but the DaemonSets need {need - 1} and the pod one more"
        )
        hint = f"raise kubelet maxPods/podsPerCore in EC2NodeClass {ref} to at least {need}, or remove them"
    else:
        detail = (
            f"EC2NodeClass {ref} sets kubelet {setting}: even a {largest.name} is then short of "
            f"{', '.join(short)} for {_requests_words(requests)} plus daemonset overhead"
        )
        hint = f"lower the kubelet reservations (or raise maxPods) in EC2NodeClass {ref}"
    return [], Blocker(
        "kubelet", detail, hint, {"nodeclass": ref, "kubelet": dict(kubelet), "short": short, "largest": largest.name}
    )


def evaluate_nodepool(
    nodepool: Object,
    pod: Pod,
    *,
    daemonset_overhead: Mapping[str, Decimal] | None = None,
    kubelet: Mapping[str, Any] | None = None,
) -> NodePoolVerdict:
    """Everything that keeps this NodePool from launching a node for this pod; `kubelet` is the
    spec.kubelet of its EC2NodeClass (nodeclass_kubelet) when known."""
    overhead = dict(DEFAULT_DAEMONSET_OVERHEAD if daemonset_overhead is None else daemonset_overhead)
    name = nodepool.metadata.name
    verdict = NodePoolVerdict(nodepool=name, fits=False)
    blocking = verdict.blocking

    b = _readiness_blocker(nodepool)
    if b:
        blocking.append(b)

    for t in untolerated_taints(nodepool_taints(nodepool), pod.spec.tolerations):
        blocking.append(
            Blocker(
                "taint",
                f"taint {format_taint(t)} is not tolerated",
                f"add a toleration for {t.key} (effect {t.effect}) to the pod template",
                {"taint": {"key": t.key, "value": t.value, "effect": t.effect}},
            )
        )

    np_reqs = nodepool_requirements(nodepool)
    terms = pod_requirement_terms(pod)
    chosen: list[Requirement] | None = None
    first_conflicts: list[Conflict] = []
    for term in terms:
        cs = conflicts(np_reqs, term)
        if not cs:
            chosen = term
            break
        if not first_conflicts:
            first_conflicts = cs
    blocking_conflicts = first_conflicts if chosen is None else []
    if chosen is None and all(c.key not in INSTANCE_LABEL_KEYS for c in first_conflicts):
        # Offering-level conflicts (capacity type, zone, custom labels) say nothing about
        # instance sizes: keep judging those so every blocker shows at once.
        chosen = terms[0]
    for c in blocking_conflicts:
        hint = _conflict_hint(c)
        # For a node-agent label the hint is the diagnosis itself.
        detail = (
            f"the pod needs {', '.join(str(r) for r in c.pod)}; {hint}"
            if c.unknown_label and set_after_boot(c.key)
            else str(c)
        )
        blocking.append(Blocker("requirements", detail, hint, {"conflict": c}))

    requests = pod_requests(pod)
    allowed = _filter(np_reqs)
    wants_accelerator = any(requests.get(r, 0) > 0 for r in ACCELERATOR_RESOURCES)
    if chosen is not None:
        offered = [it for it, labels in allowed if all(r.matches_instance(it, labels) for r in chosen)]
        fitting = [it for it in offered if _fits(it, requests, overhead)]
        if allowed and not offered:
            pod_side = ", ".join(str(r) for r in chosen if r.key in INSTANCE_LABEL_KEYS)
            blocking.append(
                Blocker(
                    "requirements",
                    f"the pod's {pod_side} excludes every instance type the NodePool allows "
                    f"({_type_range([it for it, _ in allowed])})",
                    "widen the NodePool's instance requirements or relax the pod's selector",
                    {"pod_requirements": [str(r) for r in chosen]},
                )
            )
        elif not allowed and wants_accelerator:
            blocking.append(
                Blocker(
                    "no-instance-type",
                    "the NodePool's requirements admit no GPU instance type",
                    "allow GPU instance families (e.g. karpenter.k8s.aws/instance-family In [g5 g6])",
                    {},
                )
            )
        elif offered and not fitting:
            largest = max(offered, key=lambda it: (it.gpu_count + it.accelerator_count, it.vcpu, it.memory_mib))
            short = _shortfall(largest, requests, overhead)
            blocking.append(
                Blocker(
                    "no-instance-type",
                    f"no allowed instance type has room for {_requests_words(requests)} plus daemonset overhead "
                    f"(largest: {largest.describe()}; short of {', '.join(short)})",
                    "allow larger instance types in the NodePool or lower the pod's requests",
                    {"largest": largest.name, "short": short},
                )
            )
        fitting, by_kubelet = _kubelet_blocker(fitting, requests, overhead, kubelet or {}, nodepool)
        if by_kubelet is not None:
            blocking.append(by_kubelet)
        headroom = limit_headroom(nodepool)
        within = [it for it in fitting if not _within_limits(it, headroom)]
        if fitting and not within:
            smallest = fitting[0]
            over = _within_limits(smallest, headroom)
            r = over[0]
            limit, used = headroom[r]
            adds = _node_adds(smallest, r)
            blocking.append(
                Blocker(
                    "limits",
                    f"limit {r}={format_quantity(limit, r)} with {format_quantity(used, r)} in use; "
                    f"one more {smallest.name} adds {format_quantity(adds, r)}",
                    f"raise spec.limits.{r} to at least {format_quantity(used + adds, r)}",
                    {"resource": r, "limit": limit, "used": used, "adds": adds, "instance_type": smallest.name},
                )
            )
        verdict.candidate_types = [it.name for it in within]

    verdict.fits = not blocking
    verdict.reasons = [b.detail for b in blocking] if blocking else [verdict.summary()]
    return verdict


def set_after_boot(key: str) -> bool:
    """Labels node agents (GPU feature discovery, NFD) add once the node runs: Karpenter
    cannot launch a node for them, and a NodePool must not promise them."""
    return key.startswith(NODE_AGENT_LABEL_PREFIXES)


def karpenter_equivalent(key: str, value: str) -> tuple[str, str] | None:
    """The Karpenter label that selects what a node-agent label describes, when one does:
    nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3 -> karpenter.k8s.aws/instance-gpu-name=h100."""
    if key == "nvidia.com/gpu.product":
        name = instances.gpu_name_for_product(value)
        return (instances.L_GPU_NAME, name) if name else None
    if key == "nvidia.com/gpu.count":
        return instances.L_GPU_COUNT, value
    return None


def _conflict_hint(c: Conflict) -> str:
    if c.unknown_label and set_after_boot(c.key):
        wanted = [v for r in c.pod if r.operator == "In" for v in r.values]
        alt = karpenter_equivalent(c.key, wanted[0]) if wanted else None
        instead = f"select {alt[0]}={alt[1]} instead" if alt else "drop it from the pod's selector"
        return f"{c.key} is set on the node after it boots, so Karpenter cannot launch a node for it: {instead}"
    if c.unknown_label:
        return f'add "{c.key}" to the NodePool (template label or requirement) or drop it from the pod'
    return f"allow {_wanted_values(c)} in the NodePool's {c.key} requirement or change the pod's selector"


def _wanted_values(c: Conflict) -> str:
    values = [v for r in c.pod if r.operator == "In" for v in r.values]
    return " or ".join(values) if values else "the pod's values"


def _type_range(its: Sequence[InstanceType]) -> str:
    names = [it.name for it in its]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


# -- widening ------------------------------------------------------------------------


@dataclass
class WidenPlan:
    requirements: list[dict[str, Any]]  # the NodePool's new spec.template.spec.requirements
    changes: list[str]
    instance_type: str | None = None  # the cheapest type the change admits for this pod


def widen_requirements(
    nodepool: Object, pod: Pod, *, daemonset_overhead: Mapping[str, Decimal] | None = None
) -> WidenPlan | None:
    """The smallest edit to the NodePool's requirements that lets it launch a node for
    this pod: resolve requirement conflicts by adding the pod's value to an `In` list, then
    admit the catalogue type needing the fewest changed requirements (cheapest on ties).
    None when only a template-label change, a toleration or a limit would help."""
    overhead = dict(DEFAULT_DAEMONSET_OVERHEAD if daemonset_overhead is None else daemonset_overhead)
    raw = [dict(d) for d in template_spec(nodepool).get("requirements") or []]
    changes: list[str] = []
    np_reqs = nodepool_requirements(nodepool)
    term = pod_requirement_terms(pod)[0]
    for c in conflicts(np_reqs, term):
        if c.key in INSTANCE_LABEL_KEYS:
            continue  # settled by admitting an instance type below
        if set_after_boot(c.key):
            return None  # a NodePool promising e.g. a GPU product label would mislabel other types
        wanted = [v for r in c.pod if r.operator == "In" for v in r.values][:1]
        if not wanted or any(r.origin != "requirement" for r in c.nodepool):
            return None
        for d in raw:
            req_key = str(d.get("key", ""))
            if _DEPRECATED.get(req_key, req_key) == c.key and d.get("operator") == "In":
                d["values"] = list(d.get("values") or []) + wanted
                changes.append(f"{c.key}: add {wanted[0]}")
                break
        else:
            if c.unknown_label:
                raw.append({"key": c.key, "operator": "In", "values": wanted})
                changes.append(f"{c.key}: new requirement In [{wanted[0]}]")
            else:
                return None
    requests = pod_requests(pod)
    label_reqs = [r for r in np_reqs if r.origin == "label" and r.key in INSTANCE_LABEL_KEYS]
    best: tuple[int, float, InstanceType, list[dict[str, Any]], list[str]] | None = None
    for it, labels in _catalogue():
        if not _fits(it, requests, overhead) or not all(r.matches_instance(it, labels) for r in term):
            continue
        if not all(r.matches(labels) for r in label_reqs):
            continue
        edited = _admit(raw, labels)
        if edited is None:
            continue
        new_raw, edits = edited
        key = (len(edits), it.on_demand_usd)
        if best is None or key < best[:2]:
            best = (len(edits), it.on_demand_usd, it, new_raw, edits)
    if best is None:
        return None
    _, _, it, new_raw, edits = best
    changes += edits
    if not changes:
        return None
    return WidenPlan(requirements=new_raw, changes=changes, instance_type=it.name)


def _admit(raw: list[dict[str, Any]], labels: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]] | None:
    out: list[dict[str, Any]] = []
    edits: list[str] = []
    for d in raw:
        key = _DEPRECATED.get(d.get("key", ""), d.get("key", ""))
        op = d.get("operator", "")
        values = [str(v) for v in d.get("values") or []]
        if key not in INSTANCE_LABEL_KEYS or requirement_matches(labels, key, op, values):
            out.append(d)
            continue
        have = labels.get(key)
        if have is None:
            return None
        if op == "In":
            out.append({**d, "values": values + [have]})
            edits.append(f"{key}: add {have}")
        elif op == "NotIn":
            out.append({**d, "values": [v for v in values if v != have]})
            edits.append(f"{key}: stop excluding {have}")
        elif op in ("Gt", "Lt") and int_or_none(have) is not None:
            bound = int(have) - 1 if op == "Gt" else int(have) + 1
            out.append({**d, "values": [str(bound)]})
            edits.append(f"{key}: {op} {bound}")
        else:
            return None
    return out, edits


def nodes_needed(pods: int, per_pod: Decimal, per_node: Decimal) -> int:
    """Nodes of one type needed for `pods` pods each asking `per_pod` of a resource."""
    if per_pod <= 0 or per_node <= 0:
        return 1
    per = max(1, int(per_node // per_pod))
    return max(1, math.ceil(pods / per))
