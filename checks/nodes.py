"""Area nodes (GPU1xx): does every GPU node expose the GPUs it has?

The diagnosis walks the chain driver → container toolkit → device plugin →
allocatable on the node and names the first broken link, with the exact reason
(the taint the DaemonSet does not tolerate, the deploy label that is missing, the
container that crashes and its last log lines).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from checks import fixplans
from checks.conditions import condition, condition_text
from checks.findings import age_text, ref
from checks.fix_kinds import FixKind
from checks.gpu import GPU_RESOURCE
from checks.gpu_nodes import GpuExpectation, allocatable_gpus, capacity_gpus, gpu_nodes, node_age
from checks.kinds import Node
from checks.model import Finding, Severity
from checks.operands import (
    daemonset_pods_on,
    device_plugin_daemonsets,
)
from checks.pod_problems import log_excerpt
from checks.readiness_chain import (
    ACCELERATED_HW,
    ChainDiagnosis,
    diagnose_chain,
    gpu_less_nodes,
    is_young,
    leaving_note,
    mig_resources,
    nodeclaim_evidence,
)
from checks.registry import Check, check
from checks.timestamps import parse_time
from checks.transitions import NODE_FIRST_BOOT, deadline_text, elapsed_text

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

READS_CHAIN = ("nodes", "pods", "daemonsets", "nodeclaims", "clusterpolicies", "events", "logs")
REPAIR_AFTER = {ACCELERATED_HW: 600, "Ready": 1800}


def _not_ready_note(node: Node) -> str | None:
    ready = condition(node, "Ready")
    if ready and ready.get("status") != "True":
        return f"node condition {condition_text(ready)}: the kubelet may not be reporting allocatable at all"
    return None


@check(
    "GPU101",
    "gpu-not-allocatable",
    Severity.ERROR,
    "GPU node reports no allocatable nvidia.com/gpu",
    reads=READS_CHAIN,
    fixes=(
        FixKind.CLUSTERPOLICY_TOLERATIONS,
        FixKind.ADD_TOLERATION,
        FixKind.RESTART_OPERAND_POD,
        FixKind.DELETE_NODECLAIM,
    ),
)
def gpu_not_allocatable(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU node whose allocatable nvidia.com/gpu is 0 or missing, with the broken link named.

    What it checks:
        Every node that should have NVIDIA GPUs — by instance type, the Karpenter label
        karpenter.k8s.aws/instance-gpu-count, its NodeClaim's capacity, the NFD label
        feature.node.kubernetes.io/pci-10de.present or the GFD label nvidia.com/gpu.count —
        but whose status.allocatable["nvidia.com/gpu"] is 0 or absent. It walks the chain
        driver pod → container toolkit pod → device plugin pod on that node and names the
        first link that is broken: no pod there (and why: the DaemonSet does not tolerate a
        node taint, the nvidia.com/gpu.deploy.* label is missing or false, the operator is
        not installed), a pod crash-looping or stuck in Init (container, reason, exit code,
        restarts, last log lines), or a plugin that runs but found no devices. It links the
        node's NodeClaim (Initialized=Unknown, ResourceNotRegistered). Nodes younger than 10
        minutes whose operands are still starting are GPU102 instead.

    Why it matters:
        Pods requesting nvidia.com/gpu can never schedule on this node, yet you pay for the
        GPU instance. Karpenter sees the node as not initialized: it will not consolidate
        it, and it may launch more GPU nodes that end up the same way.

    How to fix:
        Follow the named link. A taint not tolerated: add the toleration to ClusterPolicy
        spec.daemonsets.tolerations (fix clusterpolicy-tolerations). A missing deploy
        label: check that NFD labelled the node pci-10de and that the gpu-operator pod is
        healthy. A crashing driver/toolkit/plugin pod: read its log (`kubectl logs -n
        gpu-operator <pod> -c <container> --previous`), fix the cause (driver version vs
        kernel, AMI that already ships a driver, image pull), then restart the pod. If the
        node itself is bad, delete its NodeClaim so Karpenter replaces it.

    Severity:
        Error by default: the node's GPUs cannot be used now. Info while Karpenter is
        draining or deleting the node, inside that window (15 minutes). A node still inside
        its first-boot window is reported by GPU102 at info instead.
    """
    for node, exp in gpu_less_nodes(snapshot):
        diag = diagnose_chain(snapshot, node)
        if is_young(snapshot, node) and not diag.hard:
            continue  # GPU102
        yield _chain_finding(snapshot, gpu_not_allocatable, node, exp, diag)


