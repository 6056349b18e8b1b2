"""Area nodes (GPU1xx): does every GPU node expose the GPUs it has?

The diagnosis walks the chain driver → container toolkit → device plugin →
allocatable on the node and names the first broken link, with the exact reason
(the taint the DaemonSet does not tolerate, the deploy label that is missing, the
container that crashes and its last log lines).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from checks import fixplans
from checks.conditions import condition, condition_text
from checks.findings import age_text, new_finding, ref
from checks.gpu import GPU_RESOURCE, LABEL_NFD_NVIDIA_PCI
from checks.gpu_nodes import YOUNG_NODE_SECONDS, GpuExpectation, allocatable_gpus, capacity_gpus, gpu_nodes, node_age
from checks.k8s import format_taint
from checks.kinds import Node, Object
from checks.model import FixPlan, ObjectRef, Severity
from checks.operands import (
    DEVICE_PLUGIN,
    DRIVER,
    LABEL_DEPLOY_OPERANDS,
    TOOLKIT,
    clusterpolicy,
    daemonset_blockers,
    daemonset_pods_on,
    device_plugin_daemonsets,
    operand_daemonsets,
    operator_installed,
    owned_by_clusterpolicy,
)
from checks.pod_problems import log_excerpt, pod_evidence, pod_problem
from checks.registry import check
from checks.timestamps import parse_time

READS_CHAIN = ("nodes", "pods", "daemonsets", "nodeclaims", "clusterpolicies", "events", "logs")
ACCELERATED_HW = "AcceleratedHardwareReady"
REPAIR_AFTER = {ACCELERATED_HW: 600, "Ready": 1800}


@dataclass
class ChainDiagnosis:
    """The first broken link in a node's GPU chain."""

    summary: str  # goes into the finding message after "…: "
    hard: bool  # will not resolve by waiting
    evidence: list[str] = field(default_factory=list)
    related: list[ObjectRef] = field(default_factory=list)
    fixes: list[FixPlan] = field(default_factory=list)


def _stage_diagnosis(snapshot, node: Node, title: str, daemonsets: list[Object], cp) -> ChainDiagnosis | None:
    """None when this stage of the chain is healthy on the node."""
    name = node.metadata.name
    # With several DaemonSets (per-OS drivers, operator + standalone plugin) judge the one meant for this node.
    candidates = [(ds, daemonset_pods_on(snapshot, ds, name)) for ds in daemonsets]
    with_pods = [(ds, pods) for ds, pods in candidates if pods]
    if with_pods:
        ds, pods = with_pods[0]
        problems = [pp for pp in (pod_problem(p) for p in pods) if pp is not None]
        if not problems:
            return None
        pp = sorted(problems, key=lambda x: not x.failing)[0]
        what = f"the {title} pod {pp.pod.metadata.name} is {pp.status}"
        if pp.container:
            what += f" ({'init container' if pp.init else 'container'} {pp.container}"
            if pp.exit_code is not None:
                what += f", exit code {pp.exit_code}"
            if pp.restarts:
                what += f", {pp.restarts} restarts"
            what += ")"
        if not pp.failing:
            what += " and has not started yet"
        fixes = (
            [fixplans.restart_operand_pod(pp.pod)]
            if pp.failing and pp.reason not in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")
            else []
        )
        return ChainDiagnosis(
            what, pp.failing, pod_evidence(snapshot, pp), [ref(ds, "DaemonSet"), ref(pp.pod, "Pod")], fixes
        )
    # No pod of any candidate on the node: say why, from the one whose selector fits best.
    scored = sorted(
        ((ds, daemonset_blockers(ds, node)) for ds in daemonsets),
        key=lambda x: (sum(b.kind != "taint" for b in x[1]), len(x[1])),
    )
    ds, blockers = scored[0]
    dsname = ds.metadata.name
    rel = [ref(ds, "DaemonSet")]
    taints = [b.taint for b in blockers if b.kind == "taint" and b.taint is not None]
    selectors = [b for b in blockers if b.kind != "taint"]
    if selectors:
        b = selectors[0]
        ev = [f"{dsname}: {b.text}" for b in selectors]
        labels = node.metadata.labels
        if b.label and b.label.startswith("nvidia.com/gpu.deploy."):
            if labels.get(b.label) == "false" or labels.get(LABEL_DEPLOY_OPERANDS) == "false":
                why = (
                    f"no {title} pod runs there: the node's label {b.label} is 'false' (operands switched off on "
                    f"this node on purpose, e.g. during a driver upgrade or MIG reconfiguration)"
                )
            elif labels.get(LABEL_NFD_NVIDIA_PCI) != "true":
                why = (
                    f"no {title} pod runs there: the node has no {b.label} label because Node Feature Discovery "
                    f"never labelled it {LABEL_NFD_NVIDIA_PCI}=true, so the GPU Operator does not treat it as a GPU "
                    "node (is the NFD worker running on it?)"
                )
                ev.append(f"node label {LABEL_NFD_NVIDIA_PCI} is missing")
            else:
                why = (
                    f"no {title} pod runs there: the GPU Operator has not set {b.label}=true on the node "
                    "(check the gpu-operator pod's log)"
                )
        else:
            why = f"no {title} pod runs there: {dsname} {b.text}"
        for t in taints:
            ev.append(f"taint {format_taint(t)} is not tolerated by {dsname}")
        return ChainDiagnosis(why, True, ev, rel)
    if taints:
        names = ", ".join(format_taint(t) for t in taints)
        why = f"the {title} pod is not running there: {dsname} does not tolerate the node's taint {names}"
        ev = [f"taint {format_taint(t)} is not tolerated by {dsname}" for t in taints]
        tols = ((ds.spec.get("template") or {}).get("spec") or {}).get("tolerations") or []
        ev.append(f"{dsname} tolerates only: " + (", ".join(_tol_text(t) for t in tols) or "nothing"))
        if cp is not None and (
            owned_by_clusterpolicy(ds)
            or ds.metadata.namespace == (cp.status or {}).get("namespace")
            or ds.metadata.name
            in ("nvidia-device-plugin-daemonset", "nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset")
        ):
            fix = fixplans.clusterpolicy_tolerations(cp, taints)
            rel.append(ref(cp, "ClusterPolicy"))
        else:
            fix = fixplans.add_toleration(ds, taints, kind="DaemonSet")
        return ChainDiagnosis(why, True, ev, rel, [fix])
    st = ds.status or {}
    why = (
        f"{dsname} should run a {title} pod there but has none yet (DaemonSet desired "
        f"{st.get('desiredNumberScheduled', '?')}, current {st.get('currentNumberScheduled', '?')})"
    )
    return ChainDiagnosis(why, False, [why], rel)


