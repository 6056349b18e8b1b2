"""What a NodePool draft means, computed fresh on every edit: the instance types it
admits (with GPU, size and price facts), the largest pod one node can hold, what the
limits mean in nodes and dollars per hour, whether the budgets let Karpenter disrupt
nodes right now, and the findings the checks raise on the draft.

Prices are the catalogue's us-east-1 estimates (checks.instances): good for comparing
choices, not for billing.

Public API:
    build_preview(draft_obj, snapshot=None, now=None) -> Preview
    draft_snapshot(snapshot, draft_obj) -> ClusterSnapshot     (the live snapshot with the draft in place)
    draft_findings(snapshot, draft_obj) -> list[Finding]
    capacity_types(draft_obj) -> list[str]
    disruption_now(draft_obj, now, nodes) -> list[ReasonState]
    preview_lines(preview) -> list[str]                        (plain text, for the CLI and the screen)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from checks.cron import Cron, format_duration, parse_duration
from checks.gpu import LABEL_CAPACITY_TYPE, LABEL_NODEPOOL
from checks.instances import InstanceType
from checks.k8s import format_quantity, quantity_or_zero, requirement_matches
from checks.kinds import Object, to_struct

CAPACITY_TYPES = ("spot", "on-demand", "reserved")
REASONS = ("Empty", "Underutilized", "Drifted")
# Checks whose findings about a NodePool also belong in the draft preview, besides the
# nodepool-draft ones.
PREVIEW_CLUSTER_CHECKS = ("GPU308", "GPU501")


@dataclass
class InstanceRow:
    name: str
    gpu_model: str
    gpu_count: int
    gpu_memory_gib: float  # per GPU
    vcpu: int
    memory_gib: int
    on_demand_usd: float
    spot_usd: float


@dataclass
class LimitLine:
    resource: str
    limit: str
    used: str | None
    text: str


@dataclass
class ReasonState:
    reason: str
    allowed: int | None  # nodes Karpenter may disrupt now for this reason; None: not used by this policy
    text: str


@dataclass
class Preview:
    name: str
    instance_types: list[InstanceRow] = field(default_factory=list)
    capacity_types: list[str] = field(default_factory=list)
    largest_pod: str = ""
    limits: list[LimitLine] = field(default_factory=list)
    spend: str = ""
    disruption: list[ReasonState] = field(default_factory=list)
    findings: list = field(default_factory=list)
    v1_changes: list[str] = field(default_factory=list)
    pending_fit: list[str] = field(default_factory=list)  # pending workloads the draft would take


def _np(obj: dict) -> Object:
    d = dict(obj)
    d.setdefault("metadata", {})
    return to_struct(d, Object)


def capacity_types(obj: dict) -> list[str]:
    """Capacity types the draft admits; Karpenter defaults to on-demand when none is named."""
    reqs = [
        r
        for r in (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("requirements") or []
        if r.get("key") == LABEL_CAPACITY_TYPE
    ]
    if not reqs:
        return ["on-demand"]
    return [
        c
        for c in CAPACITY_TYPES
        if all(
            requirement_matches(
                {LABEL_CAPACITY_TYPE: c},
                LABEL_CAPACITY_TYPE,
                r.get("operator", ""),
                [str(v) for v in r.get("values") or []],
            )
            for r in reqs
        )
    ]


def _row(it: InstanceType) -> InstanceRow:
    count = it.gpu_count or it.accelerator_count
    return InstanceRow(
        it.name,
        it.gpu_model,
        count,
        round(it.gpu_memory_mib / 1024, 1),
        it.vcpu,
        it.memory_mib // 1024,
        it.on_demand_usd,
        it.spot_usd,
    )


def _price(it: InstanceType, caps: list[str]) -> tuple[float, float]:
    """(cheapest, dearest) hourly price among the admitted capacity types."""
    prices = []
    if "spot" in caps:
        prices.append(it.spot_usd)
    if "on-demand" in caps or "reserved" in caps or not prices:
        prices.append(it.on_demand_usd)
    return min(prices), max(prices)


def _largest_pod(types: list[InstanceType], overhead: dict[str, Decimal]) -> str:
    if not types:
        return ""
    it = max(types, key=lambda t: (t.gpu_count + t.accelerator_count, t.vcpu, t.memory_mib))
    cpu = it.allocatable["cpu"] - overhead.get("cpu", Decimal(0))
    mem = it.allocatable["memory"] - overhead.get("memory", Decimal(0))
    acc = ""
    if it.gpu_count:
        acc = f"{it.gpu_count} GPU{'s' if it.gpu_count != 1 else ''} ({it.gpu_model}), "
    elif it.accelerator_count:
        acc = f"{it.accelerator_count} Neuron device{'s' if it.accelerator_count != 1 else ''}, "
    return (
        f"{acc}{float(cpu):g} CPU, {format_quantity(mem, 'memory')} memory on one {it.name} (after daemonset overhead)"
    )


def _limit_lines(obj: dict, types: list[InstanceType], caps: list[str]) -> tuple[list[LimitLine], str]:
    spec = obj.get("spec") or {}
    limits = spec.get("limits") or {}
    used = ((obj.get("status") or {}).get("resources")) or {}
    lines = []
    for r, v in limits.items():
        lim = quantity_or_zero(v)
        u = used.get(r)
        fitting = [(it, it.capacity.get(r, Decimal(0))) for it in types if it.capacity.get(r, Decimal(0)) > 0]
        if fitting:
            counts = [int(lim // cap) for _it, cap in fitting]
            lo, hi = min(counts), max(counts)
            text = f"at most {lo}-{hi} nodes" if lo != hi else f"at most {lo} node{'s' if lo != 1 else ''}"
        else:
            text = "no admitted instance type has this resource"
        if u is not None:
            left = lim - quantity_or_zero(u)
            text += (
                f"; {format_quantity(quantity_or_zero(u), r)} in use, {format_quantity(max(left, Decimal(0)), r)} left"
            )
        lines.append(LimitLine(r, str(v), None if u is None else str(u), text))
    # Spend at the limits: per type, the node count the tightest limit allows, times its price.
    constrained = [r for r in limits if any(it.capacity.get(r, Decimal(0)) > 0 for it in types)]
    if not types:
        return lines, ""
    if not constrained:
        return lines, "no limit caps the node count: spend is unbounded"
    worst = None
    for it in types:
        counts = [
            int(quantity_or_zero(limits[r]) // it.capacity[r])
            for r in constrained
            if it.capacity.get(r, Decimal(0)) > 0
        ]
        if not counts:
            continue
        n = min(counts)
        price_lo, price_hi = _price(it, caps)
        cost = (n * price_lo, n * price_hi, n, it.name)
        if worst is None or cost[1] > worst[1]:
            worst = cost
    if worst is None:
        return lines, ""
    lo_cost, hi_cost, n, name = worst
    money = f"${hi_cost:,.0f}/h" if lo_cost == hi_cost else f"${lo_cost:,.0f}-{hi_cost:,.0f}/h"
    return lines, f"at the limits: up to {money} ({n} x {name})"


def _total_nodes(obj: dict, snapshot) -> int:
    status_nodes = (obj.get("status") or {}).get("nodes")
    if isinstance(status_nodes, int):
        return status_nodes
    if snapshot is None:
        return 0
    name = (obj.get("metadata") or {}).get("name")
    return sum(1 for n in snapshot.nodes if n.metadata.labels.get(LABEL_NODEPOOL) == name)


def _allowed_nodes(nodes: str, total: int) -> int:
    nodes = str(nodes)
    if nodes.endswith("%"):
        return math.ceil(total * int(nodes[:-1]) / 100)
    return int(nodes)


def disruption_now(obj: dict, now: dt.datetime, total_nodes: int) -> list[ReasonState]:
    """Per disruption reason, how many nodes the budgets let Karpenter disrupt at `now`,
    which budget decides, and when that changes."""
    disruption = ((obj.get("spec") or {}).get("disruption")) or {}
    budgets = disruption.get("budgets")
    if budgets is None:
        budgets = [{"nodes": "10%"}]
    policy = disruption.get("consolidationPolicy", "WhenEmptyOrUnderutilized")
    after = str(disruption.get("consolidateAfter", ""))
    out = []
    for reason in REASONS:
        if reason == "Underutilized" and policy == "WhenEmpty":
            out.append(ReasonState(reason, None, "not considered (consolidationPolicy WhenEmpty)"))
            continue
        if reason in ("Empty", "Underutilized") and after == "Never":
            out.append(ReasonState(reason, None, "consolidation off (consolidateAfter Never)"))
            continue
        best: tuple[int, str] | None = None
        change: dt.datetime | None = None
        for i, b in enumerate(budgets, 1):
            if b.get("reasons") and reason not in b["reasons"]:
                continue
            try:
                n = _allowed_nodes(b.get("nodes", "10%"), total_nodes)
            except ValueError:
                continue
            label = f"budget {i} (nodes {b.get('nodes', '10%')}"
            if b.get("schedule"):
                try:
                    cron = Cron.parse(b["schedule"])
                    dur = parse_duration(b.get("duration") or "0m")
                except ValueError as e:
                    out_text = f"budget {i} unreadable: {e}"
                    best = best or (0, out_text)
                    continue
                hit = cron.last_hit(now, dur)
                if hit is None:
                    nxt = cron.next_hit(now)
                    if nxt is not None and (change is None or nxt < change):
                        change = nxt
                    continue
                end = hit + dur
                if change is None or end < change:
                    change = end
                label += f', "{b["schedule"]}" for {b.get("duration")}, active until {end:%a %H:%M} UTC'
            label += ")"
            if best is None or n < best[0]:
                best = (n, label)
        if best is None:
            out.append(ReasonState(reason, None, "no budget applies: not limited"))
            continue
        n, label = best
        text = f"{'blocked' if n == 0 else f'up to {n} node' + ('s' if n != 1 else '')} by {label}"
        if change is not None:
            text += f"; budgets change in {format_duration(change - now)} ({change:%a %H:%M} UTC)"
        out.append(ReasonState(reason, n, text))
    return out


def draft_snapshot(snapshot, obj: dict):
    """The snapshot as the checks should see it with the draft in place of the live NodePool."""
    from checks.nodepool_draft import mark_draft
    from checks.snapshot import ClusterSnapshot

    marked = _np(mark_draft(obj))
    marked.api_version = obj.get("apiVersion", "")
    marked.kind = "NodePool"
    if snapshot is None:
        snap = ClusterSnapshot(source="snapshot")
        snap.nodepools = [marked]
        return snap
    name = marked.metadata.name
    pools = [np for np in snapshot.nodepools if np.metadata.name != name] + [marked]
    snap = dataclasses.replace(snapshot, nodepools=pools)
    _share_indexes(snapshot, snap)
    return snap


def _share_indexes(src, dst) -> None:
    """Reuse the live snapshot's indexes that do not depend on NodePools: rebuilding the
    event and pod indexes of a big cluster on every keystroke would make the preview lag."""
    import functools

    for name, attr in vars(type(src)).items():
        if isinstance(attr, functools.cached_property) and "nodepool" not in name and name in src.__dict__:
            dst.__dict__[name] = src.__dict__[name]
    memo = src.__dict__.get("_derived_indexes")
    if memo:
        dst.__dict__["_derived_indexes"] = {k: v for k, v in memo.items() if "nodepool" not in k}


def draft_findings(snapshot, obj: dict) -> list:
    """Findings about the draft NodePool: the nodepool-draft checks plus the cluster checks
    that judge a NodePool's limits and disruption."""
    import checks  # noqa: F401  (registers every check)
    from checks.registry import REGISTRY, run_checks

    snap = draft_snapshot(snapshot, obj)
    selected = [c for c in REGISTRY.all() if c.scope == "nodepool-draft" or c.code in PREVIEW_CLUSTER_CHECKS]
    name = (obj.get("metadata") or {}).get("name")
    return [
        f
        for f in run_checks(snap, selected)
        if any(r.kind == "NodePool" and r.name == name for r in [f.subject, *f.related])
    ]