@check(
    "GPU102",
    "gpu-node-initializing",
    Severity.INFO,
    "GPU node still initializing (GPUs not advertised yet)",
    reads=READS_CHAIN,
    fixes=(
        FixKind.CLUSTERPOLICY_TOLERATIONS,
        FixKind.ADD_TOLERATION,
        FixKind.RESTART_OPERAND_POD,
    ),
)
def gpu_node_initializing(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A new GPU node whose GPU operands are still starting.

    What it checks:
        The same symptom as GPU101 — allocatable nvidia.com/gpu is 0 — on a node younger
        than 10 minutes, where nothing is broken yet: the driver is still compiling or
        loading, the toolkit or device plugin is still in Init waiting for it.

    Why it matters:
        Usually nothing: a driver container takes a few minutes on first boot. GPU pods
        stay Pending meanwhile. If the node is still in this state after 10 minutes it
        becomes GPU101.

    How to fix:
        Wait. To watch progress: `kubectl get pods -n gpu-operator -o wide
        --field-selector spec.nodeName=<node>`.

    Severity:
        Always info: the node is still inside its first-boot window; once it is past it,
        GPU101 reports it as an error.
    """
    for node, exp in gpu_less_nodes(snapshot):
        if not is_young(snapshot, node):
            continue
        diag = diagnose_chain(snapshot, node)
        if diag.hard:
            continue
        yield _chain_finding(snapshot, gpu_node_initializing, node, exp, diag)


def _chain_finding(
    snapshot: ClusterSnapshot, chk: Check, node: Node, exp: GpuExpectation, diag: ChainDiagnosis
) -> Finding:
    name = node.metadata.name
    seconds = node_age(snapshot, node)
    age = age_text(seconds)
    nc_ev, nc_rel, nc = nodeclaim_evidence(snapshot, node)
    alloc = node.status.allocatable.get(GPU_RESOURCE)
    have = "0 allocatable" if alloc is not None else f"no {GPU_RESOURCE} in allocatable"
    evidence = [
        f"expected GPUs from {exp.source}; allocatable {GPU_RESOURCE}={alloc if alloc is not None else 'absent'}"
        f", capacity {node.status.capacity.get(GPU_RESOURCE, 'absent')}"
    ]
    evidence += diag.evidence + nc_ev
    if chk is gpu_not_allocatable and (diag.timed or not diag.hard) and not is_young(snapshot, node):
        evidence.append(f"node up {elapsed_text(NODE_FIRST_BOOT, seconds)}")
    note = _not_ready_note(node)
    if note:
        evidence.append(note)
    fixes = list(diag.fixes)
    severity = None
    if chk is gpu_not_allocatable:
        message = f"{name} ({exp.describe()}, up {age}) has {have}: {diag.summary}"
        if nc is not None:
            fixes.append(fixplans.delete_nodeclaim(nc))
        going = leaving_note(snapshot, node)
        if going is not None and going[0]:
            severity = Severity.INFO
            message = f"{name} ({exp.describe()}) is {going[1]}; it has {have}: {diag.summary}"
            fixes = []
        elif going is not None:
            evidence.append(f"node {going[1]}")
    else:
        message = (
            f"{name} ({exp.describe()}) is {age} old and has {have} yet: {diag.summary}; give it a few minutes "
            f"({deadline_text(NODE_FIRST_BOOT, seconds)})"
        )
    return chk.finding(
        message, ref(node, "Node"), severity=severity, related=diag.related + nc_rel, evidence=evidence, fixes=fixes
    )


@check(
    "GPU103",
    "gpu-allocatable-below-capacity",
    Severity.WARNING,
    "GPU node advertises fewer GPUs than it has",
    reads=("nodes", "pods", "daemonsets", "nodeclaims", "logs"),
    fixes=(
        FixKind.CORDON_NODE,
        FixKind.DELETE_NODECLAIM,
    ),
)
def gpu_allocatable_below_capacity(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """Some, not all, of a node's GPUs are allocatable.

    What it checks:
        Nodes where 0 < allocatable nvidia.com/gpu < capacity nvidia.com/gpu (the device
        plugin marked devices unhealthy, typically after an Xid or ECC error), or where
        allocatable is below the GPU count of the instance type (the driver does not see
        every GPU: a GPU fell off the bus, or a hardware fault).

    Why it matters:
        Multi-GPU pods that need the full node stay Pending, and the unhealthy GPU is still
        billed. Xid 79 ("fallen off the bus") and double-bit ECC errors do not heal without a
        reboot or instance replacement.

    How to fix:
        Look at the device plugin log for "device marked unhealthy" and at `dmesg` on the
        node for NVRM Xid lines (gputui's nvidia-smi debug pod shows both). Cordon the node
        so no new work lands there, let running jobs finish, then delete its NodeClaim (or
        the node) so Karpenter replaces the instance.

    Severity:
        Always warning: some of the node's GPUs are billed but cannot be scheduled.
    """
    for node, exp in gpu_nodes(snapshot):
        alloc, cap = allocatable_gpus(node), capacity_gpus(node)
        if alloc == 0 or mig_resources(node):
            continue
        expected = max(cap, exp.count or 0)
        if alloc >= expected:
            continue
        name = node.metadata.name
        ev = [
            f"allocatable {GPU_RESOURCE}={alloc}, capacity {cap}, expected {exp.count if exp.count else '?'} "
            f"(from {exp.source})"
        ]
        if cap and alloc < cap:
            cause = f"{cap - alloc} of {cap} GPUs are marked unhealthy by the device plugin"
        else:
            cause = f"the driver sees {cap} GPU(s) but the instance type has {exp.count}"
        hw = condition(node, ACCELERATED_HW)
        if hw and hw.get("status") == "False":
            ev.append(f"node condition {condition_text(hw)}")
        related = []
        for ds in device_plugin_daemonsets(snapshot):
            for p in daemonset_pods_on(snapshot, ds, name):
                related.append(ref(p, "Pod"))
                for c in p.spec.containers[:1]:
                    ev.extend(log_excerpt(snapshot, p, c.name))
        for e in snapshot.events_for("Node", name)[-3:]:
            if e.type == "Warning":
                ev.append(f"event {e.reason}: {e.message}")
        fixes = [] if node.spec.unschedulable else [fixplans.cordon_node(node)]
        nc = snapshot.nodeclaims_by_node.get(name)
        if nc is not None:
            related.append(ref(nc, "NodeClaim"))
            fixes.append(fixplans.delete_nodeclaim(nc))
        yield gpu_allocatable_below_capacity.finding(
            f"{name} ({exp.describe()}) advertises {alloc} of {expected} GPUs: {cause}; cordon it and "
            "replace the instance once running jobs finish",
            ref(node, "Node"),
            related=related,
            evidence=ev,
            fixes=fixes,
        )


def _repair_deadline(snapshot: ClusterSnapshot, cond: dict[str, Any], seconds: int) -> str | None:
    since = parse_time(cond.get("lastTransitionTime"))
    if since is None:
        return None
    left = (since + _dt.timedelta(seconds=seconds) - snapshot.now).total_seconds()
    if left > 0:
        return f"Karpenter node repair (when the NodeRepair feature gate is on) force-terminates it in {age_text(left)}"
    return (
        f"past Karpenter's {seconds // 60}-minute node-repair toleration: with NodeRepair on it is being "
        "force-terminated (unless more than 20% of the NodePool is unhealthy)"
    )


@check(
    "GPU104",
    "gpu-node-not-ready",
    Severity.ERROR,
    "GPU node NotReady or GPU hardware unhealthy",
    reads=("nodes", "nodeclaims", "pods", "events"),
    fixes=(
        FixKind.CORDON_NODE,
        FixKind.DELETE_NODECLAIM,
    ),
)
def gpu_node_not_ready(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU node that is NotReady, or whose GPUs the EKS node monitoring agent flags unhealthy.

    What it checks:
        GPU nodes with condition Ready=False/Unknown, or AcceleratedHardwareReady=False
        (set by the EKS node monitoring agent: reasons like NvidiaXID79Error,
        NvidiaDoubleBitError, NvidiaDeviceCountMismatch). It shows how long the condition
        has held and when Karpenter's node repair will force-terminate the node (10 minutes
        for AcceleratedHardwareReady, 30 for Ready), and which GPU pods run there. A node
        Karpenter is draining or deleting is info for its first 15 minutes.

    Why it matters:
        Workloads on the node are failing or about to be killed. Node repair bypasses
        drain, PodDisruptionBudgets and karpenter.sh/do-not-disrupt, so a training job there
        loses everything since its last checkpoint.

    How to fix:
        Cordon the node so nothing new lands on it. If a job can checkpoint, do it now.
        Then let repair replace the node, or delete its NodeClaim yourself. For a NotReady
        node check the kubelet and containerd on the instance (EC2 console / SSM).

    Severity:
        Error by default: the node or its GPU hardware is unhealthy now. Info while
        Karpenter is draining or deleting the node, inside that window (15 minutes): a node
        on its way out goes NotReady as it shuts down.
    """
    from checks.k8s import is_terminal, pod_gpu_request

    for node, exp in gpu_nodes(snapshot):
        name = node.metadata.name
        ready = condition(node, "Ready")
        hw = condition(node, ACCELERATED_HW)
        bad = []
        if ready is None or ready.get("status") != "True":
            bad.append(("Ready", ready or {"type": "Ready", "status": "Unknown", "reason": "NoCondition"}))
        if hw and hw.get("status") == "False":
            bad.append((ACCELERATED_HW, hw))
        if not bad:
            continue
        ev, what = [], []
        for type_, c in bad:
            since = snapshot.age_seconds(c.get("lastTransitionTime"))
            ev.append(f"condition {condition_text(c)}" + (f" (for {age_text(since)})" if since is not None else ""))
            deadline = _repair_deadline(snapshot, c, REPAIR_AFTER[type_])
            if deadline:
                ev.append(deadline)
            what.append(f"{type_}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else ""))
        gpu_pods = [p for p in snapshot.pods_by_node.get(name, []) if pod_gpu_request(p) > 0 and not is_terminal(p)]
        if gpu_pods:
            ev.append(
                "GPU pods on the node: " + ", ".join(f"{p.metadata.namespace}/{p.metadata.name}" for p in gpu_pods[:5])
            )
        fixes = [] if node.spec.unschedulable else [fixplans.cordon_node(node)]
        related = [ref(p, "Pod") for p in gpu_pods[:5]]
        nc = snapshot.nodeclaims_by_node.get(name)
        if nc is not None:
            related.insert(0, ref(nc, "NodeClaim"))
            fixes.append(fixplans.delete_nodeclaim(nc))
        hw_bad = any(t == ACCELERATED_HW for t, _ in bad)
        advice = (
            "cordon it, checkpoint running jobs and replace the instance"
            if hw_bad
            else "cordon it and check kubelet/containerd on the instance"
        )
        severity = None
        going = leaving_note(snapshot, node)
        if going is not None and going[0]:
            # A node on its way out goes NotReady as it shuts down: expected, not a fault.
            severity, advice, fixes = Severity.INFO, f"it is {going[1]}", []
        elif going is not None:
            ev.append(f"node {going[1]}")
        yield gpu_node_not_ready.finding(
            f"{name} ({exp.describe()}) is unhealthy: {', '.join(what)}"
            + (f"; {len(gpu_pods)} GPU pod(s) run there" if gpu_pods else "")
            + f"; {advice}",
            ref(node, "Node"),
            severity=severity,
            related=related,
            evidence=ev,
            fixes=fixes,
        )
