"""What the fleet overview shows, computed from a snapshot and its findings. No Textual here,
so it is tested (and reasoned about) without a terminal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from checks.cost import ClusterCost, cluster_cost, idle_gpu_node, money, node_cost
from checks.findings import age_text
from checks.gpu import GPU_RESOURCE, LABEL_CAPACITY_TYPE, LABEL_NODEPOOL, OPERANDS
from checks.gpu_nodes import allocatable_gpus, capacity_gpus, gpu_nodes
from checks.gpu_pods import gpus_in_use_by_node, pending_gpu_pods
from checks.k8s import is_terminal, node_is_ready, parse_quantity, pod_requests_view
from checks.model import Finding, ObjectRef, Severity
from checks.nodepool_model import serves_nvidia_gpus
from gputui.report import blocking_incomplete

_TAG_RE = re.compile(r":(v?\d[\w.\-+]*)(?:@sha256:[0-9a-f]+)?$")


@dataclass
class FleetSummary:
    context: str
    server: str
    kubernetes_version: str
    karpenter_version: str
    operator_version: str
    gpu_nodes_ready: int
    gpu_nodes_total: int
    gpus_capacity: int
    gpus_allocatable: int
    gpus_allocated: int
    gpus_expected: int
    pending_gpu_pods: int
    errors: int
    warnings: int
    infos: int
    unreadable: list[str] = field(default_factory=list)
    cost: ClusterCost | None = None


@dataclass
class NodeRow:
    name: str
    nodepool: str
    instance_type: str
    gpu_model: str
    expected: int | None
    capacity: int
    allocatable: int
    allocated: int
    capacity_type: str
    age_seconds: float
    status: str
    worst: Finding | None
    usd_per_hour: float | None = None  # None: the catalogue does not know the instance type
    cost_text: str = ""  # '$1.01/h', '~$0.30/h' for a spot estimate, '?' without a price
    # What the node's unfinished pods request, and what it can give (CPU in cores, memory in bytes),
    # as eks-node-viewer shows them.
    cpu_requested: float = 0.0
    cpu_allocatable: float = 0.0
    memory_requested: float = 0.0
    memory_allocatable: float = 0.0

    @property
    def age(self) -> str:
        return age_text(self.age_seconds)

    @property
    def cpu_share(self) -> float | None:
        """Requested / allocatable CPU; None when the node advertises none."""
        return self.cpu_requested / self.cpu_allocatable if self.cpu_allocatable else None

    @property
    def memory_share(self) -> float | None:
        return self.memory_requested / self.memory_allocatable if self.memory_allocatable else None

    def text(self) -> str:
        """Everything a `/` filter matches against."""
        worst = f"{self.worst.code} {self.worst.severity.label}" if self.worst else ""
        return " ".join(
            (self.name, self.nodepool, self.instance_type, self.gpu_model, self.capacity_type, self.status, worst)
        ).lower()


@dataclass
class NodePoolRow:
    name: str
    is_gpu: bool
    gpus_used: int  # requested by the pods running on the pool's nodes
    gpu_limit: int | None  # None: no nvidia.com/gpu limit
    nodes: int
    weight: int | None
    capacity_types: str
    disruption: str
    ready: str
    usd_per_hour: float | None = None  # the pool's priced nodes; None when none is priced
    cost_estimate: bool = False  # spot estimates in it
    idle_gpus: int = 0  # allocatable GPUs of its idle GPU nodes (checks.cost.idle_gpu_node)
    idle_seconds: float | None = None  # the longest-idle of them; None: none idle, or no time known
    idle_usd_per_hour: float | None = None  # what its idle nodes cost; None when none is priced
    idle_estimate: bool = False

    @property
    def cost_text(self) -> str:
        if self.usd_per_hour is None:
            return "-"
        return f"{'~' if self.cost_estimate else ''}{money(self.usd_per_hour)}"

    @property
    def idle_text(self) -> str:
        """'4 for 2h58m, $5.67/h': idle GPUs, for how long the longest-idle node has been, and
        what the idle nodes cost an hour ('~' for a spot estimate, '?' without a price)."""
        if not self.idle_gpus:
            return "-"
        usd = self.idle_usd_per_hour
        price = "?" if usd is None else f"{'~' if self.idle_estimate else ''}{money(usd)}/h"
        since = f" for {age_text(self.idle_seconds)}" if self.idle_seconds is not None else ""
        return f"{self.idle_gpus}{since}, {price}"


@dataclass
class OperandRow:
    title: str
    name: str
    namespace: str
    desired: int
    ready: int
    available: int
    unavailable: int

    @property
    def healthy(self) -> bool:
        return self.ready >= self.desired


# -- header --------------------------------------------------------------------------


def image_version(image: str) -> str:
    """'public.ecr.aws/karpenter/controller:1.6.2@sha256:..' -> '1.6.2'."""
    m = _TAG_RE.search(image or "")
    return m.group(1) if m else ""


def _deployment_version(snapshot, names: Iterable[str]) -> str:
    wanted = set(names)
    for d in snapshot.deployments:
        labels = d.metadata.labels
        if d.metadata.name in wanted or labels.get("app.kubernetes.io/name") in wanted:
            if labels.get("app.kubernetes.io/version"):
                return labels["app.kubernetes.io/version"]
            containers = (((d.spec.get("template") or {}).get("spec") or {}).get("containers")) or []
            for c in containers:
                v = image_version(c.get("image", ""))
                if v:
                    return v
    return ""


def karpenter_version(snapshot) -> str:
    v = _deployment_version(snapshot, ("karpenter",))
    if v:
        return v
    if snapshot.nodepools or snapshot.nodeclaims:
        return f"installed ({snapshot.karpenter_api_version or 'karpenter.sh'})"
    return "not installed"


def operator_version(snapshot) -> str:
    v = _deployment_version(snapshot, ("gpu-operator",))
    state = ""
    if snapshot.clusterpolicies:
        status = snapshot.clusterpolicies[0].status
        state = (status.get("state") if isinstance(status, dict) else "") or "state unknown"
    if v and state:
        return f"{v} ({state})"
    if v or state:
        return v or f"installed ({state})"
    return "not installed"


def allocated_gpus(snapshot, node_name: str) -> int:
    return gpus_in_use_by_node(snapshot).get(node_name, 0)


def requested(snapshot, node_name: str) -> dict[str, Decimal]:
    """What the unfinished pods on the node request, by resource (checks.k8s.pod_requests)."""
    total: dict[str, Decimal] = {}
    for p in snapshot.pods_by_node.get(node_name, ()):
        if not is_terminal(p):
            for name, q in pod_requests_view(p).items():
                total[name] = total.get(name, Decimal(0)) + q
    return total


def _allocatable(node, resource: str) -> float:
    try:
        return float(parse_quantity((node.status.allocatable or {}).get(resource) or 0))
    except Exception:  # noqa: BLE001 - a malformed quantity shows as no bar
        return 0.0


def summarize(snapshot, findings: list[Finding], kubernetes_version: str = "") -> FleetSummary:
    nodes = gpu_nodes(snapshot)
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    return FleetSummary(
        context=snapshot.context or "",
        server=snapshot.server or "",
        kubernetes_version=kubernetes_version,
        karpenter_version=karpenter_version(snapshot),
        operator_version=operator_version(snapshot),
        gpu_nodes_ready=sum(1 for n, _ in nodes if node_is_ready(n)),
        gpu_nodes_total=len(nodes),
        gpus_capacity=sum(capacity_gpus(n) for n, _ in nodes),
        gpus_allocatable=sum(allocatable_gpus(n) for n, _ in nodes),
        gpus_allocated=sum(allocated_gpus(snapshot, n.metadata.name) for n, _ in nodes),
        gpus_expected=sum(e.count or 0 for _, e in nodes),
        pending_gpu_pods=len(pending_gpu_pods(snapshot)),
        errors=counts[Severity.ERROR],
        warnings=counts[Severity.WARNING],
        infos=counts[Severity.INFO],
        unreadable=[i.resource for i in blocking_incomplete(snapshot)],
        cost=cluster_cost(snapshot),
    )


# -- which findings concern an object --------------------------------------------------


def refs_of(f: Finding) -> list[ObjectRef]:
    return [f.subject, *f.related]


def findings_about(snapshot, findings: list[Finding], ref: ObjectRef) -> list[Finding]:
    """Findings whose subject or related objects are `ref`; for a node also its NodeClaim and pods."""
    keys = {(ref.kind, ref.namespace or "", ref.name)}
    if ref.kind == "Node":
        nc = snapshot.nodeclaims_by_node.get(ref.name) if snapshot else None
        if nc is not None:
            keys.add(("NodeClaim", "", nc.metadata.name))
        for p in snapshot.pods_by_node.get(ref.name, ()) if snapshot else ():
            keys.add(("Pod", p.metadata.namespace or "", p.metadata.name))
    out = []
    for f in findings:
        if any((r.kind, r.namespace or "", r.name) in keys for r in refs_of(f)):
            out.append(f)
    return sorted(out, key=lambda f: f.sort_key)


WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"})


def pods_of(snapshot, ref: ObjectRef) -> list:
    """The pods a node runs, or a workload owns (a Deployment through its ReplicaSets)."""
    if snapshot is None:
        return []
    if ref.kind == "Node":
        return list(snapshot.pods_by_node.get(ref.name, ()))
    if ref.kind not in WORKLOAD_KINDS:
        return []
    ns = ref.namespace or ""
    owners = [(ns, ref.kind, ref.name)]
    if ref.kind == "Deployment":
        owners = [
            (ns, "ReplicaSet", rs.metadata.name)
            for rs in snapshot.replicasets
            if (rs.metadata.namespace or "") == ns
            and any(
                o.controller and o.kind == "Deployment" and o.name == ref.name for o in rs.metadata.owner_references
            )
        ]
    pods: list = []
    for key in owners:
        pods.extend(snapshot.pods_by_owner.get(key, ()))
    return pods


def _worst_by_node(snapshot, findings: list[Finding]) -> dict[str, Finding]:
    """node name -> its worst finding, in one pass over the findings."""
    claim_node = {nc.metadata.name: node for node, nc in snapshot.nodeclaims_by_node.items()}
    best: dict[str, tuple[tuple, Finding]] = {}
    for f in findings:
        for i, r in enumerate(refs_of(f)):
            node = r.name if r.kind == "Node" else claim_node.get(r.name) if r.kind == "NodeClaim" else None
            if not node:
                continue
            # Worst severity first; among equals, a finding about the node itself beats one that mentions it.
            rank = (-int(f.severity), 0 if (i == 0 and r.kind == "Node") else 1, f.code)
            if node not in best or rank < best[node][0]:
                best[node] = (rank, f)
    return {node: f for node, (_, f) in best.items()}


# -- tables --------------------------------------------------------------------------


def short_gpu_model(model: str) -> str:
    """'NVIDIA-A100-SXM4-40GB' -> 'A100-SXM4-40GB': the vendor prefix costs a narrow column its point."""
    return re.sub(r"^(NVIDIA|Tesla)[- ]", "", model, flags=re.I)


def node_status(node) -> str:
    ready = node_is_ready(node)
    parts = ["Ready" if ready else "NotReady"]
    if node.spec.unschedulable:
        parts.append("SchedulingDisabled")
    if node.metadata.deletion_timestamp:
        parts.append("Deleting")
    return ",".join(parts)


def node_rows(snapshot, findings: list[Finding]) -> list[NodeRow]:
    worst = _worst_by_node(snapshot, findings)
    rows = []
    for node, exp in gpu_nodes(snapshot):
        labels = node.metadata.labels
        name = node.metadata.name
        cost = node_cost(node)
        asked = requested(snapshot, name)
        rows.append(
            NodeRow(
                name=name,
                nodepool=labels.get(LABEL_NODEPOOL, ""),
                instance_type=exp.instance_type or labels.get("node.kubernetes.io/instance-type", ""),
                gpu_model=short_gpu_model(exp.model or ""),
                expected=exp.count,
                capacity=capacity_gpus(node),
                allocatable=allocatable_gpus(node),
                allocated=allocated_gpus(snapshot, name),
                capacity_type=cost.capacity_type,  # Karpenter's label, or a managed node group's
                age_seconds=snapshot.age_seconds(node.metadata.creation_timestamp) or 0.0,
                status=node_status(node),
                worst=worst.get(name),
                usd_per_hour=cost.usd_per_hour,
                cost_text=cost.text,
                cpu_requested=float(asked.get("cpu", 0)),
                cpu_allocatable=_allocatable(node, "cpu"),
                memory_requested=float(asked.get("memory", 0)),
                memory_allocatable=_allocatable(node, "memory"),
            )
        )
    rows.sort(key=lambda r: (-(int(r.worst.severity) if r.worst else 0), r.nodepool, r.name))
    return rows


def _requirement_values(np, key: str) -> list[str]:
    reqs = (((np.spec.get("template") or {}).get("spec") or {}).get("requirements")) or []
    for r in reqs:
        if r.get("key") == key and r.get("operator") == "In":
            return list(r.get("values") or [])
    return []


def _int_or_none(value) -> int | None:
    if value is None:
        return None
    try:
        return int(parse_quantity(value))
    except Exception:  # noqa: BLE001 - a malformed limit shows as "no limit", the checks report it
        return None


def disruption_text(np) -> str:
    d = np.spec.get("disruption") or {}
    policy = d.get("consolidationPolicy") or "-"
    after = d.get("consolidateAfter")
    text = policy + (f" after {after}" if after else "")
    budgets = d.get("budgets") or []
    if budgets:
        text += f", budget {budgets[0].get('nodes', '?')}" + (f" +{len(budgets) - 1}" if len(budgets) > 1 else "")
    return text


def nodepool_rows(snapshot) -> list[NodePoolRow]:
    rows = []
    for np in snapshot.nodepools:
        status = np.status if isinstance(np.status, dict) else {}
        ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        nodes = snapshot.nodes_by_nodepool.get(np.metadata.name, [])
        # In use: what the pods running on the pool's nodes request, not what its instances could hold.
        used = sum(allocated_gpus(snapshot, n.metadata.name) for n in nodes)
        priced = [c for c in map(node_cost, nodes) if c.usd_per_hour is not None]
        idle = [i for i in (idle_gpu_node(snapshot, n) for n in nodes) if i is not None]
        idle_priced = [i.cost for i in idle if i.cost.usd_per_hour is not None]
        idle_times = [i.idle_seconds for i in idle if i.idle_seconds is not None]
        rows.append(
            NodePoolRow(
                name=np.metadata.name,
                is_gpu=serves_nvidia_gpus(snapshot, np),
                gpus_used=used,
                gpu_limit=_int_or_none((np.spec.get("limits") or {}).get(GPU_RESOURCE)),
                nodes=len(nodes),
                weight=np.spec.get("weight"),
                capacity_types=",".join(_requirement_values(np, LABEL_CAPACITY_TYPE)) or "any",
                disruption=disruption_text(np),
                ready={"True": "Ready", "False": "NotReady"}.get(ready or "", "Unknown"),
                usd_per_hour=sum(c.usd_per_hour or 0.0 for c in priced) if priced else None,
                cost_estimate=any(c.estimate for c in priced),
                idle_gpus=sum(i.gpus for i in idle),
                idle_seconds=max(idle_times) if idle_times else None,
                idle_usd_per_hour=sum(c.usd_per_hour or 0.0 for c in idle_priced) if idle_priced else None,
                idle_estimate=any(c.estimate for c in idle_priced),
            )
        )
    rows.sort(key=lambda r: (not r.is_gpu, -(r.weight or 0), r.name))
    return rows


def operand_rows(snapshot) -> list[OperandRow]:
    by_name = {o.name: o for o in OPERANDS}
    rows = []
    for ds in snapshot.daemonsets:
        operand = by_name.get(ds.metadata.name)
        app = ((((ds.spec.get("template") or {}).get("metadata") or {}).get("labels")) or {}).get("app", "")
        operand = operand or by_name.get(app)
        if operand is None:
            continue
        st = ds.status if isinstance(ds.status, dict) else {}
        rows.append(
            OperandRow(
                title=operand.title,
                name=ds.metadata.name,
                namespace=ds.metadata.namespace or "",
                desired=int(st.get("desiredNumberScheduled") or 0),
                ready=int(st.get("numberReady") or 0),
                available=int(st.get("numberAvailable") or 0),
                unavailable=int(st.get("numberUnavailable") or 0),
            )
        )
    order = {o.name: i for i, o in enumerate(OPERANDS)}
    rows.sort(key=lambda r: (order.get(r.name, 99), r.namespace, r.name))
    return rows


def usage_bar(used: float, limit: float | None, width: int = 12, percent: bool = False) -> str:
    """'█████░░░░░░░ 31/64', or with `percent` '█████░░░░░░░ 48%'; without a limit only the count."""
    if not limit:
        return f"{used} (no limit)"
    filled = min(width, round(width * used / limit)) if limit > 0 else width
    text = f"{round(100 * used / limit)}%" if percent else f"{used}/{limit}"
    return "█" * filled + "░" * (width - filled) + f" {text}"
