"""Area operator (GPU2xx): is the NVIDIA GPU Operator healthy on every GPU node?"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from checks import fixplans
from checks.conditions import condition_text
from checks.findings import age_text, ref
from checks.fix_kinds import FixKind
from checks.gpu import LABEL_GFD_GPU_PRESENT, LABEL_NFD_NVIDIA_PCI, OPERAND_APPS, OPERANDS, Operand
from checks.gpu_nodes import YOUNG_NODE_SECONDS, gpu_nodes, node_age
from checks.k8s import format_taint, mapping, tolerates
from checks.kinds import Node, Object, Pod, Taint
from checks.model import Finding, ObjectRef, Severity
from checks.nodepool_model import nodepool_taints, serves_nvidia_gpus
from checks.operands import (
    DEVICE_PLUGIN,
    TOOLKIT,
    Blocker,
    all_operand_daemonsets,
    blocking_taint,
    clusterpolicy,
    daemonset_blockers,
    daemonset_pods_on,
    daemonset_tolerations,
    device_plugin_daemonsets,
    gpu_discovered,
    node_in_transition,
    operand_daemonsets,
    operand_not_placed,
    owned_by_clusterpolicy,
)
from checks.pod_problems import (
    IMAGE_LEVEL_FAMILIES,
    PodProblem,
    is_stuck,
    key_log_line,
    node_context,
    pod_evidence,
    pod_problem,
    pod_recognition,
    upstream_failure,
)
from checks.registry import check
from checks.snapshot_indexes import memo

if TYPE_CHECKING:
    from checks.snapshot import ClusterSnapshot

STATES_NOT_READY = re.compile(r"states not ready:?\s*\[([^\]]*)\]")
NO_NVIDIA_RUNTIME = re.compile(r'no runtime for "?nvidia"? is configured')
# ClusterPolicy state names (state-<x>) -> the operand they render.
STATE_TO_FIELD = {
    "state-driver": "driver",
    "state-container-toolkit": "toolkit",
    "state-device-plugin": "devicePlugin",
    "gpu-feature-discovery": "gfd",
    "state-gpu-feature-discovery": "gfd",
    "state-dcgm": "dcgm",
    "state-dcgm-exporter": "dcgmExporter",
    "state-operator-validation": "validator",
    "state-mig-manager": "migManager",
    "state-node-status-exporter": "nodeStatusExporter",
}
OPERAND_BY_FIELD = {o.field: o for o in OPERANDS}
NO_RESTART_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}


def _states_not_ready(cp: Object) -> list[str]:
    for c in (cp.status or {}).get("conditions") or []:
        m = STATES_NOT_READY.search(c.get("message") or "")
        if m:
            return m.group(1).split()
    return []


def _ds_counts(ds: Object) -> str:
    st = ds.status or {}
    return (
        f"{ds.metadata.name}: desired {st.get('desiredNumberScheduled', '?')}, ready {st.get('numberReady', '?')}, "
        f"available {st.get('numberAvailable', st.get('numberReady', '?'))}"
    )


def operator_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    """Pods of the GPU Operator, its operands, NFD and a standalone device plugin."""
    return memo(snapshot, "operator_pods", lambda: _find_operator_pods(snapshot))


_OPERATOR_APPS = OPERAND_APPS | {"gpu-operator"}
_OPERATOR_NAMES = ("node-feature-discovery", "gpu-operator")


def _find_operator_pods(snapshot: ClusterSnapshot) -> list[Pod]:
    plugin_ds = {(d.metadata.namespace or "", d.metadata.name) for d in device_plugin_daemonsets(snapshot)}
    out = []
    for p in snapshot.pods:
        labels = p.metadata.labels
        if labels.get("app") in _OPERATOR_APPS or labels.get("app.kubernetes.io/name") in _OPERATOR_NAMES:
            out.append(p)
            continue
        for r in p.metadata.owner_references:
            if r.kind == "DaemonSet" and ((p.metadata.namespace or ""), r.name) in plugin_ds:
                out.append(p)
                break
    return out


@check(
    "GPU201",
    "clusterpolicy-not-ready",
    Severity.ERROR,
    "GPU Operator ClusterPolicy is not ready",
    reads=("clusterpolicies", "daemonsets", "pods", "nodes"),
)
def clusterpolicy_not_ready(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """The ClusterPolicy reports notReady.

    What it checks:
        ClusterPolicy status.state (ready / notReady / disabled / ignored) and its Ready and
        Error conditions. The operator lists the operand states it is waiting for
        ("states not ready: [state-driver state-device-plugin]"); each is mapped to its
        DaemonSet with its desired/ready counts and, where one exists, a failing pod.

    Why it matters:
        notReady means at least one operand is not running on every GPU node, so some GPU
        nodes have no driver, runtime or device plugin and advertise no GPUs.

    How to fix:
        Start with the first state in the list in chain order (driver, then toolkit, then
        device plugin): the later ones usually wait on it. `kubectl get pods -n
        gpu-operator -o wide` and the GPU203 findings show the failing pod and its log.
        Reason NoGPUNodes means NFD labelled no node pci-10de: check the NFD worker.

    Severity:
        Error by default. Info when the ClusterPolicy reports NoGPUNodes and the cluster
        has no GPU node, and info when no operator pod is failing or stuck while a GPU
        node younger than 10 minutes exists (its operands are still starting).
    """
    has_gpu_nodes = bool(gpu_nodes(snapshot))
    for cp in snapshot.clusterpolicies:
        st = cp.status or {}
        state = st.get("state")
        conds = st.get("conditions") or []
        ready_c = next((c for c in conds if c.get("type") == "Ready"), None)
        error_c = next((c for c in conds if c.get("type") == "Error" and c.get("status") == "True"), None)
        bad = state == "notReady" or (ready_c is not None and ready_c.get("status") == "False") or error_c is not None
        if not bad:
            continue
        ev = [f"ClusterPolicy {cp.metadata.name} status.state={state}"]
        ev += [f"condition {condition_text(c)}" for c in conds if c.get("status") != "True" or c.get("type") == "Error"]
        states = _states_not_ready(cp)
        related: list[ObjectRef] = []
        details = []
        for s in states:
            operand = OPERAND_BY_FIELD.get(STATE_TO_FIELD.get(s, ""))
            if operand is None:
                continue
            for ds in operand_daemonsets(snapshot, operand):
                related.append(ref(ds, "DaemonSet"))
                ev.append(_ds_counts(ds))
                failing = [pp for pp in (pod_problem(p) for p in _pods_of(snapshot, ds)) if pp and pp.failing]
                if failing:
                    ev.append(failing[0].describe())
                    details.append(f"{operand.title}: {failing[0].pod.metadata.name} {failing[0].status}")
        reason = (ready_c or error_c or {}).get("reason")
        severity = None
        nxt = ("; " + "; ".join(details[:3]) if details else "") + (
            "; start with the first operand in chain order (driver → toolkit → device plugin)"
        )
        if reason == "NoGPUNodes" and not has_gpu_nodes:
            severity = Severity.INFO
        elif not _anything_broken(snapshot):
            # Every scale-up turns the policy notReady until the new node's operands are up.
            young = [
                n.metadata.name for n, _ in gpu_nodes(snapshot) if (node_age(snapshot, n) or 1e9) < YOUNG_NODE_SECONDS
            ]
            if young:
                severity = Severity.INFO
                nxt = f"; operands are still starting on new node(s) {', '.join(young[:3])}: give them a few minutes"
                ev.append(f"no operand pod is failing or stuck; new GPU nodes: {', '.join(young)}")
        what = f"states not ready [{', '.join(states)}]" if states else f"reason {reason or 'unknown'}"
        yield clusterpolicy_not_ready.finding(
            f"ClusterPolicy {cp.metadata.name} is {state or 'not ready'}: {what}{nxt}",
            ref(cp, "ClusterPolicy"),
            severity=severity,
            related=related,
            evidence=ev,
        )


def _anything_broken(snapshot: ClusterSnapshot) -> bool:
    for p in operator_pods(snapshot):
        pp = pod_problem(p)
        if pp is not None and (pp.failing or is_stuck(snapshot, pp)):
            return True
    return False


def _pods_of(snapshot: ClusterSnapshot, ds: Object) -> list[Pod]:
    ns = ds.metadata.namespace or ""
    return [p for p in snapshot.pods_by_owner.get((ns, "DaemonSet", ds.metadata.name), [])]


_NO_BLOCKERS: tuple[Blocker, ...] = ()
_PlacementKey = tuple[int, int, str]


def _placement(
    snapshot: ClusterSnapshot, ds: Object, node: Node, operand: Operand | None
) -> tuple[str | None, Sequence[Blocker]]:
    """(why the operator would not place the operand on the node, what keeps the DaemonSet's
    pod off it): GPU202 and GPU205 ask for every operand DaemonSet and GPU node, so it is
    worked out once per snapshot. Keyed by the objects' ids, which the cache holds on to, so
    an id cannot come to mean another object. (Plain dicts, not an entry object per pair: what
    survives a run is what the garbage collector must walk.)"""
    held, not_placed, blockers = memo(
        snapshot,
        "operand_placement",
        lambda: (
            dict[int, Object | Node](),
            dict[_PlacementKey, str | None](),
            dict[_PlacementKey, Sequence[Blocker]](),
        ),
    )
    key = (id(ds), id(node), operand.field if operand is not None else "")
    if key not in not_placed:
        held[id(ds)] = ds
        held[id(node)] = node
        not_placed[key] = operand_not_placed(snapshot, node, operand) if operand is not None else None
        blockers[key] = daemonset_blockers(ds, node) or _NO_BLOCKERS
    return not_placed[key], blockers[key]


def _intended_for(blockers: Sequence[Blocker], operand: Operand | None) -> tuple[bool, Sequence[Blocker]]:
    """Is this DaemonSet meant to run on the node, and what keeps it off?

    A mismatch on any nodeSelector key other than the operand's deploy label means the
    DaemonSet targets other nodes (e.g. a per-OS driver variant): not meant for this one.
    """
    deploy_label = operand.deploy_label if operand else None
    for b in blockers:
        if b.kind in ("selector", "affinity") and b.label != deploy_label:
            return False, _NO_BLOCKERS
    return True, blockers


@check(
    "GPU202",
    "operand-daemonset-unavailable",
    Severity.ERROR,
    "GPU Operator operand not running on every GPU node",
    reads=("daemonsets", "pods", "nodes", "clusterpolicies"),
    fixes=(
        FixKind.CLUSTERPOLICY_TOLERATIONS,
        FixKind.ADD_TOLERATION,
    ),
)
def operand_daemonset_unavailable(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """An operand DaemonSet is not ready on every GPU node that needs it.

    What it checks:
        For each GPU Operator operand DaemonSet (driver, container toolkit, device plugin,
        GFD, DCGM exporter, validator, MIG manager, ...) and a standalone NVIDIA device
        plugin: its ready count against desired, and the GPU nodes the operator would place
        it on against the nodes that run it. The operator's rules decide: a node it sees as
        a GPU node (NFD pci-10de or nvidia.com/gpu.present), the operand not switched off in
        the ClusterPolicy (spec.<operand>.enabled: false) or on the node
        (nvidia.com/gpu.deploy.<operand>=false, gpu.deploy.operands=false), no container
        operands on sandbox workload nodes (gpu.workload.config vm-passthrough / vm-vgpu),
        the MIG manager only on MIG-capable GPUs (A100, A30, H100, H200, GH200, B200), no
        driver or toolkit where the node image ships them (EKS NVIDIA AMIs, Bottlerocket,
        which also runs the device plugin). Per node it says why: the deploy label missing
        or false, a node affinity mismatch, or the pod there failing, and how long the node
        has been up. Not counted: nodes younger than 10 minutes (NFD and the operator label
        them, pods start), nodes being deleted or disrupted by Karpenter, pods a rolling
        update is replacing within 10 minutes, pods younger than 10 minutes still starting
        (not failing), and nodes kept off only by an untolerated
        taint: GPU205 reports those once for all operands. AMD and Neuron nodes are not
        judged.

    Why it matters:
        A GPU node without the driver, toolkit or device plugin has no usable GPUs; without
        GFD or DCGM exporter it has no labels or metrics.

    How to fix:
        Taints: add them to ClusterPolicy spec.daemonsets.tolerations (GPU205). Missing
        deploy labels: check NFD and the gpu-operator log. Failing pods: see GPU203 for the
        container, reason and log.

    Severity:
        Always error: a GPU node without its operands has no usable GPUs.
    """
    nodes = gpu_nodes(snapshot)
    standalone = [d for d in device_plugin_daemonsets(snapshot) if d not in operand_daemonsets(snapshot, DEVICE_PLUGIN)]
    pairs = list(all_operand_daemonsets(snapshot)) + [(None, d) for d in standalone]
    cp = clusterpolicy(snapshot)
    for operand, ds in pairs:
        problems: list[str] = []
        taints: dict[tuple[Any, ...], Taint] = {}
        related: list[ObjectRef] = []
        young_pending = 0  # pods the DaemonSet counts but that are still allowed to be starting
        taint_only = 0
        should_run = 0
        missing_since: list[str] = []  # nodes without a pod past the first-boot window, with their age
        undiscovered: list[str] = []  # nodes NFD never marked as NVIDIA: the operator labels none of them
        rolling = _rollout_in_window(snapshot, ds)
        for node, _exp in nodes:
            name = node.metadata.name
            pods = daemonset_pods_on(snapshot, ds, name)
            not_placed, all_blockers = _placement(snapshot, ds, node, operand)
            if not_placed or node_in_transition(snapshot, node):
                matched = all(b.kind == "taint" for b in all_blockers)
                if matched and not any(pod_problem(p) is None for p in pods):
                    young_pending += 1  # the DaemonSet may still count the node; excused here
                continue
            meant, blockers = _intended_for(all_blockers, operand)
            if not meant:
                continue
            should_run += 1
            age = node_age(snapshot, node)
            young = (age if age is not None else 1e9) < YOUNG_NODE_SECONDS
            if not pods:
                deploy_label_only = bool(blockers) and all(
                    b.kind == "selector" and operand is not None and b.label == operand.deploy_label for b in blockers
                )
                if blockers and all(b.kind == "taint" for b in blockers):
                    taint_only += 1  # GPU205 reports these, once for all operands
                elif young and (not blockers or deploy_label_only):
                    young_pending += 1  # first boot: NFD and the operator label it within minutes
                elif rolling and not blockers:
                    young_pending += 1  # a rolling update replaces this node's pod
                elif blockers:
                    if not gpu_discovered(node):
                        undiscovered.append(name)
                    missing_since.append(name if age is None else f"{name} (up {age_text(age)})")
                    problems.append(f"no pod on {name}: " + "; ".join(b.text for b in blockers))
                    for b in blockers:
                        if b.taint is not None:
                            taints[(b.taint.key, b.taint.value, b.taint.effect)] = b.taint
                    related.append(ref(node, "Node"))
                else:
                    missing_since.append(name if age is None else f"{name} (up {age_text(age)})")
                    problems.append(f"no pod on {name} although nothing keeps it off (DaemonSet controller lagging?)")
                continue
            pp = next((x for x in (pod_problem(p) for p in pods) if x is not None), None)
            if pp is None:
                continue
            # Not failing and started within the window: a rolling update's last pod (the
            # counts already say "all updated"), a restarted or rescheduled pod; GPU203 calls
            # it stuck only after the same 10 minutes.
            if not pp.failing and (young or _young_pod(snapshot, pp.pod)):
                young_pending += 1
                continue
            if not pp.failing and upstream_failure(snapshot, name, operand.app if operand else None):
                young_pending += 1  # waits for a broken driver/toolkit: reported on that DaemonSet
                continue
            problems.append(f"on {name}: {pp.describe()}")
            related.append(ref(pp.pod, "Pod"))
        st = ds.status or {}
        desired, ready = st.get("desiredNumberScheduled"), st.get("numberReady")
        # Pods the DaemonSet wants but has not made ready, beyond the ones excused above.
        counts_bad = isinstance(desired, int) and isinstance(ready, int) and ready < desired - young_pending
        if not problems and not counts_bad:
            continue
        title = operand.title if operand else "standalone device plugin"
        ev = [_ds_counts(ds), f"GPU nodes that should run it: {should_run}"]
        ev += problems[:8]
        if len(problems) > 8:
            ev.append(f"... and {len(problems) - 8} more nodes")
        if missing_since:
            ev.append(
                f"no pod past the {YOUNG_NODE_SECONDS // 60}m first-boot window on: " + ", ".join(missing_since[:8])
            )
        if undiscovered:
            ev.append(
                f"no {LABEL_NFD_NVIDIA_PCI}=true or {LABEL_GFD_GPU_PRESENT}=true label, so the GPU Operator "
                f"does not see a GPU (check the NFD worker) on: {', '.join(undiscovered[:8])}"
            )
        fixes = []
        if taints:
            tl = list(taints.values())
            if cp is not None and (operand is not None or owned_by_clusterpolicy(ds)):
                fixes.append(fixplans.clusterpolicy_tolerations(cp, tl))
            else:
                fixes.append(fixplans.add_toleration(ds, tl, kind="DaemonSet"))
        if problems:
            short, count = problems[0], len(problems)
        else:
            short, count = f"only {ready} of {desired} pods ready", (desired or 0) - (ready or 0)
        yield operand_daemonset_unavailable.finding(
            f"DaemonSet {ds.metadata.namespace}/{ds.metadata.name} ({title}) is missing or not ready on "
            f"{count} GPU node(s): {short}",
            ref(ds, "DaemonSet"),
            related=related[:10],
            evidence=ev,
            fixes=fixes,
        )


def _young_pod(snapshot: ClusterSnapshot, pod: Pod) -> bool:
    age = snapshot.age_seconds(pod.metadata.creation_timestamp)
    return age is not None and age < YOUNG_NODE_SECONDS


def _rollout_in_window(snapshot: ClusterSnapshot, ds: Object) -> bool:
    """Is the DaemonSet rolling out a new template, started within the first-boot window?

    The start is the newest pod's creation: a rolling update replaces pods one node at a
    time, so a rollout whose newest pod is older than the window is stuck, not rolling."""
    st = ds.status or {}
    desired, updated = st.get("desiredNumberScheduled"), st.get("updatedNumberScheduled")
    generation, observed = ds.metadata.generation, st.get("observedGeneration")
    rolling = (isinstance(desired, int) and isinstance(updated, int) and updated < desired) or (
        isinstance(generation, int) and isinstance(observed, int) and observed < generation
    )
    if not rolling:
        return False
    ages = [snapshot.age_seconds(p.metadata.creation_timestamp) for p in _pods_of(snapshot, ds)]
    known = [a for a in ages if a is not None]
    return bool(known) and min(known) < YOUNG_NODE_SECONDS


@check(
    "GPU203",
    "operand-pod-failing",
    Severity.ERROR,
    "GPU Operator pod failing",
    reads=("pods", "events", "logs", "daemonsets"),
    fixes=(FixKind.RESTART_OPERAND_POD,),
)
def operand_pod_failing(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """A GPU Operator, operand, NFD or device-plugin pod that is crashing or stuck.

    What it checks:
        Every pod of the GPU Operator stack (operator, NFD, driver, toolkit, device plugin,
        GFD, DCGM, validator, MIG manager; a standalone device plugin too) in
        CrashLoopBackOff, Init:CrashLoopBackOff, Init:Error, ImagePullBackOff,
        RunContainerError, CreateContainerConfigError or Failed, or stuck in Init /
        ContainerCreating for more than 10 minutes. Evidence: the (init) container, reason,
        exit code, restart count, the last log lines that matter (previous run when it
        restarted) and the pod's warning events.

    Why it matters:
        Each operand is a link in the chain that gives a node usable GPUs. A crash-looping
        driver takes down everything after it on that node: the toolkit, the device plugin
        and the validator all wait in Init.

    How to fix:
        Read the log excerpt; the finding names the cause when it recognises the text.
        A driver image tag that does not exist for Amazon Linux or Bottlerocket means the
        AMI ships the driver: set driver.enabled=false (and toolkit.enabled=false where the
        AMI ships the toolkit), not a new image reference. A driver that cannot resolve or
        build for the node's kernel needs a pinned node image (EC2NodeClass
        amiSelectorTerms/alias version) or a driver for that kernel: restarting crashes the
        same way, so no restart is offered. Other causes: image pull errors (registry,
        pull secret); toolkit cannot write containerd's config; the device plugin cannot
        load NVML because the driver is not there. Fix the cause, then delete the pod so
        its DaemonSet recreates it.

    Severity:
        Always error: the failing operand blocks every link after it on its node.
    """
    roots: list[Any] = []
    blocked: dict[str, list[Any]] = {}
    for p in operator_pods(snapshot):
        pp = pod_problem(p)
        if pp is None:
            continue
        stuck = is_stuck(snapshot, pp)
        if not (pp.failing or stuck):
            continue
        up = None if pp.failing else upstream_failure(snapshot, p.spec.node_name, p.metadata.labels.get("app"))
        if up is not None:
            # Waiting behind a broken driver/toolkit on the same node: part of that story, not its own.
            blocked.setdefault(up.pod.metadata.name, []).append(pp)
            continue
        roots.append((pp, stuck))
    for pp, stuck in roots:
        yield _pod_failing_finding(snapshot, pp, stuck, blocked.get(pp.pod.metadata.name, []))


def _pod_failing_finding(snapshot: ClusterSnapshot, pp: PodProblem, stuck: bool, waiting: list[Any]) -> Finding:
    p = pp.pod
    ev = pod_evidence(snapshot, pp)
    if stuck:
        age = snapshot.age_seconds(p.status.start_time or p.metadata.creation_timestamp)
        ev.insert(1, f"in this state for about {age_text(age)}")
    if waiting:
        ev.append(
            "waiting behind it on the same node: " + ", ".join(f"{w.pod.metadata.name} ({w.status})" for w in waiting)
        )
    owner = next((r for r in p.metadata.owner_references if r.controller), None)
    related = []
    if owner is not None:
        related.append(ObjectRef(kind=owner.kind, name=owner.name, namespace=p.metadata.namespace))
    if p.spec.node_name:
        related.append(ObjectRef(kind="Node", name=p.spec.node_name))
    related += [ref(w.pod, "Pod") for w in waiting]
    rec = pod_recognition(snapshot, pp, node_context(snapshot, p))
    if rec is not None:
        ev.append(f"recognised: {rec.family}/{rec.cause}: {rec.headline}")
    # The driver image missing for the node's OS, a kernel the driver cannot build for, the operator's
    # driver on Bottlerocket: a restart fails the same way.
    no_restart = pp.reason in NO_RESTART_REASONS or (rec is not None and rec.family in IMAGE_LEVEL_FAMILIES)
    fixes = [] if no_restart else [fixplans.restart_operand_pod(p)]
    last_log = key_log_line(snapshot, p, pp.container)
    where = f" on {p.spec.node_name}" if p.spec.node_name else ""
    msg = f"{p.metadata.namespace}/{p.metadata.name}{where} is {pp.status}"
    detail = []
    if pp.container:
        detail.append(f"{'init container' if pp.init else 'container'} {pp.container}")
    if pp.exit_code is not None:
        detail.append(f"exit code {pp.exit_code}")
    if pp.restarts:
        detail.append(f"{pp.restarts} restarts")
    if detail:
        msg += f" ({', '.join(detail)})"
    if last_log:
        msg += f": {last_log}"
    elif pp.message:
        msg += f": {pp.message[:160]}"
    if waiting:
        msg += f"; {len(waiting)} other GPU Operator pod(s) on the node wait for it"
    if rec is not None:
        msg += f"; {rec.headline}: {rec.remedy_text}"
    elif pp.reason in NO_RESTART_REASONS:
        msg += "; fix the image reference or pull secret"
    elif stuck and pp.init:
        msg += "; it waits for an earlier link (driver/toolkit) on that node"
    elif pp.container:
        msg += (
            f"; read `kubectl logs -n {p.metadata.namespace} {p.metadata.name} -c {pp.container}"
            f"{' --previous' if pp.restarts else ''}`"
        )
    return operand_pod_failing.finding(msg, ref(p, "Pod"), related=related, evidence=ev, fixes=fixes)


@check(
    "GPU204",
    "nvidia-runtime-missing",
    Severity.ERROR,
    'containerd has no "nvidia" runtime on a GPU node',
    reads=("events", "pods", "daemonsets", "nodes"),
    fixes=(FixKind.RESTART_OPERAND_POD,),
)
def nvidia_runtime_missing(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """Pods fail to start because containerd has no "nvidia" runtime handler.

    What it checks:
        FailedCreatePodSandBox events whose message says `no runtime for "nvidia" is
        configured`, grouped per node, with the affected pods (operands and workloads use
        runtimeClassName: nvidia) and the container toolkit pod on that node.

    Why it matters:
        The nvidia RuntimeClass points at a containerd handler the NVIDIA Container
        Toolkit writes into containerd's config. Without it no pod using that runtime
        starts: the device plugin, GFD, DCGM and GPU workloads all hang in
        ContainerCreating.

    How to fix:
        Look at the toolkit pod on the node (`kubectl logs -n gpu-operator
        <nvidia-container-toolkit-daemonset-...>`): it must finish configuring containerd
        and restart it. If the AMI ships the toolkit (EKS NVIDIA AMIs) and the operator's
        toolkit is disabled, the AMI's containerd config must define the nvidia runtime.
        After fixing, restart the toolkit pod, then the stuck pods.

    Severity:
        Always error: no pod using the nvidia runtime starts on that node.
    """
    by_node: dict[str, list[Any]] = defaultdict(list)
    for e in snapshot.events_by_reason.get("FailedCreatePodSandBox", []):
        if not NO_NVIDIA_RUNTIME.search(e.message or ""):
            continue
        io = e.involved_object
        pod = snapshot.pod_by_key.get((io.namespace or "", io.name))
        node = (pod.spec.node_name if pod else None) or (e.source.host if e.source else None) or "?"
        by_node[node].append((e, pod))
    toolkit_ds = operand_daemonsets(snapshot, TOOLKIT)
    for node_name, items in sorted(by_node.items()):
        pods = sorted({f"{e.involved_object.namespace}/{e.involved_object.name}" for e, _ in items})
        ev = []
        for e, _ in items[-3:]:
            count = f" (x{e.count})" if e.count and e.count > 1 else ""
            ev.append(
                f"event FailedCreatePodSandBox{count} on pod {e.involved_object.namespace}/"
                f"{e.involved_object.name}: {e.message}"
            )
        related = [ObjectRef(kind="Pod", name=p.split("/", 1)[1], namespace=p.split("/", 1)[0]) for p in pods[:5]]
        fixes = []
        toolkit_state = "no container toolkit DaemonSet exists (toolkit expected from the node image)"
        for ds in toolkit_ds:
            related.append(ref(ds, "DaemonSet"))
            tk = daemonset_pods_on(snapshot, ds, node_name)
            if tk:
                pp = pod_problem(tk[0])
                toolkit_state = f"toolkit pod {tk[0].metadata.name} is {pp.status if pp else 'Running'}"
                if pp:
                    ev += pod_evidence(snapshot, pp)[1:]
                related.append(ref(tk[0], "Pod"))
                fixes.append(fixplans.restart_operand_pod(tk[0]))
            else:
                toolkit_state = f"no toolkit pod runs on the node ({ds.metadata.name})"
        ev.append(toolkit_state)
        subject = ObjectRef(kind="Node", name=node_name)
        yield nvidia_runtime_missing.finding(
            f'{len(pods)} pod(s) on {node_name} cannot start: containerd has no "nvidia" runtime configured '
            f"({toolkit_state}); the container toolkit must configure containerd on that node",
            subject,
            related=related,
            evidence=ev,
            fixes=fixes,
        )


def _gpu_nodepool_taints(snapshot: ClusterSnapshot) -> dict[tuple[Any, ...], tuple[Taint, list[Object]]]:
    out: dict[tuple[Any, ...], tuple[Taint, list[Object]]] = {}
    for np in snapshot.nodepools:
        if not serves_nvidia_gpus(snapshot, np):
            continue
        for t in nodepool_taints(np):
            if blocking_taint(t):
                out.setdefault((t.key, t.value, t.effect), (t, []))[1].append(np)
    return out


@check(
    "GPU205",
    "operand-taint-not-tolerated",
    Severity.ERROR,
    "GPU node taint not tolerated by GPU Operator operands",
    reads=("nodes", "daemonsets", "clusterpolicies", "nodepools"),
    fixes=(
        FixKind.CLUSTERPOLICY_TOLERATIONS,
        FixKind.ADD_TOLERATION,
    ),
)
def operand_taint_not_tolerated(snapshot: ClusterSnapshot) -> Iterator[Finding]:
    """GPU nodes (or GPU NodePools) carry a taint the operand DaemonSets do not tolerate.

    What it checks:
        Every NoSchedule/NoExecute taint on a GPU node, and on the template of a GPU
        NodePool, against the tolerations of the operand DaemonSets (driver, toolkit,
        device plugin, GFD, DCGM exporter, validator, ...). The GPU Operator's default
        toleration is only nvidia.com/gpu:NoSchedule (Exists), so a NodePool taint such as
        `gpu=true:NoSchedule` or `dedicated=ml:NoExecute` keeps every operand off the node.

    Why it matters:
        No driver, no toolkit, no device plugin: the node never advertises nvidia.com/gpu,
        Karpenter never marks it initialized (ResourceNotRegistered), and GPU pods stay
        Pending while the instance bills. A taint only on the NodePool bites with the next
        node Karpenter launches.

    How to fix:
        Add the taints to ClusterPolicy spec.daemonsets.tolerations (keep the existing
        entries: the list is replaced as a whole). With Helm, set the same in the chart
        value `daemonsets.tolerations`, or the next upgrade reverts it. The operator then
        re-renders all operand DaemonSets.

    Severity:
        Error when a GPU node carries a taint the operands do not tolerate. Warning when
        every such taint is only in a GPU NodePool's template, so no node has it yet but
        the next nodes the NodePool launches will.
    """
    operands = list(all_operand_daemonsets(snapshot))
    standalone = [d for d in device_plugin_daemonsets(snapshot) if d not in operand_daemonsets(snapshot, DEVICE_PLUGIN)]
    all_ds = [(o, d) for o, d in operands] + [(None, d) for d in standalone]
    if not all_ds:
        return
    # taint key -> (taint, nodes carrying it, DaemonSets not tolerating it)
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for node, _exp in gpu_nodes(snapshot):
        for operand, ds in all_ds:
            not_placed, blockers = _placement(snapshot, ds, node, operand)
            if not_placed:
                continue
            meant, _ = _intended_for(blockers, operand)
            if not meant:
                continue
            for t in (b.taint for b in blockers if b.taint is not None):
                entry = seen.setdefault((t.key, t.value, t.effect), {"taint": t, "nodes": [], "ds": [], "pools": []})
                if node.metadata.name not in entry["nodes"]:
                    entry["nodes"].append(node.metadata.name)
                if ds not in entry["ds"]:
                    entry["ds"].append(ds)
    preemptive: set[tuple[Any, ...]] = set()
    for key, (t, pools) in _gpu_nodepool_taints(snapshot).items():
        missing = [ds for _o, ds in all_ds if not any(tolerates(tol, t) for tol in daemonset_tolerations(ds))]
        if not missing:
            continue
        found = seen.get(key)
        if found is None:
            found = seen[key] = {"taint": t, "nodes": [], "ds": list(missing), "pools": []}
            preemptive.add(key)
        found["pools"].extend(p for p in pools if p not in found["pools"])
    if not seen:
        return
    cp = clusterpolicy(snapshot)
    taints = [e["taint"] for e in seen.values()]
    ev, related = [], []
    for e in seen.values():
        where = []
        if e["nodes"]:
            where.append(
                f"nodes {', '.join(e['nodes'][:5])}" + (f" (+{len(e['nodes']) - 5})" if len(e["nodes"]) > 5 else "")
            )
        if e["pools"]:
            where.append(f"NodePool {', '.join(p.metadata.name for p in e['pools'])} template")
        ev.append(
            f"taint {format_taint(e['taint'])} on {' and '.join(where)} is not tolerated by "
            f"{', '.join(d.metadata.name for d in e['ds'])}"
        )
        for p in e["pools"]:
            r = ref(p, "NodePool")
            if r not in related:
                related.append(r)
    for _o, ds in all_ds:
        if any(ds in e["ds"] for e in seen.values()):
            related.append(ref(ds, "DaemonSet"))
    all_preemptive = set(seen) == preemptive
    severity = Severity.WARNING if all_preemptive else None
    names = ", ".join(format_taint(t) for t in taints)
    n_nodes = len({n for e in seen.values() for n in e["nodes"]})
    scope = f"{n_nodes} GPU node(s)" if n_nodes else "no node yet, but every node the NodePool launches"
    if cp is not None:
        cur = (mapping(cp.spec.get("daemonsets")).get("tolerations")) or []
        ev.append(
            f"ClusterPolicy {cp.metadata.name} spec.daemonsets.tolerations: "
            + (", ".join(f"{t.get('key') or '*'}:{t.get('effect') or '*'}" for t in cur) or "none")
        )
        fix = fixplans.clusterpolicy_tolerations(cp, taints)
        yield operand_taint_not_tolerated.finding(
            f"Taint {names} on {scope} is not tolerated by the GPU Operator's operands, so no driver or "
            f"device plugin runs there; add it to ClusterPolicy {cp.metadata.name} spec.daemonsets.tolerations",
            ref(cp, "ClusterPolicy"),
            severity=severity,
            related=related,
            evidence=ev,
            fixes=[fix],
        )
        return
    for _o, ds in all_ds:
        mine = [e["taint"] for e in seen.values() if ds in e["ds"]]
        if not mine:
            continue
        yield operand_taint_not_tolerated.finding(
            f"DaemonSet {ds.metadata.namespace}/{ds.metadata.name} does not tolerate "
            f"{', '.join(format_taint(t) for t in mine)} on {scope}; add the toleration",
            ref(ds, "DaemonSet"),
            severity=severity,
            related=related,
            evidence=ev,
            fixes=[fixplans.add_toleration(ds, mine, kind="DaemonSet")],
        )