def _pending_fit(snapshot, obj: dict) -> list[str]:
    """Pending GPU workloads the draft NodePool could take."""
    if snapshot is None:
        return []
    from checks.gpu_pods import unscheduled_gpu_pods
    from checks.nodepool_model import is_nvidia_nodepool
    from checks.nodepools import evaluate_nodepool, pod_aims_at_nodepool
    from checks.workloads import group_by_workload

    np = _np(obj)
    gpu_pool = is_nvidia_nodepool(np)
    pods = [p for p in unscheduled_gpu_pods(snapshot) if pod_aims_at_nodepool(np, p, gpu_pool)]
    out = []
    for wl in group_by_workload(snapshot, pods):
        v = evaluate_nodepool(np, wl.pods[0])
        if v.fits:
            out.append(
                f"{wl.ref.kind} {wl.ref.namespace}/{wl.ref.name}: {len(wl.pods)} pending pod"
                f"{'s' if len(wl.pods) != 1 else ''} would fit ({', '.join(v.candidate_types[:3])})"
            )
    return out


def build_preview(obj: dict, snapshot=None, now: dt.datetime | None = None) -> Preview:
    from checks.nodepool_draft import v1_changes
    from checks.nodepools import DEFAULT_DAEMONSET_OVERHEAD, allowed_instance_types, daemonset_overhead

    np = _np(obj)
    now = now or (snapshot.now if snapshot is not None else dt.datetime.now(dt.timezone.utc))
    types = [it for it in allowed_instance_types(np) if it.gpu_count or it.accelerator_count]
    caps = capacity_types(obj)
    overhead = dict(DEFAULT_DAEMONSET_OVERHEAD)
    if snapshot is not None and snapshot.daemonsets:
        overhead = daemonset_overhead(snapshot.daemonsets, np) or overhead
    p = Preview(name=np.metadata.name)
    p.instance_types = [_row(it) for it in types]
    p.capacity_types = caps
    p.largest_pod = _largest_pod(types, overhead)
    p.limits, p.spend = _limit_lines(obj, types, caps)
    p.disruption = disruption_now(obj, now, _total_nodes(obj, snapshot))
    p.findings = draft_findings(snapshot, obj)
    p.v1_changes = v1_changes(obj)
    p.pending_fit = _pending_fit(snapshot, obj)
    return p