def _downstream(snapshot, node: Node, title: str, daemonsets: list[Object]) -> str:
    """One line on a later link, so the reader sees the whole chain at once."""
    for ds in daemonsets:
        pods = daemonset_pods_on(snapshot, ds, node.metadata.name)
        if pods:
            pp = pod_problem(pods[0])
            return f"then {title}: pod {pods[0].metadata.name} is {pp.status if pp else 'Running'}"
    blockers = daemonset_blockers(daemonsets[0], node)
    why = "; ".join(b.text for b in blockers) if blockers else "not created yet"
    return f"then {title}: no pod on the node ({daemonsets[0].metadata.name}: {why})"


def _tol_text(t: dict) -> str:
    key = t.get("key") or "*"
    op = t.get("operator") or "Equal"
    val = f"={t.get('value')}" if op == "Equal" and t.get("value") else ""
    return f"{key}{val}{' (Exists)' if op == 'Exists' else ''}:{t.get('effect') or 'all effects'}"


def diagnose_chain(snapshot, node: Node) -> ChainDiagnosis:
    """Walk driver → toolkit → device plugin on the node; name the first link that is broken."""
    cp = clusterpolicy(snapshot)
    plugins = device_plugin_daemonsets(snapshot)
    if not plugins:
        if cp is None and not operator_installed(snapshot):
            return ChainDiagnosis(
                "no NVIDIA device plugin is installed: there is no GPU Operator ClusterPolicy and no "
                "nvidia-device-plugin DaemonSet, so nothing advertises nvidia.com/gpu",
                True,
                ["no ClusterPolicy (nvidia.com/v1) and no DaemonSet named *nvidia-device-plugin* in any namespace"],
            )
        state = (cp.status or {}).get("state") if cp is not None else None
        return ChainDiagnosis(
            "the GPU Operator is installed but there is no device-plugin DaemonSet"
            + (
                f" (ClusterPolicy {cp.metadata.name} state {state or 'unknown'}; is devicePlugin.enabled false?)"
                if cp is not None
                else ""
            ),
            True,
            [f"ClusterPolicy {cp.metadata.name} status.state={state}" if cp is not None else "no ClusterPolicy"],
            [ref(cp, "ClusterPolicy")] if cp is not None else [],
        )
    stages = [
        (DRIVER, "driver", operand_daemonsets(snapshot, DRIVER)),
        (TOOLKIT, "container toolkit", operand_daemonsets(snapshot, TOOLKIT)),
        (DEVICE_PLUGIN, "device plugin", plugins),
    ]
    notes: list[str] = []
    labels = node.metadata.labels
    for operand, title, dss in stages:
        if not dss:
            notes.append(f"no {title} DaemonSet: the {title} is expected to come with the node image")
            continue
        if (
            operand is not DEVICE_PLUGIN
            and labels.get(operand.deploy_label) == "false"
            and labels.get(LABEL_DEPLOY_OPERANDS) != "false"
        ):
            # The usual way to say "the AMI ships this": skip the link, do not blame it.
            notes.append(
                f"{operand.deploy_label}=false on the node: the {title} is expected to come with the node image"
            )
            continue
        d = _stage_diagnosis(snapshot, node, title, dss, cp)
        if d is not None:
            later = stages[[s[0] for s in stages].index(operand) + 1 :]
            d.evidence = notes + d.evidence + [_downstream(snapshot, node, t, x) for _o, t, x in later if x]
            return d
    # Every operand runs: the plugin itself found nothing to advertise.
    ev = list(notes)
    pods = [p for ds in plugins for p in daemonset_pods_on(snapshot, ds, node.metadata.name)]
    for p in pods[:1]:
        for c in p.spec.containers[:1]:
            ev.extend(log_excerpt(snapshot, p, c.name))
    hw = condition(node, ACCELERATED_HW)
    if hw and hw.get("status") == "False":
        ev.append(f"node condition {condition_text(hw)}")
    rel = [ref(p, "Pod") for p in pods[:1]]
    return ChainDiagnosis(
        "driver, toolkit and device plugin pods are running, yet the device plugin registered no GPUs "
        "(see its log: NVML or device discovery failed)",
        True,
        ev,
        rel,
        [fixplans.restart_operand_pod(pods[0])] if pods else [],
    )


