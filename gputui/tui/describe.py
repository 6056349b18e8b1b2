"""`kubectl describe`-like summaries of a Node and a NodePool, as rich Text.

Pure: they read the object (typed, as checks.kinds builds it) and the snapshot it belongs
to (pods on a node, the nodes and NodeClaims of a pool); no cluster calls, no Textual.
Lines stay under 80 columns except the values people paste (labels, taints).

    describe_node(node, snapshot) -> Text
    describe_nodepool(nodepool, snapshot) -> Text
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.text import Text

from checks.findings import age_text
from checks.gpu import (
    GPU_RESOURCE,
    LABEL_CAPACITY_TYPE,
    LABEL_GFD_GPU_COUNT,
    LABEL_INSTANCE_TYPE,
    LABEL_KARPENTER_GPU_COUNT,
    LABEL_NODEPOOL,
    LABEL_ZONE,
)
from checks.k8s import format_quantity, format_taint, is_terminal, node_is_ready, pod_requests, quantity_or_zero
from gputui.tui.widgets.node_table import common_domain

# Resources in the order `kubectl describe node` lists the interesting ones.
_RESOURCES = ("cpu", "memory", GPU_RESOURCE, "ephemeral-storage", "pods")
# Label prefixes set by GPU feature discovery, NFD and Karpenter that say what GPU a node has.
_GPU_LABEL_PREFIXES = (
    "nvidia.com/",
    "karpenter.k8s.aws/instance-gpu",
    "karpenter.k8s.aws/instance-accelerator",
    "feature.node.kubernetes.io/pci-10de",
)
# GFD labels that repeat another one piece by piece, or say nothing about why a GPU is missing.
_GPU_LABEL_NOISE = (
    "nvidia.com/cuda.driver.",
    "nvidia.com/cuda.runtime.",
    "nvidia.com/cuda.driver-version.m",
    "nvidia.com/cuda.driver-version.r",
    "nvidia.com/cuda.runtime-version.m",
    "nvidia.com/gfd.timestamp",
    "nvidia.com/gpu.compute.",
    "nvidia.com/mps.capable",
)


def gpu_labels(labels: dict[str, str]) -> list[tuple[str, str]]:
    """The labels that say what GPU a node has and what the operator deploys on it; a
    `gpu.deploy.*` label is shown only when it turns an operand off."""
    out = []
    for k, v in sorted(labels.items()):
        if not k.startswith(_GPU_LABEL_PREFIXES) or k.startswith(_GPU_LABEL_NOISE):
            continue
        if k.startswith("nvidia.com/gpu.deploy.") and v == "true":
            continue
        out.append((k, v))
    return out


def _section(t: Text, title: str) -> None:
    t.append(f"\n{title}\n", style="bold underline")


def _field(t: Text, label: str, value: str, style: str = "") -> None:
    t.append(f"{label + ':':<15}", style="dim")
    t.append(value, style=style)
    t.append("\n")


def _ago(snapshot, timestamp: str | None) -> str:
    return age_text(snapshot.age_seconds(timestamp)) if snapshot is not None and timestamp else "?"


def _table(
    t: Text, header: tuple[str, ...], rows: list[tuple[Any, ...]], widths: tuple[int, ...], *, header_line: bool = True
) -> None:
    """Columns of fixed width (the last one free); a cell may be (text, style)."""
    if header_line:
        line = "  " + "".join(f"{h:<{w}}" for h, w in zip(header[:-1], widths)) + header[-1]
        t.append(line.rstrip() + "\n", style="dim")
    for row in rows:
        t.append("  ")
        for i, cell in enumerate(row):
            text, style = cell if isinstance(cell, tuple) else (str(cell), "")
            if i < len(widths):
                width = widths[i]
                text = text if len(text) < width else text[: width - 2] + "…"
                t.append(text, style=style)
                t.append(" " * (width - len(text)))
            else:
                t.append(text, style=style)
        t.append("\n")


def _pod_status(p) -> tuple[str, str]:
    from checks.pod_problems import pod_problem

    prob = pod_problem(p)
    if prob is None:
        phase = p.status.phase or "Unknown"
        return phase, "" if phase in ("Running", "Succeeded") else "yellow"
    return prob.status, "bold red" if prob.failing else "yellow"


def _used_on(pods) -> dict[str, Decimal]:
    used: dict[str, Decimal] = {}
    for p in pods:
        if is_terminal(p):
            continue
        for name, q in pod_requests(p).items():
            used[name] = used.get(name, Decimal(0)) + q
    used["pods"] = Decimal(sum(1 for p in pods if not is_terminal(p)))
    return used


def _fmt(value: Any, resource: str) -> str:
    if value is None or value == "":
        return "-"
    return format_quantity(quantity_or_zero(value), resource)


def describe_node(node, snapshot=None) -> Text:
    md, spec, status = node.metadata, node.spec, node.status
    labels = md.labels
    t = Text()
    _field(t, "Name", md.name, "bold")
    ready = node_is_ready(node)
    state = ("Ready" if ready else "NotReady") + (", SchedulingDisabled" if spec.unschedulable else "")
    _field(t, "Status", state, "green" if ready and not spec.unschedulable else "bold red")
    if labels.get(LABEL_INSTANCE_TYPE):
        where = "  ".join(x for x in (labels.get(LABEL_CAPACITY_TYPE), labels.get(LABEL_ZONE)) if x)
        _field(t, "Instance", f"{labels[LABEL_INSTANCE_TYPE]}  {where}".rstrip())
    pool = labels.get(LABEL_NODEPOOL)
    if pool:
        claim = snapshot.nodeclaims_by_node.get(md.name) if snapshot is not None else None
        _field(t, "NodePool", pool + (f"   NodeClaim {claim.metadata.name}" if claim is not None else ""))
    _field(t, "Age", _ago(snapshot, md.creation_timestamp))
    if md.deletion_timestamp:
        _field(t, "Deleting", f"since {_ago(snapshot, md.deletion_timestamp)} ago", "bold yellow")
    if spec.provider_id:
        _field(t, "ProviderID", spec.provider_id)
    info = status.node_info
    if info is not None:
        _field(t, "OS / kernel", f"{info.os_image}  {info.kernel_version}".strip())
        _field(t, "Kubelet", f"{info.kubelet_version}  {info.container_runtime_version}".strip())

    _section(t, "Conditions")
    _table(t, ("TYPE", "STATUS", "REASON", "SINCE"), [], (24, 8, 36))
    for c in status.conditions:
        bad = (c.type == "Ready") != (c.status == "True")
        row = (c.type, (c.status, "bold red" if bad else ""), c.reason or "", _ago(snapshot, c.last_transition_time))
        _table(t, (), [row], (24, 8, 36), header_line=False)
        if bad and c.message:
            t.append(f"    {c.message}\n", style="red")
    if not status.conditions:
        t.append("  none reported\n", style="dim")

    _section(t, "Taints")
    if spec.taints:
        for taint in spec.taints:
            t.append(f"  {format_taint(taint)}\n")
    else:
        t.append("  none\n", style="dim")

    pods = list(snapshot.pods_by_node.get(md.name, ())) if snapshot is not None else []
    used = _used_on(pods)
    _section(t, "Resources")
    names = [r for r in _RESOURCES if r in status.capacity or r in status.allocatable or r in used]
    names += sorted(r for r in status.capacity if r not in names and ("gpu" in r or "neuron" in r))
    expected = labels.get(LABEL_KARPENTER_GPU_COUNT) or labels.get(LABEL_GFD_GPU_COUNT)
    if expected and GPU_RESOURCE not in names:
        names.insert(2, GPU_RESOURCE)
    rows: list[tuple[Any, ...]] = []
    for r in names:
        alloc = quantity_or_zero(status.allocatable.get(r))
        u = used.get(r, Decimal(0))
        pct = f" ({int(u * 100 / alloc)}%)" if alloc else ""
        full = alloc and u >= alloc
        short = r == GPU_RESOURCE and (quantity_or_zero(status.capacity.get(r)) > alloc or not alloc)
        rows.append(
            (
                r,
                _fmt(status.capacity.get(r), r),
                (_fmt(status.allocatable.get(r), r), "bold red" if short else ""),
                (format_quantity(u, r) + pct, "yellow" if full else ""),
            )
        )
    _table(t, ("RESOURCE", "CAPACITY", "ALLOCATABLE", "USED (requests)"), rows, (20, 11, 13))
    if expected and quantity_or_zero(status.allocatable.get(GPU_RESOURCE)) < quantity_or_zero(expected):
        t.append(
            f"  the instance has {expected} GPU(s), the node offers {status.allocatable.get(GPU_RESOURCE) or 'none'}:"
            " is the device plugin running?\n",
            style="bold red",
        )

    shown = gpu_labels(labels)
    _section(t, "GPU labels")
    if shown:
        for k, v in shown:
            t.append(f"  {k}={v}\n")
    else:
        t.append("  none (no GPU feature discovery or Karpenter GPU labels)\n", style="dim")

    live = sorted(pods, key=lambda p: (-int(pod_requests(p).get(GPU_RESOURCE, 0)), p.metadata.namespace or ""))
    _section(t, f"Pods ({len(live)})")
    rows = []
    for p in live:
        gpus = int(pod_requests(p).get(GPU_RESOURCE, 0))
        restarts = sum(cs.restart_count for cs in p.status.container_statuses)
        rows.append(
            (
                p.metadata.namespace or "",
                p.metadata.name,
                _pod_status(p),
                str(gpus or ""),
                (str(restarts), "bold red" if restarts else ""),
                _ago(snapshot, p.metadata.creation_timestamp),
            )
        )
    if rows:
        _table(t, ("NAMESPACE", "POD", "STATUS", "GPUS", "RESTARTS", "AGE"), rows, (13, 34, 14, 5, 9))
    else:
        t.append("  none\n", style="dim")
    return t


def _requirement(r: dict) -> str:
    values = r.get("values") or []
    op = r.get("operator", "")
    text = f"{r.get('key', '')} {op}"
    if values:
        text += " " + ",".join(str(v) for v in values)
    if r.get("minValues"):
        text += f" (minValues {r['minValues']})"
    return text


def describe_nodepool(nodepool, snapshot=None) -> Text:
    md, spec, status = nodepool.metadata, nodepool.spec or {}, nodepool.status or {}
    template = (spec.get("template") or {}).get("spec") or {}
    t = Text()
    _field(t, "Name", md.name, "bold")
    if nodepool.api_version:
        _field(t, "API version", nodepool.api_version)
    ref = template.get("nodeClassRef") or {}
    if ref:
        _field(t, "NodeClass", f"{ref.get('kind', 'EC2NodeClass')} {ref.get('name', '?')}")
    if spec.get("weight") is not None:
        _field(t, "Weight", str(spec["weight"]))
    _field(t, "Age", _ago(snapshot, md.creation_timestamp))
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            ok = c.get("status") == "True"
            why = f" ({c.get('reason')}: {c.get('message')})" if not ok and c.get("message") else ""
            _field(t, "Ready", f"{c.get('status')}{why}", "green" if ok else "bold red")

    nodes = list(snapshot.nodes_by_nodepool.get(md.name, ())) if snapshot is not None else []
    claims = list(snapshot.nodeclaims_by_nodepool.get(md.name, ())) if snapshot is not None else []
    pods_by_node = snapshot.pods_by_node if snapshot is not None else {}

    # Limits against what the pool runs: Karpenter's own count (status.resources) when it keeps
    # one, else the nodes' capacity; GPUs requested by pods say how much of it is in use.
    counted: dict[str, Decimal] = {k: quantity_or_zero(v) for k, v in (status.get("resources") or {}).items()}
    if not counted:
        for n in nodes:
            for k, v in n.status.capacity.items():
                counted[k] = counted.get(k, Decimal(0)) + quantity_or_zero(v)
    gpus_requested = sum(
        (
            pod_requests(p).get(GPU_RESOURCE, Decimal(0))
            for n in nodes
            for p in pods_by_node.get(n.metadata.name, ())
            if not is_terminal(p)
        ),
        Decimal(0),
    )
    limits = spec.get("limits") or {}
    _section(t, "Limits")
    rows: list[tuple[Any, ...]] = []
    for r in sorted(set(limits) | ({GPU_RESOURCE} if GPU_RESOURCE in counted else set())):
        limit = limits.get(r)
        have = counted.get(r, Decimal(0))
        over = limit is not None and have >= quantity_or_zero(limit)
        used = format_quantity(gpus_requested, r) if r == GPU_RESOURCE else ""
        rows.append(
            (
                r,
                _fmt(limit, r) if limit is not None else "none",
                (format_quantity(have, r), "bold red" if over else ""),
                used,
            )
        )
    if rows:
        _table(t, ("RESOURCE", "LIMIT", "IN POOL", "REQUESTED BY PODS"), rows, (20, 10, 10))
    else:
        t.append("  no limits\n", style="dim")

    disruption = spec.get("disruption") or {}
    _section(t, "Disruption")
    policy = disruption.get("consolidationPolicy", "WhenEmptyOrUnderutilized")
    after = disruption.get("consolidateAfter")
    t.append(f"  consolidation {policy}" + (f" after {after}" if after else "") + "\n")
    expire = template.get("expireAfter") or disruption.get("expireAfter")
    if expire:
        t.append(f"  expireAfter {expire}\n")
    if template.get("terminationGracePeriod"):
        t.append(f"  terminationGracePeriod {template['terminationGracePeriod']}\n")
    budgets = disruption.get("budgets")
    if budgets is None:
        t.append("  budgets: default (nodes 10%)\n", style="dim")
    for b in budgets or []:
        line = f"  budget nodes {b.get('nodes', '10%')}"
        if b.get("reasons"):
            line += " for " + ",".join(b["reasons"])
        if b.get("schedule"):
            line += f" during '{b['schedule']}' for {b.get('duration', '?')}"
        style = "yellow" if str(b.get("nodes")) in ("0", "0%") else ""
        t.append(line + "\n", style=style)

    _section(t, "Requirements")
    reqs = template.get("requirements") or []
    for r in reqs:
        t.append(f"  {_requirement(r)}\n")
    if not reqs:
        t.append("  none\n", style="dim")
    taints = template.get("taints") or []
    startup = template.get("startupTaints") or []
    if taints or startup:
        _section(t, "Taints")
        for tt in taints:
            t.append(f"  {tt.get('key')}{'=' + str(tt['value']) if tt.get('value') else ''}:{tt.get('effect')}\n")
        for tt in startup:
            t.append(f"  {tt.get('key')}:{tt.get('effect')} (startup)\n", style="dim")

    _section(t, f"Nodes ({len(nodes)})")
    domain = common_domain(n.metadata.name for n in nodes)
    if domain:
        t.append(f"  (names end in {domain})\n", style="dim")
    rows = []
    for n in sorted(nodes, key=lambda n: n.metadata.name):
        ready = node_is_ready(n)
        state = ("Ready" if ready else "NotReady") + (",Cordoned" if n.spec.unschedulable else "")
        gpus_used = sum(
            (
                pod_requests(p).get(GPU_RESOURCE, Decimal(0))
                for p in pods_by_node.get(n.metadata.name, ())
                if not is_terminal(p)
            ),
            Decimal(0),
        )
        alloc = n.status.allocatable.get(GPU_RESOURCE)
        rows.append(
            (
                n.metadata.name.removesuffix(domain) if domain else n.metadata.name,
                (state, "green" if ready and not n.spec.unschedulable else "bold red"),
                n.metadata.labels.get(LABEL_INSTANCE_TYPE, "?"),
                f"{format_quantity(gpus_used)}/{alloc or 0}",
                _ago(snapshot, n.metadata.creation_timestamp),
            )
        )
    if rows:
        _table(t, ("NODE", "STATUS", "TYPE", "GPUS", "AGE"), rows, (26, 18, 14, 6))
    else:
        t.append("  none\n", style="dim")

    _section(t, f"NodeClaims ({len(claims)})")
    rows = []
    for c in sorted(claims, key=lambda c: c.metadata.name):
        conds = {x.get("type"): x for x in c.status.get("conditions") or []}
        if c.metadata.deletion_timestamp:
            state, style = "Terminating", "yellow"
        elif (conds.get("Ready") or {}).get("status") == "True":
            state, style = "Ready", "green"
        else:
            bad = next(
                (k for k in ("Launched", "Registered", "Initialized") if (conds.get(k) or {}).get("status") != "True"),
                None,
            )
            state, style = (f"not {bad}" if bad else "NotReady"), "bold red"
        rows.append(
            (
                c.metadata.name,
                (state, style),
                _ago(snapshot, c.metadata.creation_timestamp),
                (c.status.get("nodeName") or "-").removesuffix(domain) if domain else c.status.get("nodeName") or "-",
            )
        )
    if rows:
        _table(t, ("NODECLAIM", "STATE", "AGE", "NODE"), rows, (26, 16, 8))
    else:
        t.append("  none\n", style="dim")
    return t
