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
from checks.gpu import GPU_RESOURCE, OPERAND_APPS
from checks.gpu_nodes import GpuExpectation, allocatable_gpus, capacity_gpus, gpu_nodes, node_age
from checks.gpu_pods import gpu_requests
from checks.kinds import Node, Pod
from checks.model import Finding, Severity
from checks.operands import (
    daemonset_pods_on,
    device_plugin_daemonsets,
    shipped_by_image,
)
from checks.pod_problems import (
    PodProblem,
    image_level_cause,
    log_excerpt,
    node_context,
    pod_evidence,
    pod_problem,
    recognised_pod_text,
)
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
from checks.recognise import Recognition, recognise
from checks.registry import Check, check
from checks.timestamps import parse_time
from checks.transitions import NODE_FIRST_BOOT, deadline_text, elapsed_text
from checks.workloads import pod_names, workload_of

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
        kernel, AMI that already ships a driver, image pull), then restart the pod. When the
        failing pod's texts say the node image is the cause (no driver image for Amazon
        Linux or Bottlerocket, no kernel headers for a new kernel), the finding names that
        remedy and offers neither a restart nor a new node: both fail the same way. If the
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
        rec = _image_level_operand_failure(snapshot, node)
        if rec is not None:
            # The node image or its kernel is the cause: a restarted pod or a new node from the
            # same NodeClass fails the same way.
            message += f"; {rec.headline}: {rec.remedy_text}"
            evidence.append(f"recognised: {rec.family}/{rec.cause}: {rec.headline}")
        elif nc is not None:
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


def _image_level_operand_failure(snapshot: ClusterSnapshot, node: Node) -> Recognition | None:
    """A failing GPU Operator pod on the node whose texts say the node image is the cause (driver
    tag missing for the OS, kernel without headers, the operator's driver on Bottlerocket)."""
    for pods in snapshot.operand_pods_by_node.get(node.metadata.name, {}).values():
        for p in pods:
            pp = pod_problem(p)
            rec = image_level_cause(snapshot, pp) if pp is not None else None
            if rec is not None:
                return rec
    return None


# Families whose texts a GPU workload pod shows when its node, not its code, is at fault.
NODE_FAMILIES = frozenset({"gpu-admission", "runtime-hook", "nvswitch-mig", "bottlerocket", "operator-driver"})
LABEL_MIG_CONFIG_STATE = "nvidia.com/mig.config.state"


def _workload_gpu_pods(snapshot: ClusterSnapshot) -> Iterator[Pod]:
    """Bound pods that ask for NVIDIA resources and are not the GPU Operator's own. Only nodes
    that report NVIDIA resources in their capacity can have admitted (or refused) such pods."""
    for node in snapshot.nodes:
        if not any(k.startswith("nvidia.com/") for k in node.status.capacity):
            continue
        for p in snapshot.pods_by_node.get(node.metadata.name, []):
            if p.metadata.deletion_timestamp or p.status.phase == "Succeeded":
                continue
            if p.metadata.labels.get("app") in OPERAND_APPS or not _names_nvidia_resource(p) or not gpu_requests(p):
                continue
            yield p


def _names_nvidia_resource(pod: Pod) -> bool:
    """A cheap look at the resource names before parsing any quantity (most pods ask for none).
    Extended resources such as nvidia.com/gpu are always given as limits."""
    for containers in (pod.spec.containers, pod.spec.init_containers):
        for c in containers:
            for k in c.resources.limits:
                if k.startswith("nvidia.com/"):
                    return True
    return False


def _recognised_pod_failure(snapshot: ClusterSnapshot, pod: Pod) -> tuple[PodProblem, Recognition, str] | None:
    """The pod's failure as a node-side cause: admission refused, runtime hook failed, or (for a
    running pod) its log says it lost its GPUs. None when nothing node-side is recognised."""
    pp = pod_problem(pod)
    candidates = [pp] if pp is not None and pp.failing else []
    if pp is None or not pp.failing:
        # A running container that lost its GPUs keeps running, or restarted once: its log or its
        # last termination message says so.
        ns, name = pod.metadata.namespace or "", pod.metadata.name
        restarted = {cs.name for cs in pod.status.container_statuses if (cs.last_state or {}).get("terminated")}
        candidates += [
            PodProblem(pod, pod.status.phase or "Running", False, container=c.name)
            for c in pod.spec.containers
            if c.name in restarted
            or (ns, name, c.name, False) in snapshot.logs
            or (ns, name, c.name, True) in snapshot.logs
        ]
    context = node_context(snapshot, pod)
    for cand in candidates:
        got = recognised_pod_text(snapshot, cand, context)
        if got is not None and got[0].family in NODE_FAMILIES:
            return cand, got[0], got[1]
    return None