def _nodeclaim_evidence(snapshot, node: Node) -> tuple[list[str], list[ObjectRef], Object | None]:
    nc = snapshot.nodeclaims_by_node.get(node.metadata.name)
    if nc is None:
        return [], [], None
    init = condition(nc, "Initialized")
    if init is not None and init.get("status") == "True":
        return [], [ref(nc, "NodeClaim")], nc
    ev = [
        f"NodeClaim {nc.metadata.name}: {condition_text(init)}"
        + (
            f" (for {age_text(snapshot.age_seconds(init.get('lastTransitionTime')))})"
            if init and init.get("lastTransitionTime")
            else ""
        )
    ]
    if init and init.get("reason") == "ResourceNotRegistered":
        ev.append(
            "Karpenter has no timeout for initialization: the node stays, uninitialized and never consolidated, "
            "until the device plugin registers the GPUs or the NodeClaim is deleted"
        )
    return ev, [ref(nc, "NodeClaim")], nc


def _mig_resources(node: Node) -> dict[str, str]:
    """MIG devices advertised under the mixed strategy (nvidia.com/mig-1g.10gb, ...), non-zero only."""
    return {
        k: v
        for k, v in node.status.allocatable.items()
        if k.startswith("nvidia.com/mig-") and str(v).strip() not in ("0", "")
    }


def _gpu_less_nodes(snapshot) -> Iterable[tuple[Node, GpuExpectation]]:
    for node, exp in gpu_nodes(snapshot):
        # With MIG's mixed strategy the GPUs are advertised as nvidia.com/mig-* instead: not broken.
        if allocatable_gpus(node) == 0 and not _mig_resources(node):
            yield node, exp


def _is_young(snapshot, node: Node) -> bool:
    age = node_age(snapshot, node)
    return age is not None and age < YOUNG_NODE_SECONDS


def still_initializing(snapshot, node: Node) -> bool:
    """A GPU-less node young enough, with nothing broken on it, to be GPU102 rather than GPU101."""
    return _is_young(snapshot, node) and not diagnose_chain(snapshot, node).hard


def _not_ready_note(node: Node) -> str | None:
    ready = condition(node, "Ready")
    if ready and ready.get("status") != "True":
        return f"node condition {condition_text(ready)}: the kubelet may not be reporting allocatable at all"
    return None


