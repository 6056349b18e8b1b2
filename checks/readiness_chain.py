"""The GPU readiness chain on one node: driver → container toolkit → device plugin →
allocatable nvidia.com/gpu. diagnose_chain names the first broken link with its exact
reason (the taint a DaemonSet does not tolerate, the deploy label that is missing, the
container that crashes and its last log lines); the node, Karpenter and scheduling
checks all tell that one story.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checks import fixplans
from checks.conditions import condition, condition_text
from checks.findings import age_text, ref
from checks.gpu import LABEL_NFD_NVIDIA_PCI
from checks.gpu_nodes import GpuExpectation, allocatable_gpus, gpu_nodes, node_age
from checks.k8s import format_taint
from checks.kinds import Node, Object
from checks.model import FixPlan, ObjectRef
from checks.operands import (
    DEVICE_PLUGIN,
    DRIVER,
    LABEL_DEPLOY_OPERANDS,
    TAINT_KARPENTER_DISRUPTED,
    TOOLKIT,
    clusterpolicy,
    daemonset_blockers,
    daemonset_pods_on,
    device_plugin_daemonsets,
    operand_daemonsets,
    operator_installed,
    owned_by_clusterpolicy,
    shipped_by_image,
)
from checks.pod_problems import image_level_cause, log_excerpt, pod_evidence, pod_problem
from checks.transitions import NODE_DELETION, NODE_FIRST_BOOT, deadline_text, elapsed_text, within
from checks.workloads import pod_template_spec

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

ACCELERATED_HW = "AcceleratedHardwareReady"


@dataclass
class ChainDiagnosis:
    """The first broken link in a node's GPU chain."""

    summary: str  # goes into the finding message after "…: "
    hard: bool  # will not resolve by waiting
    evidence: list[str] = field(default_factory=list)
    related: list[ObjectRef] = field(default_factory=list)
    fixes: list[FixPlan] = field(default_factory=list)
    timed: bool = False  # in progress on a new node; broken only because the first-boot window passed


def _stage_diagnosis(
    snapshot: ClusterSnapshot, node: Node, title: str, daemonsets: list[Object], cp: Object | None
) -> ChainDiagnosis | None:
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
            if pp.failing
            and pp.reason not in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")
            and image_level_cause(snapshot, pp) is None  # a restart fails the same way
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
        hard = True
        if b.label and b.label.startswith("nvidia.com/gpu.deploy."):
            # On first boot NFD and then the GPU Operator label the node within minutes: in progress.
            hard = not is_young(snapshot, node)
            if labels.get(b.label) == "false" or labels.get(LABEL_DEPLOY_OPERANDS) == "false":
                hard = True
                why = (
                    f"no {title} pod runs there: the node's label {b.label} is 'false' (operands switched off on "
                    f"this node on purpose, e.g. during a driver upgrade or MIG reconfiguration)"
                )
            elif labels.get(LABEL_NFD_NVIDIA_PCI) != "true" and not hard:
                why = (
                    f"no {title} pod runs there yet: Node Feature Discovery has not labelled the new node "
                    f"{LABEL_NFD_NVIDIA_PCI}=true yet, so the GPU Operator has not set {b.label}"
                )
                ev.append(f"node label {LABEL_NFD_NVIDIA_PCI} is missing")
            elif labels.get(LABEL_NFD_NVIDIA_PCI) != "true":
                why = (
                    f"no {title} pod runs there: the node has no {b.label} label because Node Feature Discovery "
                    f"never labelled it {LABEL_NFD_NVIDIA_PCI}=true, so the GPU Operator does not treat it as a GPU "
                    "node (is the NFD worker running on it?)"
                )
                ev.append(f"node label {LABEL_NFD_NVIDIA_PCI} is missing")
            elif not hard:
                why = f"no {title} pod runs there yet: the GPU Operator has not set {b.label}=true on the new node yet"
            else:
                why = (
                    f"no {title} pod runs there: the GPU Operator has not set {b.label}=true on the node "
                    "(check the gpu-operator pod's log)"
                )
        else:
            why = f"no {title} pod runs there: {dsname} {b.text}"
        timed = bool(b.label and b.label.startswith("nvidia.com/gpu.deploy.")) and hard and not is_young(snapshot, node)
        if labels.get(b.label or "") == "false" or labels.get(LABEL_DEPLOY_OPERANDS) == "false":
            timed = False
        for t in taints:
            ev.append(f"taint {format_taint(t)} is not tolerated by {dsname}")
            hard, timed = True, False
        return ChainDiagnosis(why, hard, ev, rel, timed=timed)
    if taints:
        names = ", ".join(format_taint(t) for t in taints)
        why = f"the {title} pod is not running there: {dsname} does not tolerate the node's taint {names}"
        ev = [f"taint {format_taint(t)} is not tolerated by {dsname}" for t in taints]
        tols = pod_template_spec(ds).get("tolerations") or []
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