def _money(v: float) -> str:
    return f"${v:,.2f}"


def instance_table(rows: list[InstanceRow], caps: list[str], limit: int = 0) -> list[str]:
    spot = "spot" in caps
    # Narrow enough for the editor's preview pane beside the form at 120 columns.
    head = f"{'TYPE':<14} {'GPU':<10} {'N':>2} {'GPU GiB':>7} {'vCPU':>4} {'MEM GiB':>7} {'OD $/h':>7}"
    head += f" {'spot $/h':>8}" if spot else ""
    lines = [head]
    shown = rows if not limit else rows[:limit]
    for r in shown:
        # The chip alone (A100, H100, L40S): the memory column says which variant.
        model = r.gpu_model.replace("NVIDIA ", "").replace("Tesla ", "").split(" ")[0].split("-")[0]
        line = (
            f"{r.name:<14} {model[:10]:<10} {r.gpu_count:>2} {r.gpu_memory_gib:>7g} {r.vcpu:>4} "
            f"{r.memory_gib:>7} {_money(r.on_demand_usd):>7}"
        )
        if spot:
            line += f" {_money(r.spot_usd):>8}"
        lines.append(line)
    if limit and len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more")
    return lines


def preview_lines(p: Preview, max_types: int = 0) -> list[str]:
    lines = [f"Instance types ({len(p.instance_types)}; capacity: {', '.join(p.capacity_types) or 'none'}):"]
    if p.instance_types:
        lines += ["  " + x for x in instance_table(p.instance_types, p.capacity_types, max_types)]
    else:
        lines.append("  none: the requirements admit no GPU or Neuron instance type gputui knows")
    if p.largest_pod:
        lines.append(f"Largest pod: {p.largest_pod}")
    lines.append("Limits:" + ("" if p.limits else " none"))
    for lim in p.limits:
        lines.append(f"  {lim.resource} {lim.limit}: {lim.text}")
    if p.spend:
        lines.append(f"  {p.spend}")
    lines.append("Disruption now:")
    for r in p.disruption:
        lines.append(f"  {r.reason}: {r.text}")
    if p.pending_fit:
        lines.append("Pending GPU work this NodePool would take:")
        lines += ["  " + x for x in p.pending_fit]
    if p.v1_changes:
        lines.append("karpenter.sh/v1 would change (nothing is converted unless you do it):")
        lines += ["  - " + x for x in p.v1_changes]
    lines.append("Findings:" + ("" if p.findings else " none"))
    for f in p.findings:
        lines.append(f"  {f.severity.label.upper():<7} {f.code} {f.message}")
    return lines