@check(
    "GPU101", "gpu-not-allocatable", Severity.ERROR, "GPU node reports no allocatable nvidia.com/gpu", reads=READS_CHAIN
)
def gpu_not_allocatable(snapshot):
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
    """
    for node, exp in _gpu_less_nodes(snapshot):
        diag = diagnose_chain(snapshot, node)
        if _is_young(snapshot, node) and not diag.hard:
            continue  # GPU102
        yield _chain_finding(snapshot, "GPU101", node, exp, diag)


@check(
    "GPU102",
    "gpu-node-initializing",
    Severity.INFO,
    "GPU node still initializing (GPUs not advertised yet)",
    reads=READS_CHAIN,
)
def gpu_node_initializing(snapshot):
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
    """
    for node, exp in _gpu_less_nodes(snapshot):
        if not _is_young(snapshot, node):
            continue
        diag = diagnose_chain(snapshot, node)
        if diag.hard:
            continue
        yield _chain_finding(snapshot, "GPU102", node, exp, diag)


def _chain_finding(snapshot, code: str, node: Node, exp: GpuExpectation, diag: ChainDiagnosis):
    name = node.metadata.name
    age = age_text(node_age(snapshot, node))
    nc_ev, nc_rel, nc = _nodeclaim_evidence(snapshot, node)
    alloc = node.status.allocatable.get(GPU_RESOURCE)
    have = "0 allocatable" if alloc is not None else f"no {GPU_RESOURCE} in allocatable"
    evidence = [
        f"expected GPUs from {exp.source}; allocatable {GPU_RESOURCE}={alloc if alloc is not None else 'absent'}"
        f", capacity {node.status.capacity.get(GPU_RESOURCE, 'absent')}"
    ]
    evidence += diag.evidence + nc_ev
    note = _not_ready_note(node)
    if note:
        evidence.append(note)
    fixes = list(diag.fixes)
    if code == "GPU101":
        message = f"{name} ({exp.describe()}, up {age}) has {have}: {diag.summary}"
        if nc is not None:
            fixes.append(fixplans.delete_nodeclaim(nc))
    else:
        message = f"{name} ({exp.describe()}) is {age} old and has {have} yet: {diag.summary}; give it a few minutes"
    return new_finding(code, message, ref(node, "Node"), related=diag.related + nc_rel, evidence=evidence, fixes=fixes)


@check(
    "GPU103",
    "gpu-allocatable-below-capacity",
    Severity.WARNING,
    "GPU node advertises fewer GPUs than it has",
    reads=("nodes", "pods", "daemonsets", "nodeclaims", "logs"),
)
def gpu_allocatable_below_capacity(snapshot):
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
    """
    for node, exp in gpu_nodes(snapshot):
        alloc, cap = allocatable_gpus(node), capacity_gpus(node)
        if alloc == 0 or _mig_resources(node):
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
        yield new_finding(
            "GPU103",
            f"{name} ({exp.describe()}) advertises {alloc} of {expected} GPUs: {cause}; cordon it and "
            "replace the instance once running jobs finish",
            ref(node, "Node"),
            related=related,
            evidence=ev,
            fixes=fixes,
        )


def _repair_deadline(snapshot, cond: dict, seconds: int) -> str | None:
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
)
def gpu_node_not_ready(snapshot):
    """A GPU node that is NotReady, or whose GPUs the EKS node monitoring agent flags unhealthy.

    What it checks:
        GPU nodes with condition Ready=False/Unknown, or AcceleratedHardwareReady=False
        (set by the EKS node monitoring agent: reasons like NvidiaXID79Error,
        NvidiaDoubleBitError, NvidiaDeviceCountMismatch). It shows how long the condition
        has held and when Karpenter's node repair will force-terminate the node (10 minutes
        for AcceleratedHardwareReady, 30 for Ready), and which GPU pods run there.

    Why it matters:
        Workloads on the node are failing or about to be killed. Node repair bypasses
        drain, PodDisruptionBudgets and karpenter.sh/do-not-disrupt, so a training job there
        loses everything since its last checkpoint.

    How to fix:
        Cordon the node so nothing new lands on it. If a job can checkpoint, do it now.
        Then let repair replace the node, or delete its NodeClaim yourself. For a NotReady
        node check the kubelet and containerd on the instance (EC2 console / SSM).
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
        yield new_finding(
            "GPU104",
            f"{name} ({exp.describe()}) is unhealthy: {', '.join(what)}"
            + (f"; {len(gpu_pods)} GPU pod(s) run there" if gpu_pods else "")
            + f"; {advice}",
            ref(node, "Node"),
            related=related,
            evidence=ev,
            fixes=fixes,
        )