def _downstream(snapshot: ClusterSnapshot, node: Node, title: str, daemonsets: list[Object]) -> str:
    """One line on a later link, so the reader sees the whole chain at once."""
    for ds in daemonsets:
        pods = daemonset_pods_on(snapshot, ds, node.metadata.name)
        if pods:
            pp = pod_problem(pods[0])
            return f"then {title}: pod {pods[0].metadata.name} is {pp.status if pp else 'Running'}"
    blockers = daemonset_blockers(daemonsets[0], node)
    why = "; ".join(b.text for b in blockers) if blockers else "not created yet"
    return f"then {title}: no pod on the node ({daemonsets[0].metadata.name}: {why})"


def _tol_text(t: dict[str, Any]) -> str:
    key = t.get("key") or "*"
    op = t.get("operator") or "Equal"
    val = f"={t.get('value')}" if op == "Equal" and t.get("value") else ""
    return f"{key}{val}{' (Exists)' if op == 'Exists' else ''}:{t.get('effect') or 'all effects'}"


def diagnose_chain(snapshot: ClusterSnapshot, node: Node) -> ChainDiagnosis:
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
        shipped, how = shipped_by_image(snapshot, node)
        if DEVICE_PLUGIN.field in shipped:
            # Bottlerocket's host runs the plugin: no DaemonSet is expected, only its registration.
            return ChainDiagnosis(
                "the node image runs the device plugin on the host, and it has registered no GPUs",
                not is_young(snapshot, node),
                [f"{how}: the host runs the NVIDIA device plugin, not the GPU Operator"],
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
    # On a node inside its first boot the plugin may simply not have registered yet; a log
    # line or a failed hardware condition says it tried and failed.
    failed = len(ev) > len(notes) or not is_young(snapshot, node)
    return ChainDiagnosis(
        "driver, toolkit and device plugin pods are running, yet the device plugin registered no GPUs "
        "(see its log: NVML or device discovery failed)",
        failed,
        ev,
        rel,
        [fixplans.restart_operand_pod(pods[0])] if pods else [],
    )


def nodeclaim_evidence(snapshot: ClusterSnapshot, node: Node) -> tuple[list[str], list[ObjectRef], Object | None]:
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


def mig_resources(node: Node) -> dict[str, str]:
    """MIG devices advertised under the mixed strategy (nvidia.com/mig-1g.10gb, ...), non-zero only."""
    return {
        k: v
        for k, v in node.status.allocatable.items()
        if k.startswith("nvidia.com/mig-") and str(v).strip() not in ("0", "")
    }


def gpu_less_nodes(snapshot: ClusterSnapshot) -> Iterable[tuple[Node, GpuExpectation]]:
    for node, exp in gpu_nodes(snapshot):
        # With MIG's mixed strategy the GPUs are advertised as nvidia.com/mig-* instead: not broken.
        if allocatable_gpus(node) == 0 and not mig_resources(node):
            yield node, exp


def is_young(snapshot: ClusterSnapshot, node: Node) -> bool:
    return within(NODE_FIRST_BOOT, node_age(snapshot, node))


def leaving(snapshot: ClusterSnapshot, node: Node) -> tuple[str, float | None] | None:
    """(what, seconds since it began) for a node Karpenter is draining or deleting, else None.

    A node with a deletionTimestamp, the karpenter.sh/disrupted taint, or a NodeClaim being
    deleted or disrupted is on its way out: NotReady or GPU-less is expected there for a while.
    """
    nc = snapshot.nodeclaims_by_node.get(node.metadata.name)
    if node.metadata.deletion_timestamp:
        return "being deleted", snapshot.age_seconds(node.metadata.deletion_timestamp)
    disrupted = any(t.key == TAINT_KARPENTER_DISRUPTED for t in node.spec.taints)
    if nc is not None and nc.metadata.deletion_timestamp:
        return "being deleted by Karpenter", snapshot.age_seconds(nc.metadata.deletion_timestamp)
    dr = condition(nc, "DisruptionReason") if nc is not None else None
    if disrupted or (dr is not None and dr.get("status") == "True"):
        since = snapshot.age_seconds(dr.get("lastTransitionTime")) if dr is not None else None
        return "being drained by Karpenter (karpenter.sh/disrupted)", since
    return None


def leaving_note(snapshot: ClusterSnapshot, node: Node) -> tuple[bool, str] | None:
    """(inside the node-deletion window, text for the message or evidence) for a leaving node."""
    out = leaving(snapshot, node)
    if out is None:
        return None
    what, since = out
    if within(NODE_DELETION, since):
        return True, f"{what} (for {age_text(since)}; {deadline_text(NODE_DELETION, since)})"
    return False, f"{what}: {elapsed_text(NODE_DELETION, since)}"


def still_initializing(snapshot: ClusterSnapshot, node: Node) -> bool:
    """A GPU-less node young enough, with nothing broken on it, to be GPU102 rather than GPU101."""
    return is_young(snapshot, node) and not diagnose_chain(snapshot, node).hard