@check(
    "GPU105",
    "gpu-pod-failed-on-node",
    Severity.ERROR,
    "GPU pods fail on their node: admission, runtime hook, lost GPUs, MIG",
    reads=("pods", "events", "logs", "nodes", "nodeclaims"),
    fixes=(FixKind.CORDON_NODE, FixKind.DELETE_NODECLAIM),
)
def gpu_pod_failed_on_node(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """GPU workload pods that the node, not their own code, makes fail; and MIG configurations that failed.

    What it checks:
        Bound pods that request NVIDIA resources (outside the GPU Operator) and are Failed
        or failing (UnexpectedAdmissionError, RunContainerError, CreateContainerError,
        StartError, CrashLoopBackOff), or running with a log that says the container lost
        its GPUs. Their status message, log and events are read by the recognition rules;
        only node-side causes count: kubelet GPU admission ("Requested: 1, Available: 0",
        "GPU is lost", device plugin RPC errors), the NVIDIA runtime hook (driver not
        loaded, libnvidia-ml.so.1 missing, insufficient permissions, CUDA newer than the
        driver), "Failed to initialize NVML: Unknown Error" after a systemd reload, CUDA
        error 802 (NVSwitch fabric manager not running). Pods are grouped by node and
        cause. Also GPU nodes labelled nvidia.com/mig.config.state=failed.

    Why it matters:
        The pod is scheduled and its GPU counted, but it cannot use it: a Deployment keeps
        recreating Failed pods on the same node (thousands of them when a GPU is lost), a
        training job restarts into the same error, and the application's log blames CUDA.

    How to fix:
        Follow the cause in the finding: a lost or unhealthy GPU means cordon the node and
        replace it (delete its NodeClaim); Requested/Available mismatches and device plugin
        RPC errors mean checking the device plugin on that node; hook errors mean fixing the
        driver, toolkit or permissions on the node; lost GPUs after a daemon-reload need the
        /dev/char symlinks (or CDI) and then a pod restart; error 802 needs the fabric
        manager running with the driver's version; a failed MIG configuration needs the MIG
        manager's log. Then delete the Failed pods so their controllers recreate them.

    Severity:
        Always error: the pods cannot use their GPUs until the node is fixed.
    """
    groups: dict[tuple[str, str, str], list[tuple[Pod, PodProblem, Recognition, str]]] = {}
    for pod in _workload_gpu_pods(snapshot):
        got = _recognised_pod_failure(snapshot, pod)
        if got is None:
            continue
        pp, rec, text = got
        owner = workload_of(snapshot, pod).ref if rec.subject_kind == "Pod" else None
        key = (pod.spec.node_name or "", rec.remedy, str(owner) if owner else "")
        groups.setdefault(key, []).append((pod, pp, rec, text))
    for (node_name, _remedy, _owner), items in groups.items():
        yield _pod_failure_finding(snapshot, node_name, items)
    for node in snapshot.nodes:  # the MIG manager labels GPU nodes only
        if node.metadata.labels.get(LABEL_MIG_CONFIG_STATE) != "failed":
            continue
        mig = recognise(f"{LABEL_MIG_CONFIG_STATE}=failed")
        if mig is None:
            continue
        config = node.metadata.labels.get("nvidia.com/mig.config", "")
        yield gpu_pod_failed_on_node.finding(
            f"{node.metadata.name}: {mig.headline} ({config or 'no nvidia.com/mig.config label'}); {mig.remedy_text}",
            ref(node, "Node"),
            evidence=[f"label {LABEL_MIG_CONFIG_STATE}=failed", f"label nvidia.com/mig.config={config}"],
        )


def _pod_failure_finding(
    snapshot: ClusterSnapshot, node_name: str, items: list[tuple[Pod, PodProblem, Recognition, str]]
) -> Finding:
    pod, pp, rec, text = items[0]
    node = snapshot.node_by_name.get(node_name)
    pods = [p for p, _, _, _ in items]
    ev = [f"recognised: {rec.family}/{rec.cause}: {rec.headline}"]
    ev += pod_evidence(snapshot, pp)
    if not any(text[:120] in e for e in ev):
        ev.append(f"text: {' '.join(text.split())[:400]}")
    if len(items) > 1:
        ev.append("also: " + "; ".join(q.describe() for _, q, _, _ in items[1:6]))
    if node is not None and rec.family == "gpu-admission":
        ev += _device_plugin_state(snapshot, node)
    related = [ref(p, "Pod") for p in pods[:5]]
    fixes = []
    if node is not None and rec.remedy == "replace-gpu-node":
        if not node.spec.unschedulable:
            fixes.append(fixplans.cordon_node(node))
        nc = snapshot.nodeclaims_by_node.get(node_name)
        if nc is not None:
            related.insert(0, ref(nc, "NodeClaim"))
            fixes.append(fixplans.delete_nodeclaim(nc))
    if rec.subject_kind == "Pod":
        subject = workload_of(snapshot, pod).ref
        if node is not None:
            related.append(ref(node, "Node"))
    else:
        subject = ref(node, "Node") if node is not None else ref(pod, "Pod")
    return gpu_pod_failed_on_node.finding(
        f"{len(pods)} GPU pod(s) on {node_name} ({pod_names(pods, 3)}): {rec.headline}; {rec.remedy_text}",
        subject,
        related=related,
        evidence=ev,
        fixes=fixes,
    )


def _device_plugin_state(snapshot: ClusterSnapshot, node: Node) -> list[str]:
    """What kubelet's admission depends on: the GPUs the node advertises and the device plugin pod there."""
    ev = [
        f"node {GPU_RESOURCE}: capacity {node.status.capacity.get(GPU_RESOURCE, 'absent')}, "
        f"allocatable {node.status.allocatable.get(GPU_RESOURCE, 'absent')}"
    ]
    pods = [p for ds in device_plugin_daemonsets(snapshot) for p in daemonset_pods_on(snapshot, ds, node.metadata.name)]
    if not pods:
        shipped, how = shipped_by_image(snapshot, node)
        ev.append(
            f"device plugin runs on the host ({how})"
            if "devicePlugin" in shipped
            else "no device plugin pod on the node"
        )
    for p in pods[:2]:
        pp = pod_problem(p)
        restarts = sum(cs.restart_count for cs in p.status.container_statuses)
        state = pp.status if pp is not None else "Running"
        ev.append(f"device plugin pod {p.metadata.name}: {state}" + (f", {restarts} restarts" if restarts else ""))
    return ev
